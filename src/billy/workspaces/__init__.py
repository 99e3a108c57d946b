"""Workspaces (one per product service) and the API keys that may act in them.

A workspace carries its Balance service settings: the service id and the one partner
configuration every client of the workspace is linked to. An API key is a long random secret of
which only the SHA-256 is stored; it is shown once, granted one or more workspaces, and revocable.
"""
