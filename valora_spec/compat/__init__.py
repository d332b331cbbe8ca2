"""Semver compatibility between two versions of an OpenAPI 3.1 contract.

PATCH changes only words, MINOR only adds, MAJOR may break:

    result = compare(old_document, new_document)
    result.required_bump  # Bump.MINOR
    result.changes        # one Change per root cause, with every place it affects
"""

from ._compare import compare
from ._errors import CompatError, PolicyError, SpecError
from ._model import Bump, Change, CompatResult, Location
from ._policy import DEFAULT_POLICY_PATH, Policy, load_policy
from ._rules import RULES

__all__ = [
    "DEFAULT_POLICY_PATH",
    "RULES",
    "Bump",
    "Change",
    "CompatError",
    "CompatResult",
    "Location",
    "Policy",
    "PolicyError",
    "SpecError",
    "compare",
    "load_policy",
]
