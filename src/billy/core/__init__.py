"""Shared kernel: error codes, the clock, the task queue helper and the embedded database."""
