"""Transcribe: the stage and its core.
"""
