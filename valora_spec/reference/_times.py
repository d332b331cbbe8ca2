"""RFC 3339 times as integer microseconds since the Unix epoch (UTC), and calendar arithmetic.

Every time is stored and compared as an int of microseconds: exact, sortable, cheap.
Digits of a fraction beyond the microsecond are truncated.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime, timedelta

US_PER_SECOND = 1_000_000
US_PER_HOUR = 3600 * US_PER_SECOND
US_PER_DAY = 24 * US_PER_HOUR
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Strict RFC 3339 date-time; `\Z` (not `$`) so that a trailing newline is not accepted.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))\Z",
    re.ASCII,
)


def parse_rfc3339(text: str) -> int | None:
    """Microseconds since the epoch for an RFC 3339 date-time, or None when it is not one."""
    match = _RFC3339.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    fraction = match.group(7) or ""
    # A leap second (23:59:60) counts as the first instant of the next second.
    leap = second == 60 and hour == 23 and minute == 59
    if leap:
        second = 59
    if not (1 <= month <= 12 and 1 <= year and hour <= 23 and minute <= 59 and second <= 59):
        return None
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    offset = 0
    if match.group(9):
        off_hours, off_minutes = int(match.group(10)), int(match.group(11))
        if off_hours > 23 or off_minutes > 59:
            return None
        offset = (off_hours * 60 + off_minutes) * 60 * US_PER_SECOND
        if match.group(9) == "-":
            offset = -offset
    local = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    micros = int((fraction + "000000")[:6])
    value = to_us(local) + (US_PER_SECOND if leap else micros) - offset
    # The UTC instant must still be representable (year 1 to 9999).
    if not MIN_US <= value <= MAX_US:
        return None
    return value


def to_us(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def format_us(value: int) -> str:
    """RFC 3339 in UTC with `Z`; microseconds only when there are any."""
    moment = from_us(value)
    # Explicit widths: strftime's %Y drops the leading zeros of years before 1000.
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def format_optional(value: int | None) -> str | None:
    return None if value is None else format_us(value)


def now_us() -> int:
    return time.time_ns() // 1000


MIN_US = to_us(datetime(1, 1, 1, tzinfo=UTC))
MAX_US = to_us(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later, the day clamped to the month's length (Jan 31 + 1 month = Feb 28/29)."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_intervals(start_us: int, interval: str, count: int) -> int:
    """`start + count × interval`, always computed from the anchor so that month-end days recover."""
    if interval == "day":
        result = start_us + count * US_PER_DAY
    elif interval == "week":
        result = start_us + count * 7 * US_PER_DAY
    else:
        months = count * (12 if interval == "year" else 1)
        result = to_us(add_months(from_us(start_us), months))
    if not MIN_US <= result <= MAX_US:
        raise OverflowError("date out of range")
    return result


def period_containing(start_us: int, interval: str, moment_us: int) -> tuple[int, int]:
    """The billing period `[start + k·interval, start + (k+1)·interval)` holding `moment_us`.

    Before the start this is the first period.
    """
    if moment_us < start_us:
        return start_us, add_intervals(start_us, interval, 1)
    if interval in ("day", "week"):
        length = US_PER_DAY * (7 if interval == "week" else 1)
        k = (moment_us - start_us) // length
    else:
        start, moment = from_us(start_us), from_us(moment_us)
        months = (moment.year - start.year) * 12 + (moment.month - start.month)
        k = max(0, months // (12 if interval == "year" else 1))
    # Month lengths vary: nudge k until the period really holds the moment.
    while k > 0 and add_intervals(start_us, interval, k) > moment_us:
        k -= 1
    while add_intervals(start_us, interval, k + 1) <= moment_us:
        k += 1
    return add_intervals(start_us, interval, k), add_intervals(start_us, interval, k + 1)
