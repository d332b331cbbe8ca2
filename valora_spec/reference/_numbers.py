"""Exact decimal arithmetic: values as `Fraction`, never binary floats.

Request bodies are parsed with JSON numbers as `int` or `Decimal`; computations use `Fraction`;
results leave as decimal strings (`"2.5"`, `"1500"`, `"0"`) or integers of minor units.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal
from fractions import Fraction

# Decimal places of every decimal string the API returns (VAL-MONEY-002).
DECIMAL_PLACES = 12
_SCALE = 10**DECIMAL_PLACES

# Values this large cannot be written in the spec's Decimal type (at most 40 characters, sign and
# 12 fractional digits included): ignored as event values, refused as results (VAL-METER-003).
_MAX_MAGNITUDE_EXPONENT = 26
MAX_MAGNITUDE = 10**_MAX_MAGNITUDE_EXPONENT
# Billed amounts are signed 64-bit integers (VAL-MONEY-001).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Digits below this are far beneath the 12 returned places; dropping them bounds the work.
_KEPT_PLACES = 40

# Wide enough for every kept value: 27 integer digits plus 40 places.
_WIDE = Context(prec=100)

# The spec's decimal grammar `^-?[0-9]+(\.[0-9]{1,12})?$` (VAL-MONEY-002, VAL-METER-006).
_DECIMAL_STRING = re.compile(r"-?[0-9]+(?:\.[0-9]{1,12})?\Z", re.ASCII)


def numeric_value(value: object) -> Fraction | None:
    """The exact number a usage event value stands for, or None when it is not numeric.

    Numeric means a JSON number or a string of the spec's decimal grammar (VAL-METER-006):
    "1e3", " 2.5", "1_000", "٣", 13 fractional digits, booleans, null, objects and arrays are
    not. Magnitudes of 10^27 or more, beyond the Decimal type, are ignored too (the spec's MAY).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Fraction(value) if abs(value) < 10**_MAX_MAGNITUDE_EXPONENT else None
    if isinstance(value, str):
        if not _DECIMAL_STRING.match(value):
            return None
        value = Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        if not value.is_zero() and value.adjusted() >= _MAX_MAGNITUDE_EXPONENT:
            return None
        if value.as_tuple().exponent < -_KEPT_PLACES:  # type: ignore[operator]
            if value.adjusted() < -_KEPT_PLACES:
                return Fraction(0)
            value = _WIDE.quantize(value, Decimal(1).scaleb(-_KEPT_PLACES))
        return Fraction(value)
    return None


def round_half_even(value: Fraction) -> int:
    """Round to an integer, ties to even (Python's `round` on a Fraction does exactly that)."""
    return round(value)


def format_decimal(value: Fraction | int) -> str:
    """Decimal string rounded half-even to 12 places, without exponent or trailing zeros."""
    scaled = round_half_even(Fraction(value) * _SCALE)
    digits = str(abs(scaled)).rjust(DECIMAL_PLACES + 1, "0")
    whole, fraction = digits[:-DECIMAL_PLACES], digits[-DECIMAL_PLACES:].rstrip("0")
    text = whole + ("." + fraction if fraction else "")
    return "-" + text if scaled < 0 else text


def parse_decimal_string(text: str) -> Fraction:
    """A decimal string that already passed the spec's pattern."""
    return Fraction(Decimal(text))


def string_form(value: object) -> str | None:
    """The string a value counts as for UNIQUE_COUNT and group keys (VAL-METER-004, -009).

    Strings are themselves, booleans their JSON text, numbers their plain decimal form, so that
    1, 1.0 and "1" are one value while "1.0" (a string) is another. Null, objects and arrays
    have none: UNIQUE_COUNT does not count them, group_by puts them under key null.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) <= _PLAIN_DIGITS:
        return _plain(value)
    return None  # objects, arrays, null; and exponents whose plain form would be megabytes


# Plain forms are written out up to this many digits (Python's own limit for int text).
_PLAIN_DIGITS = 4300


def _plain(value: Decimal) -> str:
    """No exponent, no trailing fractional zeros, -0 as 0: exact at any precision."""
    if value.is_zero():
        return "0"
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    if exponent >= 0:
        text += "0" * exponent
    else:
        whole, fraction = text[:exponent] or "0", text[exponent:].rjust(-exponent, "0")
        whole = whole.lstrip("0") or "0"
        fraction = fraction.rstrip("0")
        text = whole + ("." + fraction if fraction else "")
    return "-" + text if sign else text
