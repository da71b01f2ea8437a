"""CSV: one row per deployment and field, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from costctl.api import ShowResult
from costctl.report.common import UNITS, RenderOptions, is_token_price, number, origin_text, safe, shown_fields

HEADER = ["model_name", "model", "provider", "deployment_id", "catalog_key", "file", "line", "wildcard",
          "field", "value", "unit", "source", "origin"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
        writer = csv.writer(buf, lineterminator="\n")
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
                row = [safe(d.model_name), safe(d.model), ep.provider or "", safe(d.deployment_id),
                       safe(ep.catalog_key or ""), d.file, d.line, str(d.wildcard).lower(), name, value,
                       opts.unit if token else "", p.source, origin_text(p)]
                writer.writerow([neutralise(c) for c in row])
        return buf.getvalue()
