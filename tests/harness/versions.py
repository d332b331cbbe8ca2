"""The released spec versions as the harness tests see them, derived from spec/ on disk.

One place for the versions the tests name, so that releasing spec/1.3.0 needs no test edit: the
harness's own helpers list the folders (`released_versions`), compare them (`at_least`), group
them by minor line (`minor_line`) and label ranges (`range_label`); the requirements' `since` says
when a requirement came in.
"""

from __future__ import annotations

from valora_spec import _spec
from valora_spec._versions import at_least, minor_line, range_label

RELEASED: list[str] = _spec.released_versions()  # oldest first, patches included
OLDEST, NEWEST = RELEASED[0], RELEASED[-1]
_LINES = sorted({minor_line(v) for v in RELEASED})
FIRST_OF_EACH_MINOR = [next(v for v in RELEASED if minor_line(v) == line) for line in _LINES]
NEWEST_OF_EACH_MINOR = [[v for v in RELEASED if minor_line(v) == line][-1] for line in _LINES]
# The first release of every minor line but the newest: servers that are behind on purpose.
OLDER_MINORS = [v for v in FIRST_OF_EACH_MINOR if minor_line(v) != minor_line(NEWEST)]

# Fixed history: the fault catalogue and the variations were written against 1.2.0 (their `also`
# lists name what 1.2.0 requires), so their servers, and the controls beside them, stay at 1.2.0
# whatever is released later; a newer release is judged by the runs against the plain reference.
TARGET = "1.2.0"
assert TARGET in RELEASED, f"spec/{TARGET} is gone: the fault catalogue must be rebased"

_SINCE = {r["id"]: r["since"] for r in _spec.load_requirements()}


def same_line(version: str) -> list[str]:
    """Every release of `version`'s minor line (its patches behave alike), oldest first."""
    return [v for v in RELEASED if minor_line(v) == minor_line(version)]


def newer_lines(version: str) -> list[str]:
    """Every release of a minor line after `version`'s."""
    return [v for v in RELEASED if minor_line(v) > minor_line(version)]


def up_to_line(version: str) -> list[str]:
    """Every release up to and including `version`'s minor line."""
    return [v for v in RELEASED if minor_line(v) <= minor_line(version)]


def since(requirement: str) -> str:
    """The version that introduced `requirement` (VAL-…), per spec/requirements.yaml."""
    return _SINCE[requirement]


def introduced_after(version: str, up_to: str) -> set[str]:
    """The requirements a server behaving as `version` lacks when it claims `up_to`."""
    return {r for r, first in _SINCE.items()
            if not at_least(version, first) and at_least(up_to, first)}


def label(newest: str) -> str:
    """The range label of a server that passes every version from OLDEST to `newest`'s line."""
    return range_label(OLDEST, newest)
