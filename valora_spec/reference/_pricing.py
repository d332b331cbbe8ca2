"""Line amounts by price model, computed exactly and rounded once, half-even (VAL-MONEY-004).

Rates (`unit_amount`) are already in the currency's minor unit: `unit_amount` "2" on EUR is
2 cents per unit, so an amount is `round_half_even(rate × quantity)` with no exponent scaling.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from valora_spec.reference._numbers import parse_decimal_string, round_half_even


def line_amount(price: dict[str, Any], quantity: Fraction) -> int:
    """The amount in minor units for `quantity` of `price` (VAL-PRICE-001, 002, 005)."""
    model = price["model"]
    if model == "flat":
        exact = Fraction(price["flat_amount"]) * quantity
    elif model == "per_unit":
        exact = parse_decimal_string(price["unit_amount"]) * quantity
    elif model == "tiered":
        if price["tiers_mode"] == "graduated":
            exact = graduated(price["tiers"], quantity)
        else:
            exact = volume(price["tiers"], quantity)
    elif model == "package":
        # no package for a quantity of 0 or less (VAL-PRICE-005)
        packages = math.ceil(quantity / price["package_size"]) if quantity > 0 else 0
        exact = Fraction(packages * price["package_amount"])
    else:
        raise ValueError(f"unknown price model {model}")
    return round_half_even(exact)


def graduated(tiers: list[dict[str, Any]], quantity: Fraction) -> Fraction:
    """Each unit at the rate of the tier it falls in, plus each reached tier's flat amount."""
    total = Fraction(0)
    lower = Fraction(0)
    for tier in tiers:
        if quantity <= lower:
            break
        upper = quantity if tier["up_to"] is None else min(quantity, Fraction(tier["up_to"]))
        total += parse_decimal_string(tier["unit_amount"]) * (upper - lower)
        total += tier.get("flat_amount", 0)
        if tier["up_to"] is None:
            break
        lower = Fraction(tier["up_to"])
    return total


def volume(tiers: list[dict[str, Any]], quantity: Fraction) -> Fraction:
    """Every unit at the rate of the tier the whole quantity falls in, plus its flat amount."""
    for tier in tiers:
        if tier["up_to"] is None or quantity <= tier["up_to"]:
            rate = parse_decimal_string(tier["unit_amount"])
            return rate * quantity + tier.get("flat_amount", 0)
    return Fraction(0)  # unreachable: the last tier is open (VAL-PRICE-003)
