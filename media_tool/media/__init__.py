"""Shared media helpers below the stages: the one ffmpeg runner, probing, decoding for the models,
loudness metering, verification, burned-in captions.
"""
