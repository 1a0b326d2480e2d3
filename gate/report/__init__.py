"""Reporters: each reads a `Verdict` and writes bytes. One module per output format."""
