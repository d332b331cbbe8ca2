"""The status vocabulary and its precedence (DESIGN §5)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What a check found for a requirement, and what a requirement, profile or run comes to.

    Members are strings ("pass", …), so records and reports stay plain JSON.
    """

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"  # about the harness, never about the server
    WAIVED = "waived"
    NOT_APPLICABLE = "n/a"
    # A profile, and the run, is incomplete when nothing failed but not everything could be
    # judged (a harness error, a skipped MUST, an interrupted run): never a verdict on the server.
    INCOMPLETE = "incomplete"


VERDICTS = (Status.PASS, Status.FAIL, Status.INCOMPLETE)
OUTCOME_STATUSES = (Status.PASS, Status.FAIL, Status.SKIP, Status.ERROR)
STATUSES = (Status.PASS, Status.FAIL, Status.ERROR, Status.SKIP, Status.WAIVED)

# A (requirement, version) cell takes the first status that any of its outcomes has.
PRECEDENCE = (Status.FAIL, Status.ERROR, Status.PASS, Status.SKIP)

NO_CHECK_RAN = "no check ran"
