"""Shared pieces of the reconcile reports: money text, percentages, the summary as plain data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costctl.money import number, rounded


def money(value: Decimal) -> str:
    """Exact USD text (no exponent, no rounding)."""
    return number(value) if value != 0 else "0"


def money_short(value: Decimal) -> str:
    """USD rounded for a table cell: 4 decimals, or 8 for sub-cent amounts."""
    places = Decimal("0.0001") if abs(value) >= Decimal("0.01") or value == 0 else Decimal("0.00000001")
    return f"{rounded(value, places):,}"


def pct(delta: Decimal, expected: Decimal) -> Decimal | None:
    return None if expected == 0 else delta / expected * 100


def pct_text(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:+.4f}%"


def summary_data(result: Any) -> dict[str, Any]:
    t = result.outcome.totals
    return {
        "rows_read": t.rows_read,
        "rows_reconciled": t.rows_reconciled,
        "rows_skipped": t.rows_skipped,
        "skipped_by_reason": dict(sorted(t.skipped_by_reason.items())),
        "skip_examples": [{"file": f, "line": ln, "reason": r, "detail": d} for f, ln, r, d in t.skip_examples],
        "duplicate_request_ids": t.duplicate_request_ids,
        "recorded_usd": money(t.recorded),
        "expected_usd": money(t.expected),
        "delta_usd": money(t.delta),
        "abs_drift_usd": money(t.abs_drift),
        "mismatched_rows": t.mismatched_rows,
        "mismatches_by_cause": dict(sorted(t.mismatches_by_cause.items())),
        "unpriced_rows": t.unpriced_rows,
        "unpriced_tokens": t.unpriced_tokens,
    }
