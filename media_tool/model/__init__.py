"""The show as values (the ground floor): settings, the show and episode files read and checked, the
glossary, the language policy. Nothing here runs a tool.
"""
