"""The status vocabulary and its precedence (DESIGN §5)."""

from __future__ import annotations

PASS = "pass"
FAIL = "fail"
SKIP = "skip"
ERROR = "error"
WAIVED = "waived"
NOT_APPLICABLE = "n/a"
# A profile, and the run, is incomplete when nothing failed but not everything could be judged
# (a harness error, a skipped MUST, an interrupted run): never a verdict on the server.
INCOMPLETE = "incomplete"
VERDICTS = (PASS, FAIL, INCOMPLETE)

OUTCOME_STATUSES = (PASS, FAIL, SKIP, ERROR)
STATUSES = (PASS, FAIL, ERROR, SKIP, WAIVED)

# A (requirement, version) cell takes the first status that any of its outcomes has.
PRECEDENCE = (FAIL, ERROR, PASS, SKIP)

NO_CHECK_RAN = "no check ran"
