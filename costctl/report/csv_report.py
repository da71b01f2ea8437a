"""CSV: one row per deployment and field, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from costctl.money import rounded
from costctl.pricing import is_token_price
from costctl.report.common import UNITS, RenderOptions, number, origin_text, safe, shown_fields
from costctl.results import ReconcileResult, ShowResult

HEADER = ["model_name", "model", "provider", "deployment_id", "catalog_key", "file", "line", "wildcard",
          "field", "value", "unit", "source", "origin"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_row(writer: Any, quoting_writer: Any, cells: list[str]) -> None:
    """One CSV row; a row with a carriage return in a cell is written fully quoted (Python's
    csv module quotes only the line terminator's characters, and a bare CR splits the row in
    spreadsheet readers)."""
    (quoting_writer if any("\r" in c for c in cells) else writer).writerow(cells)


def writers(buf: io.StringIO) -> tuple[Any, Any]:
    return (csv.writer(buf, lineterminator="\n"),
            csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL))


def neutralise(cell: object) -> str:
    """Spreadsheet-safe text: a cell that starts like a formula is prefixed with `'`
    (numbers are left alone, so `-0.5` stays a number)."""
    text = "" if cell is None else str(cell)
    if text.startswith(_FORMULA_START):
        try:
            float(text)
            return text
        except ValueError:
            return "'" + text
    return text


class CsvFormatter:
    name = "csv"

    def show(self, result: ShowResult, opts: RenderOptions) -> str:
        buf = io.StringIO()
        writer, quoting = writers(buf)
        writer.writerow(HEADER)
        for ep in result.deployments:
            d = ep.deployment
            for name in shown_fields(ep, opts.all_fields):
                p = ep.prices[name]
                token = is_token_price(name)
                value = "" if p.structured is not None else number(
                    (p.value * UNITS[opts.unit]) if (p.value is not None and token) else p.value)
                if p.source == "none":
                    value = "0"
                user = [safe(d.model_name), safe(d.model), ep.provider or "", safe(d.deployment_id),
                        safe(ep.catalog_key or ""), d.file]  # the config's text: guarded
                # costctl's own words are never a formula (a fallback reads "same as <field>")
                origin = origin_text(p) if p.source != "fallback" else f"same as {p.origin}"
                ours = [str(d.line), str(d.wildcard).lower(), name, value, opts.unit if token else "", p.source,
                        origin if p.source == "fallback" else neutralise(origin)]
                write_row(writer, quoting, [neutralise(c) for c in user] + ours)
        return buf.getvalue()

    def reconcile(self, result: ReconcileResult, opts: RenderOptions) -> str:
        """One row per group (every mismatched row: --mismatches-out)."""
        from costctl.report.reconcile_common import money, pct

        buf = io.StringIO()
        writer, quoting = writers(buf)
        writer.writerow([*result.options.group_by, "rows", "prompt_tokens", "completion_tokens", "recorded_usd",
                         "expected_usd", "delta_usd", "delta_pct", "mismatched_rows", "unpriced_rows"])
        for g in result.outcome.groups:
            p = pct(g.delta, g.expected)
            row = [*[safe(v) for v in g.key], g.rows, g.prompt_tokens, g.completion_tokens, money(g.recorded),
                   money(g.expected), money(g.delta), "" if p is None else money(rounded(p, Decimal("0.000001"))),
                   g.mismatched, g.unpriced_rows]
            write_row(writer, quoting, [neutralise(c) for c in row])
        return buf.getvalue()
