"""Clips: the stage and its core (layout and rendering).
"""
