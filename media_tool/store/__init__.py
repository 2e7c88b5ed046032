"""What the tool keeps on disk: atomic writes, the show lock, content hashes, and the build state.
"""
