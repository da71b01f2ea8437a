"""The terminal table (rich): deployments grouped under their model_name, sources coloured."""

from __future__ import annotations

import io
from itertools import groupby
from typing import Any

from costctl.pricing import MAIN_FIELDS, EffectivePrices
from costctl.report.common import (
    SHORT_NAMES,
    UNIT_LABEL,
    RenderOptions,
    counted,
    origin_text,
    price_text,
    safe,
    shown_fields,
)
from costctl.results import DiffResult, ReconcileResult, ShowResult

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


def _wide_console(buf: io.StringIO, opts: RenderOptions) -> Any:
    """A terminal's width on a terminal; elsewhere (a file, a pipe, CI logs) as wide as the
    tables need, so that no id or name is cut."""
    from rich.console import Console

    width = opts.width or (None if opts.color else 10_000)
    return Console(file=buf, force_terminal=opts.color, no_color=not opts.color, width=width, highlight=False)


def _short_id(deployment_id: str, opts: RenderOptions) -> str:
    """Deployment ids (64 hex characters when generated) cut to 16 on a terminal, whole elsewhere."""
    text = safe(deployment_id)
    return text[:16] if opts.color or opts.width else text


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


class _PlainText:
    """Collects the table's text where a console without colour shows no style: each `append` of
    rich's Text cleans and measures its piece and records a style span (about 57,000 of them for
    2,000 deployments), and printing then cuts the text at every span. Here the pieces are joined
    once into one unstyled Text, which prints the same characters (Text removes the same control
    codes from the whole as from each piece)."""

    def __init__(self, text: str) -> None:
        self.parts = [text]

    def append(self, text: str, style: str = "") -> None:
        self.parts.append(text)

    def text(self) -> Any:
        from rich.text import Text

        return Text("".join(self.parts))


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
        title = f"Effective prices, USD {UNIT_LABEL[opts.unit]}\n"
        out: Any = Text(title) if opts.color else _PlainText(title)
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
        console.print(out if opts.color else out.text(), end="", soft_wrap=True)
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

    def reconcile(self, result: ReconcileResult, opts: RenderOptions) -> str:
        from rich.table import Table
        from rich.text import Text

        from costctl.report.reconcile_common import money_short, pct, pct_text

        buf = io.StringIO()
        console = _wide_console(buf, opts)
        o, t = result.outcome, result.outcome.totals
        head = Text("Reconciliation", style="bold")
        head.append(f" of {', '.join(result.inputs)} against {result.config}\n")
        head.append(f"rows read {t.rows_read:,} = reconciled {t.rows_reconciled:,} + skipped {t.rows_skipped:,}\n")
        head.append(f"recorded ${money_short(t.recorded)}   expected ${money_short(t.expected)}   "
                    f"delta ${money_short(t.delta)} ({pct_text(pct(t.delta, t.expected))})\n")
        head.append(f"mismatched rows {t.mismatched_rows:,}", style="bold red" if t.mismatched_rows else "")
        if t.mismatches_by_cause:
            head.append(": " + ", ".join(f"{c} {n:,}" for c, n in sorted(t.mismatches_by_cause.items())))
        head.append("\n")
        if t.unpriced_rows:
            head.append(f"unpriced rows {t.unpriced_rows:,} ({t.unpriced_tokens:,} tokens billed $0: deployments "
                        "with no price at all)\n", style="yellow")
        if t.rows_skipped:
            head.append("skipped: " + ", ".join(f"{r} {n:,}" for r, n in sorted(t.skipped_by_reason.items())) + "\n",
                        style="yellow")
            for file, line, reason, detail in t.skip_examples:
                head.append(f"  {file}:{line}: {reason}: {detail}\n", style="dim")
        console.print(head)
        groups = Table(title=Text("By " + " × ".join(result.options.group_by)), title_justify="left")
        for name in result.options.group_by:
            groups.add_column(name)
        for col in ("rows", "tokens", "recorded $", "expected $", "delta $", "delta %", "mismatched", "unpriced"):
            groups.add_column(col, justify="right")
        for g in o.groups[:50]:
            style = "red" if g.mismatched else ""
            groups.add_row(*[Text(safe(v)) for v in g.key], f"{g.rows:,}", f"{g.prompt_tokens + g.completion_tokens:,}",
                           money_short(g.recorded), money_short(g.expected), Text(money_short(g.delta), style=style),
                           pct_text(pct(g.delta, g.expected)), f"{g.mismatched:,}", f"{g.unpriced_rows:,}")
        if len(o.groups) > 50:
            groups.caption = f"{len(o.groups) - 50} more groups in --format json/csv"
        console.print(groups)
        if o.top:
            top = Table(title=Text(f"Top {len(o.top)} mismatches by |delta|"), title_justify="left")
            for col in ("request_id", "model_group", "deployment", "tokens in/out", "recorded $", "expected $",
                        "delta $", "cause"):
                top.add_column(col, justify="right" if col.endswith("$") else "left")
            for m in o.top:
                top.add_row(Text(m.request_id), Text(safe(m.model_group)), Text(_short_id(m.deployment_id, opts)),
                            f"{m.prompt_tokens:,}/{m.completion_tokens:,}", money_short(m.recorded),
                            money_short(m.expected), money_short(m.delta), Text(m.cause, style="bold red"))
            console.print(top)
        for failure in result.failures:
            console.print(Text(f"FAIL: {failure}", style="bold red"))
        console.print(Text(result.catalog.stamp_line(), style="dim"))
        return buf.getvalue()

    def diff(self, result: DiffResult, opts: RenderOptions) -> str:
        from rich.table import Table
        from rich.text import Text

        from costctl.report.diff_common import days, headline, label, price_1m, shown_fields, signed_usd
        from costctl.report.reconcile_common import money_short

        buf = io.StringIO()
        console = _wide_console(buf, opts)
        console.print(Text(headline(result), style="bold"))
        console.print(Text(f"base {result.base_name} ({result.base_catalog.stamp_line()})\n"
                           f"head {result.head_name} ({result.catalog.stamp_line()})\n"
                           f"{counted(result.unchanged, 'deployment')} unchanged", style="dim"))
        if result.changes:
            table = Table(title=Text("Price changes (per 1M tokens)"), title_justify="left")
            for col in ("change", "model_name", "deployment", "field", "old", "new"):
                table.add_column(col, justify="right" if col in ("old", "new") else "left")
            for c in result.changes:
                style = {"added": "green", "removed": "red"}.get(c.kind, "yellow")
                main, others = shown_fields(c)
                rows: list[Any] = list(main) + ([None] if others or not main else [])
                for i, f in enumerate(rows):
                    first = i == 0
                    cells = [Text(c.kind if first else "", style=style), Text(safe(c.model_name) if first else ""),
                             Text(_short_id(c.deployment_id, opts) if first else "")]
                    if f is None:
                        cells += [Text(f"{others} other field{'s' * (others != 1)} (--format json)"), Text(""), Text("")]
                    else:
                        cells += [Text(label(f.name)),
                                  Text(f"{price_1m(f.name, f.old)} ({f.old.source})" if f.old else "—"),
                                  Text(f"{price_1m(f.name, f.new)} ({f.new.source})" if f.new else "—")]
                    table.add_row(*cells)
            console.print(table)
        p = result.projection
        if p is not None:
            window = f"{days(p.window_days)} ({p.first_day} .. {p.last_day})" if p.window_days else days(None)
            lines = Text(f"Projection on {p.rows:,} requests ({p.rows_read:,} read) over {window}: "
                         f"base ${money_short(p.base)}, head ${money_short(p.head)}, delta {signed_usd(p.delta)}")
            if p.monthly_delta is not None:
                lines.append(f", {signed_usd(p.monthly_delta)} per 30 days")
            if p.skipped_by_reason:
                lines.append("\nskipped: " + ", ".join(f"{r} {n:,}" for r, n in sorted(p.skipped_by_reason.items())),
                             style="yellow")
            if p.unroutable_rows:
                lines.append(f"\nno longer routable: {p.unroutable_rows:,} requests (${money_short(p.unroutable_base)} "
                             "under base) went to deployments head removes; not in the totals", style="bold yellow")
            console.print(lines)
            groups = Table(title=Text("By model_group"), title_justify="left")
            for col in ("model_group", "requests", "base $", "head $", "delta $", "no longer routable"):
                groups.add_column(col, justify="left" if col == "model_group" else "right")
            for g in p.sorted_groups()[:50]:
                groups.add_row(Text(safe(g.model_group)), f"{g.rows:,}", money_short(g.base), money_short(g.head),
                               signed_usd(g.delta), f"{g.unroutable_rows:,}")
            console.print(groups)
        for failure in result.failures:
            console.print(Text(f"FAIL: {failure}", style="bold red"))
        return buf.getvalue()
