"""The pipeline: the stages in order, the build over a show (and `status`), and the one-file
commands, all calling the stages' cores.
"""
