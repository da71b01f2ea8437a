"""The terminal table (rich): deployments grouped under their model_name, sources coloured."""

from __future__ import annotations

import io
from itertools import groupby
from typing import Any

from costctl.api import ShowResult
from costctl.pricing import MAIN_FIELDS, EffectivePrices
from costctl.report.common import (
    SHORT_NAMES,
    UNIT_LABEL,
    RenderOptions,
    origin_text,
    price_text,
    safe,
    shown_fields,
)

STYLE = {"custom": "cyan", "default": "green", "fallback": "yellow", "none": "bold red"}
TAG = {"custom": "custom", "default": "default", "fallback": "fallback", "none": "$0 NONE"}
MIN_DEPLOYMENT_WIDTH = 30


def priced_by(ep: EffectivePrices) -> str:
    """One phrase for where a deployment's prices come from."""
    if ep.custom:
        return "custom prices" + (f" over catalog {safe(ep.catalog_key)}" if ep.catalog_key else "")
    if ep.catalog_key:
        return f"catalog {safe(ep.catalog_key)}"
    if ep.deployment.wildcard:
        return "catalog, per matched model"
    return "not in catalog"


def _fold(text: str, width: int) -> list[str]:
    """`text` cut into lines of `width` characters (folding here is much cheaper than rich's)."""
    return [text[i:i + width] for i in range(0, len(text), width)] or [""]


def _price_width(eps: list[EffectivePrices], unit: str) -> int:
    widest = max((len(price_text(n, ep.prices[n], unit)) + 1 + len(TAG[ep.prices[n].source])
                  for ep in eps for n in MAIN_FIELDS), default=10)
    return max(widest, max(len(v) for v in SHORT_NAMES.values())) + 2


def _append_prices(out: Any, ep: EffectivePrices, unit: str, width: int) -> None:
    """The four main prices as fixed-width, right-aligned fields, coloured by source."""
    for name in MAIN_FIELDS:
        price = ep.prices[name]
        value, tag = price_text(name, price, unit), TAG[price.source]
        out.append(" " * max(1, width - len(value) - len(tag) - 1))
        out.append(value, style=STYLE[price.source])
        out.append(" " + tag, style="dim")


def _price_header(width: int) -> str:
    return "".join(SHORT_NAMES[n].rjust(width) for n in MAIN_FIELDS)


class TableFormatter:
    name = "table"

    def show(self, result: ShowResult, opts: RenderOptions) -> str:
        # The main table is laid out here and styled with one rich Text: rich's Table lays out
        # every cell separately, which took most of a second on 2,000 deployments.
        from rich.console import Console
        from rich.text import Text

        buf = io.StringIO()
        console = Console(file=buf, force_terminal=opts.color, no_color=not opts.color,
                          width=opts.width or (None if opts.color else 150), highlight=False)
        eps = sorted(result.deployments, key=lambda e: (e.deployment.model_name, e.deployment.index))
        out = Text(f"Effective prices, USD {UNIT_LABEL[opts.unit]}\n")
        if not eps:
            out.append("No deployments in model_list.\n")
        pw = _price_width(eps, opts.unit)
        nw = min(max([len(safe(e.deployment.model_name)) for e in eps] + [len("model_name")]), 28)
        dw = max(MIN_DEPLOYMENT_WIDTH, console.width - nw - 4 * pw - 4)
        if eps:
            out.append(f"{'model_name':<{nw}}  {'deployment':<{dw}}{_price_header(pw)}\n", style="bold")
            out.append("─" * (nw + 2 + dw + 4 * pw) + "\n")
        warnings: list[tuple[EffectivePrices, int]] = []
        for group_name, members in groupby(eps, key=lambda e: e.deployment.model_name):
            name_lines = _fold(safe(group_name), nw)
            for ep in members:
                d = ep.deployment
                head = safe(d.model) + (" (wildcard)" if d.wildcard else "")
                if ep.notes:
                    warnings.append((ep, len(warnings) + 1))
                    head += f" (!{len(warnings)})"
                lines = [(line, "bold red" if ep.notes else "") for line in _fold(head, dw)]
                for text in (priced_by(ep), f"{d.file}:{d.line} · id {safe(d.deployment_id)[:12]}"):
                    lines += [(line, "dim") for line in _fold(text, dw)]
                for i, (line, style) in enumerate(lines):
                    name = name_lines[i] if i < len(name_lines) else ""
                    out.append(f"{name:<{nw}}  ", style="bold" if name else "")
                    if i == 0:
                        out.append(f"{line:<{dw}}", style=style)
                        _append_prices(out, ep, opts.unit, pw)
                    else:
                        out.append(line, style=style)
                    out.append("\n")
                name_lines = []
            out.append("\n")
        for ep, number in warnings:
            d = ep.deployment
            for note in ep.notes:
                out.append(f"(!{number})", style="bold red")
                out.append(f" {safe(d.model_name)} · {safe(d.model)} ({d.file}:{d.line}): {safe(note)}\n")
        console.print(out, end="", soft_wrap=True)
        if opts.all_fields:
            for ep in eps:
                console.print(self._fields(ep, opts))
        console.print(Text(result.catalog.stamp_line(), style="dim"))
        return buf.getvalue()

    def _fields(self, ep: EffectivePrices, opts: RenderOptions) -> Any:
        from rich.table import Table
        from rich.text import Text

        d = ep.deployment
        table = Table(title=Text(f"{safe(d.model_name)} · {safe(d.model)} ({d.file}:{d.line})"), title_justify="left")
        table.add_column("field")
        table.add_column("value", justify="right")
        table.add_column("source")
        table.add_column("origin")
        for name in shown_fields(ep, True):
            p = ep.prices[name]
            table.add_row(Text(name), Text(price_text(name, p, opts.unit)), Text(p.source, style=STYLE[p.source]),
                          Text(origin_text(p)))
        return table
