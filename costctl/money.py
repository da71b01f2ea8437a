"""Exact decimal text for prices and money: never an exponent, never a float."""

from __future__ import annotations

from decimal import Decimal, localcontext


def number(value: Decimal | None) -> str:
    """`0.0000025`, `2.5`, `0`; empty for None."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def rounded(value: Decimal, places: Decimal) -> Decimal:
    """`value` rounded to the exponent of `places` (half-even), however many digits it has: a
    plain quantize fails beyond the context's 28 digits (a spend of 1e30, a price of 1e20)."""
    with localcontext() as context:
        context.prec = max(context.prec, value.adjusted() - places.adjusted() + 2)
        return value.quantize(places)
