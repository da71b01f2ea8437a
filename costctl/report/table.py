"""The terminal table (rich): deployments grouped under their model_name, sources coloured."""

from __future__ import annotations

import io
from itertools import groupby

from costctl.api import ShowResult
from costctl.pricing import MAIN_FIELDS, EffectivePrices, Price
from costctl.report.common import (
    SHORT_NAMES, UNIT_LABEL, RenderOptions, origin_text, price_text, safe, shown_fields,
)

STYLE = {"custom": "cyan", "default": "green", "fallback": "yellow", "none": "bold red"}
TAG = {"custom": "custom", "default": "default", "fallback": "fallback", "none": "$0 NONE"}


def _cell(name: str, price: Price, unit: str) -> str:
    from rich.markup import escape

    style = STYLE[price.source]
    value = price_text(name, price, unit)
    return f"[{style}]{escape(value)}[/] [dim]{TAG[price.source]}[/]"


def priced_by(ep: EffectivePrices) -> str:
    """One phrase for where a deployment's prices come from."""
    if ep.custom:
        return "custom prices" + (f" over catalog {safe(ep.catalog_key)}" if ep.catalog_key else "")
    if ep.catalog_key:
        return f"catalog {safe(ep.catalog_key)}"
    if ep.deployment.wildcard:
        return "catalog, per matched model"
    return "not in catalog"


class TableFormatter:
    name = "table"

    def show(self, result: ShowResult, opts: RenderOptions) -> str:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        buf = io.StringIO()
        console = Console(file=buf, force_terminal=opts.color, no_color=not opts.color,
                          width=opts.width or (None if opts.color else 150), highlight=False)
        table = Table(title=f"Effective prices, USD {UNIT_LABEL[opts.unit]}", show_lines=False,
                      title_justify="left")
        table.add_column("model_name", style="bold")
        table.add_column("deployment", overflow="fold", ratio=1)
        for name in MAIN_FIELDS:
            table.add_column(SHORT_NAMES[name], justify="right", no_wrap=True)

        def key(ep: EffectivePrices) -> str:
            return ep.deployment.model_name

        eps = sorted(result.deployments, key=lambda e: (key(e), e.deployment.index))
        warnings: list[tuple[EffectivePrices, int]] = []
        for group_name, members in groupby(eps, key=key):
            first = True
            for ep in members:
                d = ep.deployment
                label = escape(safe(d.model)) + (" [magenta](wildcard)[/]" if d.wildcard else "")
                if ep.notes:
                    warnings.append((ep, len(warnings) + 1))
                    label += f" [bold red](!{len(warnings)})[/]"
                label += f"\n[dim]{escape(priced_by(ep))}\n{escape(d.file)}:{d.line} · id {escape(safe(d.deployment_id))[:12]}[/]"
                table.add_row(escape(safe(group_name)) if first else "", label,
                              *[_cell(n, ep.prices[n], opts.unit) for n in MAIN_FIELDS])
                first = False
            table.add_section()
        if not eps:
            console.print("No deployments in model_list.")
        else:
            console.print(table)
        for ep, number_ in warnings:
            d = ep.deployment
            for note in ep.notes:
                console.print(f"[bold red](!{number_})[/] {escape(safe(d.model_name))} · {escape(safe(d.model))} "
                              f"({escape(d.file)}:{d.line}): {escape(safe(note))}")
        if opts.all_fields:
            for ep in eps:
                console.print(self._fields(ep, opts))
        console.print(f"[dim]{escape(result.catalog.stamp_line())}[/]")
        return buf.getvalue()

    def _fields(self, ep: EffectivePrices, opts: RenderOptions):  # type: ignore[no-untyped-def]
        from rich.markup import escape
        from rich.table import Table

        d = ep.deployment
        table = Table(title=f"{escape(safe(d.model_name))} · {escape(safe(d.model))} ({escape(d.file)}:{d.line})",
                      title_justify="left")
        table.add_column("field")
        table.add_column("value", justify="right")
        table.add_column("source")
        table.add_column("origin")
        for name in shown_fields(ep, True):
            p = ep.prices[name]
            table.add_row(name, escape(price_text(name, p, opts.unit)), f"[{STYLE[p.source]}]{p.source}[/]",
                          escape(origin_text(p)))
        return table
