"""The Valora conformance harness: run it with `pytest conformance`."""

__version__ = "0.1.0"
