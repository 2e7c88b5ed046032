"""Model backends behind small protocols: Whisper engines (and their guards and weights) and
translation backends.
"""
