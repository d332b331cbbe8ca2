"""Unit checks of the reference server's arithmetic and parsing modules."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from valora_spec.reference._jsonschema import SchemaSet, errors_to_params
from valora_spec.reference._numbers import format_decimal, numeric_value
from valora_spec.reference._pricing import line_amount
from valora_spec.reference._spec import load_spec
from valora_spec.reference._times import format_us, parse_rfc3339, period_containing

TIERS = [{"up_to": 100, "unit_amount": "0", "flat_amount": 0},
         {"up_to": 1000, "unit_amount": "2", "flat_amount": 0},
         {"up_to": None, "unit_amount": "1", "flat_amount": 0}]


def _us(text: str) -> int:
    value = parse_rfc3339(text)
    assert value is not None
    return value


@pytest.mark.parametrize(
    ("value", "text"),
    [(Fraction(5, 2), "2.5"), (1500, "1500"), (0, "0"), (Fraction(-1, 3), "-0.333333333333"),
     (Fraction(2, 3), "0.666666666667"), (Fraction(1, 2 * 10**12), "0"),
     (Fraction(3, 2 * 10**12), "0.000000000002"), (Fraction(-1, 10**13), "0")],
)
def test_format_decimal(value: Fraction, text: str) -> None:
    assert format_decimal(value) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(3, Fraction(3)), (Decimal("2.5"), Fraction(5, 2)), ("1.25", Fraction(5, 4)), ("-7", -7),
     (True, None), ("1e3", None), ("abc", None), (None, None), (Decimal("1E+30"), None),
     (10**30, None), (Decimal("1E-999999999"), Fraction(0))],
)
def test_numeric_value(raw: object, expected: Fraction | None) -> None:
    assert numeric_value(raw) == expected


@pytest.mark.parametrize(
    ("mode", "quantity", "amount"),
    [("graduated", 1500, 2300), ("volume", 1500, 1500), ("graduated", 100, 0),
     ("volume", 100, 0), ("graduated", 101, 2), ("volume", 1000, 2000), ("volume", 1001, 1001),
     ("graduated", 0, 0)],
)
def test_tiers(mode: str, quantity: int, amount: int) -> None:
    price = {"model": "tiered", "tiers_mode": mode, "tiers": TIERS}
    assert line_amount(price, Fraction(quantity)) == amount


def test_rfc3339_parsing_is_strict() -> None:
    assert _us("2026-01-15T10:00:00+01:00") == _us("2026-01-15T09:00:00Z")
    assert format_us(_us("2026-01-15T10:00:00.1234567Z")) == "2026-01-15T10:00:00.123456Z"
    for bad in ("2026-01-15T10:00:00Z\n", "2026-02-30T00:00:00Z", "2026-01-15 10:00:00Z",
                "0000-01-01T00:00:00Z", "2026-01-15T24:00:00Z", "2026-01-15T10:00:00"):
        assert parse_rfc3339(bad) is None, bad


def test_monthly_periods_are_computed_from_the_anchor() -> None:
    start = _us("2026-01-31T12:00:00Z")
    expected = [("2026-01-31", "2026-02-28"), ("2026-02-28", "2026-03-31"),
                ("2026-03-31", "2026-04-30")]
    moments = ["2026-02-01T00:00:00Z", "2026-03-15T00:00:00Z", "2026-04-01T00:00:00Z"]
    for moment, (first, second) in zip(moments, expected, strict=True):
        begin, end = period_containing(start, "month", _us(moment))
        assert (format_us(begin)[:10], format_us(end)[:10]) == (first, second)
    leap = _us("2024-02-29T00:00:00Z")
    assert format_us(period_containing(leap, "year", _us("2025-06-01T00:00:00Z"))[0]) == (
        "2025-02-28T00:00:00Z")
    assert format_us(period_containing(leap, "year", _us("2028-03-01T00:00:00Z"))[0]) == (
        "2028-02-29T00:00:00Z")


def test_patterns_are_anchored_like_ecma_262() -> None:
    schemas = SchemaSet(load_spec("1.2.0"))
    validator = schemas.validator("#/components/schemas/CustomerCreate")
    good = {"external_id": "acme", "name": "A", "email": "a@b.co"}
    assert errors_to_params(validator.iter_errors(good)) == []
    bad = {**good, "external_id": "acme\n", "email": "a@b.co\n"}
    assert {p["name"] for p in errors_to_params(validator.iter_errors(bad))} == {
        "external_id", "email"}
