"""Activations: pushing topics to ad platforms. Platform clients, encrypted credentials,
the rules for stale segments, and the refresh and Trade Desk sync jobs.
"""
