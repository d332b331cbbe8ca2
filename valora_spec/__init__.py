"""Valora Spec: the Valora billing API contract and the conformance harness for it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("valora-spec")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
