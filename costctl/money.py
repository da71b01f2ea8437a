"""Exact decimal text for prices and money: never an exponent, never a float."""

from __future__ import annotations

from decimal import Decimal


def number(value: Decimal | None) -> str:
    """`0.0000025`, `2.5`, `0`; empty for None."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")
