"""Translate: the stage and its core (the policy).
"""
