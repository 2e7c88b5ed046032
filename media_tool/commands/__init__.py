"""The show-level commands besides the build: check, new, serve, publish (the upload), reference.
"""
