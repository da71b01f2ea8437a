"""Shared pieces of the diff reports: the headline, price text per 1M tokens, the JSON document."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costctl.money import number, rounded
from costctl.pricing import FIELD_LABELS, MAIN_FIELDS, Price, is_token_price
from costctl.report.common import plain_structure, safe
from costctl.report.reconcile_common import money, money_short
from costctl.results import DiffResult

MARKER = "<!-- costctl-diff -->"  # a bot finds its comment by this line and edits it in place


def label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def price_1m(name: str, price: Price | None) -> str:
    """A price as shown in reports: per 1M tokens for token prices."""
    if price is None:
        return "—"
    if price.structured is not None:
        return "(table)"
    if price.value is None:
        return "$0 (none)" if price.source == "none" else "per model"
    value = price.value * 1_000_000 if is_token_price(name) else price.value
    return f"{value:.2f}" if value == rounded(value, Decimal("0.01")) else number(value)


def shown_fields(change: Any) -> tuple[list[Any], int]:
    """The main price fields of a change (input, output, cache read/write) for the compact
    reports, and how many other fields changed (JSON lists every one)."""
    main = [f for f in change.fields if f.name in MAIN_FIELDS]
    return main, len(change.fields) - len(main)


def signed_usd(value: Decimal) -> str:
    """+$1,240.50, -$0.0120, ±$0: cents from a dollar up, more digits below."""
    size = abs(value)
    text = f"{size:,.2f}" if size >= 1 else money_short(size) if size else "0"
    return ("+" if value > 0 else "-" if value < 0 else "±") + "$" + text


def days(n: int | None) -> str:
    return "an unknown window" if not n else f"{n} day{'s' * (n != 1)}"


def counts(result: DiffResult) -> dict[str, int]:
    out = {kind: 0 for kind in ("changed", "added", "removed")}
    for c in result.changes:
        out[c.kind] += 1
    return out


def headline(result: DiffResult) -> str:
    """One line: the projected monthly change and what drives it, or the count of changes."""
    n = counts(result)
    changed = (f"{n['changed']} repriced, {n['added']} added, {n['removed']} removed"
               if any(n.values()) else "no price changes")
    p = result.projection
    if p is None:
        return f"costctl diff: {changed} (no --usage: no spend projection)"
    pct = p.delta_pct
    pct_part = f" ({pct:+.1f}%)" if pct is not None else ""
    if p.monthly_delta is not None:
        amount = f"{signed_usd(p.monthly_delta)}/month{pct_part}"
    else:
        amount = f"{signed_usd(p.delta)} over the log{pct_part} (no timestamps: not scaled to a month)"
    driver = _driver(result)
    return f"costctl diff: {amount}{', mostly ' + driver if driver else ''}; {changed}"


def _driver(result: DiffResult) -> str | None:
    """The model group that moves most, and its first changed price."""
    p = result.projection
    if p is None or not p.groups:
        return None
    top = p.sorted_groups()[0]
    if top.delta == 0:
        return None
    for c in result.changes:
        if c.kind == "changed" and c.model_name == top.model_group:
            for f in c.fields:
                if f.old is not None and f.new is not None and f.old.value is not None and f.new.value is not None:
                    unit = " per 1M" if is_token_price(f.name) else ""
                    return (f"{safe(top.model_group)} {label(f.name)} price {price_1m(f.name, f.old)} → "
                            f"{price_1m(f.name, f.new)}{unit}")
    return f"{safe(top.model_group)} ({signed_usd(top.delta)} over the log)"


def _price_json(price: Price | None) -> Any:
    if price is None:
        return None
    if price.structured is not None:
        return plain_structure(price.structured)
    return None if price.value is None else number(price.value)


def document(result: DiffResult) -> dict[str, Any]:
    """The JSON report (prices per single token, money as exact strings)."""
    p = result.projection
    projection = None
    if p is not None:
        projection = {
            "window_days": p.window_days,
            "first_day": p.first_day.isoformat() if p.first_day else None,
            "last_day": p.last_day.isoformat() if p.last_day else None,
            "rows_read": p.rows_read,
            "rows": p.rows,
            "skipped_by_reason": dict(sorted(p.skipped_by_reason.items())),
            "base_usd": money(p.base),
            "head_usd": money(p.head),
            "delta_usd": money(p.delta),
            "delta_pct": None if p.delta_pct is None else money(rounded(p.delta_pct, Decimal("0.000001"))),
            "monthly_delta_usd": None if p.monthly_delta is None else money(
                rounded(p.monthly_delta, Decimal("0.000001"))),
            "unroutable_rows": p.unroutable_rows,
            "unroutable_base_usd": money(p.unroutable_base),
            "groups": [
                {"model_group": safe(g.model_group), "rows": g.rows, "base_usd": money(g.base),
                 "head_usd": money(g.head), "delta_usd": money(g.delta),
                 "delta_pct": None if g.base == 0 else money(rounded(g.delta / g.base * 100, Decimal("0.000001"))),
                 "unroutable_rows": g.unroutable_rows, "unroutable_base_usd": money(g.unroutable_base)}
                for g in p.sorted_groups()
            ],
        }
    return {
        "schema_version": 1,
        "command": "diff",
        "catalog": result.catalog.stamp(),
        "base_catalog": result.base_catalog.stamp(),
        "base": safe(result.base_name),
        "head": safe(result.head_name),
        "headline": headline(result),
        "summary": {**counts(result), "unchanged": result.unchanged},
        "changes": [
            {"kind": c.kind, "model_name": safe(c.model_name), "deployment_id": safe(c.deployment_id),
             "base_deployment_id": safe(c.base.deployment.deployment_id) if c.base else None,
             "model": safe((c.head or c.base).deployment.model),
             "fields": {f.name: {"old": _price_json(f.old), "new": _price_json(f.new),
                                 "old_source": f.old.source if f.old else None,
                                 "new_source": f.new.source if f.new else None} for f in c.fields}}
            for c in result.changes
        ],
        "projection": projection,
        "usage": result.usage,
        "failures": result.failures,
    }
