"""Normalize: the stage, its core, and the helpers only it uses (jingles, MP3 splitting, denoise).
"""
