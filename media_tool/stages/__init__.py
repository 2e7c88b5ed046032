"""The per-episode stages behind one `Stage` protocol (`base`), each owning its core; the order they
run in is `pipeline.order`.
"""
