"""Text: transcripts (values, formats, alignment) and show notes (Markdown, sanitising, clocks).
"""
