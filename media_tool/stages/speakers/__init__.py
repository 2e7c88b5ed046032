"""Speakers: who spoke when (the stage and its core).
"""
