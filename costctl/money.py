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


def readable(value: Decimal) -> str:
    """A number for a message: `number`'s exact text, unless it runs past 24 characters (a
    price of 1e999 has a thousand digits), then in scientific notation with 6 significant digits."""
    text = number(value)
    if len(text) <= 24:
        return text
    return f"{value:.6g}" if value.is_finite() else str(value)
