"""Every kind of failure schemathesis can report is mapped to a requirement by class, or belongs to
a check the harness does not run; a new kind in a schemathesis release fails here until decided."""

from __future__ import annotations

import inspect

import pytest
from schemathesis.core import failures
from schemathesis.openapi import checks

from valora_spec.conformance import _fuzz

# failures of schemathesis checks the harness does not run (it judges those rules itself)
NOT_RUN = {"AllowHeaderMismatch", "CustomFailure", "EnsureResourceAvailability", "IgnoredAuth",
           "ObjectLevelAuthorizationViolation", "RejectedPositiveData", "ResponseTimeExceeded",
           "UseAfterFree"}


def _kinds() -> set[type]:
    return {cls for module in (failures, checks) for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, failures.Failure) and cls is not failures.Failure}


def test_every_failure_kind_is_mapped_or_not_run() -> None:
    unmapped = {kind.__name__ for kind in _kinds() if not any(k in _fuzz.FAILURES for k in kind.__mro__)}
    assert unmapped == NOT_RUN


def test_an_unknown_failure_kind_is_a_harness_error_not_a_verdict() -> None:
    class NewKind(failures.Failure):
        def __init__(self) -> None:
            Exception.__init__(self, "something new")
            self.message = "something new"

    with pytest.raises(_fuzz.UnmappedFailure, match="NewKind"):
        _fuzz.requirement_of(NewKind())
    assert _fuzz.requirement_of(failures.ServerError.__new__(failures.ServerError)) == "VAL-ERR-006"
