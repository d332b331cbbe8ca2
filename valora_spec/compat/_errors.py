"""Errors the compat package raises on bad input (never on a finding)."""


class CompatError(Exception):
    """Base class: the CLI turns these into one line on stderr and exit 2."""


class SpecError(CompatError):
    """A spec cannot be read, parsed or resolved."""


class PolicyError(CompatError):
    """A policy file is missing, malformed or names an unknown rule."""
