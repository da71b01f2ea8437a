"""Markdown pipe tables, for pull-request comments."""

from __future__ import annotations

from costctl.pricing import MAIN_FIELDS, Price
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
from costctl.report.table import priced_by
from costctl.results import DiffResult, ReconcileResult, ShowResult, ValidateResult, VerifyResult

MARK = {"custom": "custom", "default": "default", "fallback": "fallback", "none": "**$0 (none)**"}


def cell(text: object) -> str:
    """Config text safe inside a pipe-table cell (secret-looking parts redacted)."""
    return cell_plain(safe(text))


def cell_plain(text: object) -> str:
    """Log data (request ids) inside a pipe-table cell: escaped, not redacted."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _price(name: str, p: Price, unit: str) -> str:
    if p.source == "none":
        return MARK["none"]
    return f"{cell(price_text(name, p, unit))} ({MARK[p.source]})"


class MarkdownFormatter:
    name = "markdown"

    def show(self, result: ShowResult, opts: RenderOptions) -> str:
        eps = result.deployments
        zero = sum(1 for ep in eps if any(ep.prices[n].source == "none" for n in MAIN_FIELDS[:2]))
        custom = sum(1 for ep in eps if ep.custom)
        lines = [
            f"**{counted(len(eps), 'deployment')}** in `{cell(result.config.path)}`: {custom} with custom prices, "
            f"{zero} billing input or output at $0.",
            "",
            f"Prices in USD {UNIT_LABEL[opts.unit]}.",
            "",
            "| model_name | model | " + " | ".join(SHORT_NAMES[n] for n in MAIN_FIELDS) + " | priced by | notes |",
            "|---|---|" + "---:|" * len(MAIN_FIELDS) + "---|---|",
        ]
        for ep in sorted(eps, key=lambda e: (e.deployment.model_name, e.deployment.index)):
            d = ep.deployment
            lines.append(
                f"| {cell(d.model_name)} | `{cell(d.model)}` | "
                + " | ".join(_price(n, ep.prices[n], opts.unit) for n in MAIN_FIELDS)
                + f" | {cell(priced_by(ep))} | {cell('; '.join(ep.notes))} |"
            )
        if opts.all_fields:
            for ep in eps:
                d = ep.deployment
                lines += ["", f"#### {cell(d.model_name)} · `{cell(d.model)}` ({cell(d.file)}:{d.line})", "",
                          "| field | value | source | origin |", "|---|---:|---|---|"]
                for name in shown_fields(ep, True):
                    p = ep.prices[name]
                    lines.append(f"| `{name}` | {cell(price_text(name, p, opts.unit))} | {p.source} | "
                                 f"{cell(origin_text(p))} |")
        lines += ["", f"<sub>{cell(result.catalog.stamp_line())}</sub>", ""]
        return "\n".join(lines)

    def validate(self, result: ValidateResult, opts: RenderOptions) -> str:
        s = result.summary
        icon = "❌" if result.failed else "✅"
        lines = [
            f"{icon} **costctl {result.command}**: {counted(s['error'], 'error')}, {counted(s['warning'], 'warning')}, "
            f"{s['info']} info in {counted(len(result.files), 'file')} "
            f"({counted(len(result.deployments), 'deployment')}; fail on {result.fail_on}).",
            "",
        ]
        if isinstance(result, VerifyResult):
            lines[-1:] = [f"Proxy {cell(result.proxy)}: LiteLLM {cell(result.version or 'version unknown')}; "
                          f"{result.probes_sent} probes, {result.charges_verified} charges verified.", ""]
        if result.findings:
            lines += ["| where | code | severity | deployment | message |", "|---|---|---|---|---|"]
            for f in result.findings:
                lines.append(f"| `{cell(f.file)}:{f.line}` | {f.code} {f.name} | {f.severity} | "
                             f"{cell(f.deployment or '')} | {cell(f.message)} |")
            lines.append("")
        lines += [f"<sub>{cell(result.catalog.stamp_line())}</sub>", ""]
        return "\n".join(lines)

    verify = validate

    def reconcile(self, result: ReconcileResult, opts: RenderOptions) -> str:
        from costctl.report.reconcile_common import money_short, pct, pct_text

        o, t = result.outcome, result.outcome.totals
        icon = "❌" if result.failed else "✅"
        causes = ", ".join(f"{c} {n:,}" for c, n in sorted(t.mismatches_by_cause.items())) or "none"
        lines = [
            f"{icon} **costctl reconcile**: recorded ${money_short(t.recorded)}, expected ${money_short(t.expected)}, "
            f"delta ${money_short(t.delta)} ({pct_text(pct(t.delta, t.expected))}); {t.mismatched_rows:,} mismatched "
            f"rows ({causes}).",
            "",
            f"Rows read {t.rows_read:,} = reconciled {t.rows_reconciled:,} + skipped {t.rows_skipped:,}"
            + (f" ({', '.join(f'{r} {n:,}' for r, n in sorted(t.skipped_by_reason.items()))})" if t.rows_skipped else "")
            + f"; unpriced rows {t.unpriced_rows:,}.",
            "",
            "| " + " | ".join(result.options.group_by) + " | rows | recorded $ | expected $ | delta $ | delta % | mismatched |",
            "|" + "---|" * len(result.options.group_by) + "---:|---:|---:|---:|---:|---:|",
        ]
        for g in o.groups[:50]:
            lines.append("| " + " | ".join(cell(v) for v in g.key) + f" | {g.rows:,} | {money_short(g.recorded)} | "
                         f"{money_short(g.expected)} | {money_short(g.delta)} | {pct_text(pct(g.delta, g.expected))} | "
                         f"{g.mismatched:,} |")
        if o.top:
            lines += ["", "<details><summary>Top mismatches</summary>", "",
                      "| request_id | model_group | recorded $ | expected $ | delta $ | cause |",
                      "|---|---|---:|---:|---:|---|"]
            for m in o.top:
                lines.append(f"| `{cell_plain(m.request_id)}` | {cell(m.model_group)} | {money_short(m.recorded)} | "
                             f"{money_short(m.expected)} | {money_short(m.delta)} | {m.cause} |")
            lines += ["", "</details>"]
        lines += ["", f"<sub>{cell(result.catalog.stamp_line())}</sub>", ""]
        return "\n".join(lines)

    def diff(self, result: DiffResult, opts: RenderOptions) -> str:
        """Headline first, a compact table, the rest folded; the same input gives the same text."""
        from costctl.report.diff_common import MARKER, days, headline, label, price_1m, shown_fields, signed_usd
        from costctl.report.reconcile_common import money_short

        icon = "❌" if result.failed else ("💸" if result.changes else "✅")
        lines = [f"{icon} **{cell(headline(result))}**", ""]
        p = result.projection
        if p is not None:
            window = (f"{days(p.window_days)} ({p.first_day} … {p.last_day})" if p.window_days else days(None))
            monthly = "" if p.monthly_delta is None else f", {signed_usd(p.monthly_delta)} per 30 days"
            lines += [f"Projected on {p.rows:,} requests over {window}: ${money_short(p.base)} → "
                      f"${money_short(p.head)} ({signed_usd(p.delta)}{monthly}).", ""]
            if p.unroutable_rows:
                lines += [f"⚠️ {p.unroutable_rows:,} requests (${money_short(p.unroutable_base)} under BASE) went to "
                          "deployments HEAD removes: **no longer routable**, not in the totals.", ""]
            lines += ["| model_group | requests | base $ | head $ | delta $ |", "|---|---:|---:|---:|---:|"]
            for g in p.sorted_groups()[:15]:
                lines.append(f"| {cell(g.model_group)} | {g.rows:,} | {money_short(g.base)} | {money_short(g.head)} | "
                             f"{signed_usd(g.delta)} |")
            lines.append("")
        if result.changes:
            lines += ["<details><summary>Price changes (per 1M tokens)</summary>", "",
                      "| change | model_name | field | old | new |", "|---|---|---|---:|---:|"]
            for c in result.changes:
                main, others = shown_fields(c)
                for f in main:
                    old = f"{price_1m(f.name, f.old)} ({f.old.source})" if f.old else "—"
                    new = f"{price_1m(f.name, f.new)} ({f.new.source})" if f.new else "—"
                    lines.append(f"| {c.kind} | {cell(c.model_name)} | {cell(label(f.name))} | {cell(old)} | "
                                 f"{cell(new)} |")
                if others or not main:
                    lines.append(f"| {c.kind} | {cell(c.model_name)} | {others} other field{'s' * (others != 1)} "
                                 "(--format json) | | |")
            lines += ["", "</details>", ""]
        for failure in result.failures:
            lines += [f"**FAIL**: {cell(failure)}", ""]
        lines += [f"<sub>base `{cell(result.base_name)}`, head `{cell(result.head_name)}`; "
                  f"{cell(result.catalog.stamp_line())}</sub>", "", MARKER, ""]
        return "\n".join(lines)
