"""The published site in feed/: feeds and pages collected as values (`collect`), written by one
writer (`write`); the page templates are in `templates/`.
"""
