"""`--format html`: one self-contained page a person looks at (html_page.py frames it, svg.py
draws its charts). The amounts of reconcile, diff and verify come from the command's JSON
document, so a chart's bars and a table's cells equal the JSON report's; prices go through the
helpers every other format uses. A log of any size gives a page of bounded size (totals,
per-day and per-group sums, the top rows)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from costctl import __version__
from costctl.money import number
from costctl.pricing import FIELD_LABELS, MAIN_FIELDS, EffectivePrices, Price, is_token_price
from costctl.reconcile.model import NONE
from costctl.report import html_page as h
from costctl.report import json_report, svg
from costctl.report.common import RenderOptions, counted, origin_text, price_text, safe
from costctl.report.diff_common import document, price_1m
from costctl.report.html_page import count, esc, usd
from costctl.report.reconcile_common import pct
from costctl.results import DiffResult, ReconcileResult, ShowResult, VerifyResult

MAX_BARS = 25  # groups drawn as bars; the table below lists more
MAX_ROWS = 500  # rows of a group table; the JSON report has every group


def _catalog(stamp: dict[str, Any]) -> str:
    version = stamp.get("version") or "unknown version"
    where = f", fetched {stamp['fetched']} from {stamp['url']}" if stamp.get("url") else ""
    return (f'{esc(stamp["name"])} {esc(version)} ({esc(stamp["source"])}{esc(where)}, {count(stamp["entries"])} '
            f'entries, sha256 <code title="{esc(stamp["sha256"])}">{esc(stamp["sha256"][:12])}</code>)')


def _footer(stamp: dict[str, Any]) -> str:
    return f"costctl {esc(__version__)} · catalog {_catalog(stamp)}"


def _pct(value: str | None) -> str:
    return "n/a" if value is None else f"{Decimal(value):+.2f}%"


# --- show -------------------------------------------------------------------------------------

def _price_cell(name: str, price: Price) -> str:
    """Per 1M tokens large, per token small; the source as colour; where it comes from on hover."""
    zero = price.source == "none" or price.value == 0
    shown = price_text(name, price, "1m" if is_token_price(name) else "token")
    small = ""
    if price.value is not None and is_token_price(name):
        small = f'<span class="small">{esc(number(price.value))} /token</span>'
    unit = " /1M" if price.value is not None and is_token_price(name) else ""
    cls = "price" + (" zero" if zero else "")
    return (f'<td class="{cls} n" title="{esc(origin_text(price))}" data-source="{price.source}" data-field="{name}">'
            f'<span class="big src-{price.source}">{esc(shown)}{unit}</span>{small}'
            f'<span class="small src-{price.source}">{esc(price.source)}</span></td>')


def _more_prices(ep: EffectivePrices) -> str:
    others = sorted(n for n in ep.prices if n not in MAIN_FIELDS)
    if not others:
        return ""
    rows = "".join(
        f'<tr><td>{esc(n)}</td><td class="n src-{ep.prices[n].source}" title="{esc(origin_text(ep.prices[n]))}">'
        f'{esc(price_text(n, ep.prices[n], "token"))}</td><td><span class="badge src-{ep.prices[n].source}">'
        f'{esc(ep.prices[n].source)}</span></td></tr>' for n in others)
    return (f"<details><summary>{len(others)} more prices (per token)</summary><table>"
            f"<tbody>{rows}</tbody></table></details>")


def _deployment_rows(deployments: list[EffectivePrices]) -> list[str]:
    rows, previous = [], None
    for ep in deployments:
        d = ep.deployment
        first = d.model_name != previous
        previous = d.model_name
        notes = "".join(f'<div class="note">{esc(safe(n))}</div>' for n in ep.notes)
        where = f"{d.file}:{d.line}"
        detail = (f'<div class="mono">{esc(safe(d.deployment_id))}</div><div class="muted">{esc(safe(d.model))} · '
                  f'{esc(ep.provider)}' + (f" · catalog {esc(safe(ep.catalog_key))}" if ep.catalog_key else
                                           " · not in the catalog") + f" · {esc(where)}</div>")
        cells = "".join(_price_cell(name, ep.prices[name]) for name in MAIN_FIELDS)
        rows.append(f'<tr class="{"group" if first else ""}" data-deployment="{esc(safe(d.deployment_id))}">'
                    f'<td><b>{esc(safe(d.model_name)) if first else ""}</b>'
                    f'{"" if first else "<span hidden>" + esc(safe(d.model_name)) + "</span>"}</td>'
                    f"<td>{detail}</td>{cells}<td>{notes}{_more_prices(ep)}</td></tr>")
    return rows


def _price_table(deployments: list[EffectivePrices], table_id: str) -> str:
    heads = "".join(f'<th class="n">{esc(FIELD_LABELS[n])}</th>' for n in MAIN_FIELDS)
    rows = _deployment_rows(deployments)
    return (h.filter_box(table_id, len(rows), "by model, deployment, provider, note") +
            h.legend([("custom", "custom: set in the config"), ("default", "default: LiteLLM's catalog"),
                      ("fallback", "fallback: taken from another price"), ("none", "none: billed $0")]) +
            f'<div class="scroll"><table id="{table_id}"><thead><tr><th>model_name</th><th>deployment</th>{heads}'
            f"<th>notes</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _show_cards(deployments: list[EffectivePrices]) -> str:
    sources: dict[str, int] = defaultdict(int)
    for ep in deployments:
        for name in MAIN_FIELDS:
            sources[ep.prices[name].source] += 1
    noted = sum(1 for ep in deployments if ep.notes)
    return h.cards([("deployments", count(len(deployments)), "deployments"),
                    ("model groups", count(len({ep.deployment.model_name for ep in deployments})), "groups"),
                    ("custom prices", count(sources["custom"]), "custom"),
                    ("prices billed $0", count(sources["none"]), "none"),
                    ("with notes", count(noted), "noted")])


# --- reconcile --------------------------------------------------------------------------------

def _sums(groups: list[dict[str, Any]], key: str) -> tuple[list[str], list[Decimal], list[Decimal]]:
    """Recorded and expected per value of group key `key`, summed over the other keys."""
    recorded: dict[str, Decimal] = defaultdict(Decimal)
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for g in groups:
        value = g["key"][key]
        recorded[value] += Decimal(g["recorded_usd"])
        expected[value] += Decimal(g["expected_usd"])
    labels = list(recorded)
    return labels, [recorded[v] for v in labels], [expected[v] for v in labels]


def _per_day(doc: dict[str, Any]) -> str:
    names = doc["options"]["group_by"]
    if "day" not in names:
        return '<p class="muted">Group by day (<code>--group-by day</code>) for this chart.</p>'
    if "tag" in names:
        return '<p class="muted">Grouped by tag, a request counts once per tag: days are not summed.</p>'
    labels, recorded, expected = _sums(doc["groups"], "day")
    by_day = {date.fromisoformat(label): i for i, label in enumerate(labels) if label != NONE}
    days = sorted(by_day)
    parts = []
    if days:
        chart = svg.line_chart(days, [("expected", "expected", [expected[by_day[d]] for d in days]),
                                      ("recorded", "recorded", [recorded[by_day[d]] for d in days])],
                               "recorded and expected spend per day")
        parts.append(h.legend([("recorded", "recorded (what LiteLLM logged)"),
                               ("expected", "expected (what it should have cost)")]) + f'<div id="per-day">{chart}</div>')
    else:
        parts.append('<p class="muted">No reconciled row has a day.</p>')
    if NONE in labels:
        i = labels.index(NONE)
        parts.append(f'<p class="muted" id="no-day">Rows without a startTime: {usd(recorded[i])} recorded, '
                     f"{usd(expected[i])} expected (not drawn).</p>")
    return "".join(parts)


def _per_group(doc: dict[str, Any]) -> str:
    names = [n for n in doc["options"]["group_by"] if n != "day"]
    if not names or not doc["groups"]:
        return ""
    key = names[0]
    title = f"Per {esc(key)}: recorded and expected, largest drift first"
    if "tag" in names[1:]:
        return h.section(title, f'<p class="muted">Grouped by tag too, a request counts once per tag: the {esc(key)} '
                                "values are not summed (see the table below).</p>", "groups-chart")
    labels, recorded, expected = _sums(doc["groups"], key)
    order = sorted(range(len(labels)), key=lambda i: (-abs(recorded[i] - expected[i]), labels[i]))[:MAX_BARS]
    more = len(labels) - len(order)
    chart = svg.bar_chart([labels[i] for i in order], [("recorded", "recorded", [recorded[i] for i in order]),
                                                         ("expected", "expected", [expected[i] for i in order])],
                          f"recorded and expected spend per {key}")
    notes = []
    if more > 0:
        notes.append(f"{more} more {esc(key)} values: see the table below.")
    if key == "tag":
        notes.append("A request with several tags counts in each: the bars add up to more than the total.")
    tail = "".join(f'<p class="muted">{n}</p>' for n in notes)
    return h.section(title, h.legend([("recorded", "recorded"), ("expected", "expected")]) +
                     f'<div id="per-group" data-key="{esc(key)}">{chart}</div>{tail}', "groups-chart")


def _causes(summary: dict[str, Any]) -> str:
    causes = summary["mismatches_by_cause"]
    if not causes:
        return '<p>No mismatched rows.</p>'
    top = max(causes.values())
    rows = "".join(f'<tr><td>{esc(c)}</td><td class="n" data-cause="{esc(c)}">{count(n)}</td>'
                   f'<td style="width:60%"><span class="bar" style="width:{100 * n / top:.1f}%"></span></td></tr>'
                   for c, n in sorted(causes.items(), key=lambda kv: (-kv[1], kv[0])))
    return ('<table id="causes"><thead><tr><th>cause</th><th class="n">rows</th><th></th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def _skipped(summary: dict[str, Any]) -> str:
    parts = [f'<p><b id="unpriced-rows">{count(summary["unpriced_rows"])}</b> unpriced rows '
             f'({count(summary["unpriced_tokens"])} tokens with no price at all: billed $0, expected $0).</p>']
    if summary["skipped_by_reason"]:
        rows = "".join(f'<tr><td>{esc(r)}</td><td class="n" data-reason="{esc(r)}">{count(n)}</td></tr>'
                       for r, n in summary["skipped_by_reason"].items())
        parts.append(f'<table id="skips"><thead><tr><th>skipped: reason</th><th class="n">rows</th></tr></thead>'
                     f"<tbody>{rows}</tbody></table>")
        examples = "".join(f"<li><code>{esc(e['file'])}:{e['line']}</code> {esc(e['reason'])}: {esc(e['detail'])}</li>"
                           for e in summary["skip_examples"])
        parts.append(f"<details><summary>examples</summary><ul>{examples}</ul></details>")
    else:
        parts.append("<p>No rows skipped.</p>")
    if summary["duplicate_request_ids"]:
        parts.append(f"<p>{count(summary['duplicate_request_ids'])} rows repeat a request_id seen before "
                     "(counted once).</p>")
    return "".join(parts)


def _usd_cell(value: str, signed: bool = False) -> str:
    """A table cell of money: shown rounded, its exact value to sort by."""
    return f'<td class="n" data-v="{esc(value)}">{usd(value, signed)}</td>'


def _count_cell(n: int) -> str:
    return f'<td class="n" data-v="{n}">{count(n)}</td>'


def _mismatch_table(mismatches: list[dict[str, Any]]) -> str:
    if not mismatches:
        return "<p>None.</p>"
    heads = [("request_id", ""), ("place", ""), ("model_group", ""), ("deployment", ""), ("prompt", "n"),
             ("completion", "n"), ("recorded", "n"), ("expected", "n"), ("delta", "n"), ("cause", "")]
    head = "".join(f'<th data-sort="{t or "s"}" class="{t}">{esc(n)}</th>' for n, t in heads)
    rows = "".join(
        f'<tr><td class="mono">{esc(m["request_id"])}</td><td class="mono">{esc(m["file"])}:{m["line"]}</td>'
        f'<td>{esc(m["model_group"])}</td><td class="mono">{esc(m["deployment_id"])}</td>'
        f'{_count_cell(m["prompt_tokens"])}{_count_cell(m["completion_tokens"])}{_usd_cell(m["recorded_usd"])}'
        f'{_usd_cell(m["expected_usd"])}{_usd_cell(m["delta_usd"], signed=True)}<td>{esc(m["cause"])}</td></tr>'
        for m in mismatches)
    return f'<div class="scroll"><table id="mismatches"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'


def _group_table(doc: dict[str, Any]) -> str:
    names = doc["options"]["group_by"]
    groups = sorted(doc["groups"], key=lambda g: -abs(Decimal(g["delta_usd"])))
    shown = groups[:MAX_ROWS]
    head = "".join(f'<th data-sort="s">{esc(n)}</th>' for n in names) + "".join(
        f'<th data-sort="n" class="n">{t}</th>' for t in ("rows", "recorded", "expected", "delta", "delta %",
                                                          "mismatched", "unpriced"))
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(g['key'][n])}</td>" for n in names) +
        f'{_count_cell(g["rows"])}{_usd_cell(g["recorded_usd"])}{_usd_cell(g["expected_usd"])}'
        f'{_usd_cell(g["delta_usd"], signed=True)}<td class="n" data-v="{esc(g["delta_pct"] or "0")}">'
        f'{_pct(g["delta_pct"])}</td>{_count_cell(g["mismatched_rows"])}{_count_cell(g["unpriced_rows"])}</tr>'
        for g in shown)
    more = (f'<p class="muted">The {count(len(shown))} groups that drift most of {count(len(groups))}: the JSON '
            "report lists every one.</p>" if len(groups) > len(shown) else "")
    return (h.filter_box("group-table", len(shown), "groups") + more +
            f'<div class="scroll"><table id="group-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>')


# --- diff -------------------------------------------------------------------------------------

def _changes_table(result: DiffResult) -> str:
    rows = []
    for c in result.changes:
        for f in c.fields:
            rows.append(f'<tr><td>{esc(c.kind)}</td><td>{esc(safe(c.model_name))}</td>'
                        f'<td class="mono">{esc(safe(c.deployment_id))}</td><td>{esc(FIELD_LABELS.get(f.name, f.name))}</td>'
                        f'<td class="n">{_diff_price(f.name, f.old)}</td><td class="n">{_diff_price(f.name, f.new)}</td></tr>')
    if not rows:
        return "<p>No price changes.</p>"
    return (h.filter_box("changes", len(rows), "changes") +
            '<div class="scroll"><table id="changes"><thead><tr><th>change</th><th>model_name</th><th>deployment</th>'
            f'<th>price</th><th class="n">before</th><th class="n">after</th></tr></thead><tbody>{"".join(rows)}</tbody>'
            "</table></div>")


def _projection_table(p: dict[str, Any]) -> str:
    """Every model group of the projection (the chart draws the first MAX_BARS)."""
    groups = p["groups"][:MAX_ROWS]
    rows = "".join(
        f'<tr><td>{esc(g["model_group"])}</td>{_count_cell(g["rows"])}{_usd_cell(g["base_usd"])}'
        f'{_usd_cell(g["head_usd"])}{_usd_cell(g["delta_usd"], signed=True)}<td class="n">{_pct(g["delta_pct"])}</td>'
        "</tr>" for g in groups)
    more = (f'<p class="muted">The {count(len(groups))} model groups that move most of {count(len(p["groups"]))}: '
            "the JSON report lists every one.</p>" if len(p["groups"]) > len(groups) else "")
    return (f"<details{' open' if len(p['groups']) > MAX_BARS else ''}><summary>every model group</summary>{more}"
            '<div class="scroll"><table id="projection-groups"><thead><tr><th data-sort="s">model_group</th>'
            + "".join(f'<th data-sort="n" class="n">{t}</th>' for t in ("rows", "before", "after", "change")) +
            f'<th class="n">change %</th></tr></thead><tbody>{rows}</tbody></table></div></details>')


def _diff_price(name: str, price: Price | None) -> str:
    """The price as the other diff reports show it (per 1M tokens for token prices), coloured by source."""
    if price is None:
        return "—"
    unit = " /1M" if price.value is not None and price.structured is None and is_token_price(name) else ""
    return f'<span class="src-{price.source} nowrap" title="{esc(price.source)}">{esc(price_1m(name, price))}{unit}</span>'


# --- verify -----------------------------------------------------------------------------------

def _findings_table(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return '<div class="banner ok">The proxy shows and charges what the config says.</div>'
    rows = "".join(
        f'<tr><td><span class="badge sev-{esc(f["severity"])}">{esc(f["severity"])}</span></td>'
        f'<td class="mono">{esc(f["code"])}</td><td>{esc(f["name"])}</td><td>{esc(f["deployment"] or "")}</td>'
        f'<td>{esc(f["about"] or "")}</td><td class="mono">{esc(f["expected"] or "")}</td>'
        f'<td class="mono">{esc(f["actual"] or "")}</td><td>{esc(f["message"])}</td>'
        f'<td class="mono">{esc(f["file"])}:{f["line"]}</td></tr>' for f in findings)
    return (h.filter_box("findings", len(findings), "findings") +
            '<div class="scroll"><table id="findings"><thead><tr><th>severity</th><th>code</th><th>check</th>'
            '<th>deployment</th><th>about</th><th>config says</th><th>proxy shows</th><th>message</th><th>where</th>'
            f"</tr></thead><tbody>{rows}</tbody></table></div>")


def _outcomes(result: VerifyResult) -> list[tuple[tuple[str, int, str, str], str]]:
    """Each deployment checked, with the findings about it: those whose line is in its block of
    the config (from its line to the next deployment's), counted by severity."""
    starts: dict[str, list[int]] = defaultdict(list)
    for file, line, _name, _model in result.deployments:
        starts[file].append(line)
    out = []
    for d in result.deployments:
        file, line = d[0], d[1]
        after = [s for s in starts[file] if s > line]
        end = min(after) if after else None
        found: dict[str, int] = defaultdict(int)
        for f in result.findings:
            if f.file == file and f.line >= line and (end is None or f.line < end):
                found[f.severity] += 1
        if not found:
            out.append((d, "as configured"))
            continue
        worst = "error" if found["error"] else "warning" if found["warning"] else "info"
        text = ", ".join(counted(found[sev], sev) for sev in ("error", "warning", "info") if found[sev])
        out.append((d, f'<span class="badge sev-{worst}">{esc(text)}</span>'))
    return out


class HtmlFormatter:
    name = "html"

    def show(self, result: ShowResult, opts: RenderOptions) -> str:
        doc = json_report.show_document(result)
        body = (_show_cards(result.deployments) +
                h.section("Effective prices", _price_table(result.deployments, "prices") +
                          '<p class="muted">Per 1M tokens, per token below. Hover a price for where it comes from: '
                          "the config's file:line, the catalog key, or the price it falls back to.</p>", "prices-section") +
                h.section("Catalog", h.facts([("catalog", _catalog(doc["catalog"])),
                                              ("files", ", ".join(f"<code>{esc(f)}</code>" for f in doc["files"]))])))
        return h.page(f"costctl show — {esc(doc['config'])}", "Effective prices",
                      f"<code>{esc(doc['config'])}</code>: {counted(len(result.deployments), 'deployment')}, "
                      "each price with its source", body, _footer(doc["catalog"]))

    def reconcile(self, result: ReconcileResult, opts: RenderOptions) -> str:
        doc = json_report.reconcile_document(result)
        s = doc["summary"]
        status = "".join(f'<div class="banner bad">{esc(f)}</div>' for f in doc["failures"])
        if not s["rows_reconciled"]:
            status += '<div class="banner warn">No row was reconciled: nothing to compare.</div>'
        elif not status:
            status = '<div class="banner ok">Within the drift thresholds.</div>'
        share_pct = pct(Decimal(s["delta_usd"]), Decimal(s["expected_usd"]))
        share = "" if share_pct is None else f' <span class="muted">{share_pct:+.2f}%</span>'
        body = (status + h.cards([
            ("recorded", usd(s["recorded_usd"]), "recorded"), ("expected", usd(s["expected_usd"]), "expected"),
            ("delta", usd(s["delta_usd"], signed=True) + share, "delta"),
            ("|drift|", usd(s["abs_drift_usd"]), "drift"),
            ("rows read", count(s["rows_read"]), "rows-read"), ("reconciled", count(s["rows_reconciled"]), "rows"),
            ("mismatched", count(s["mismatched_rows"]), "mismatched"), ("skipped", count(s["rows_skipped"]), "skipped"),
        ]) + h.section("Per day: recorded and expected", _per_day(doc), "days") + _per_group(doc) +
            h.section("Mismatches by cause", _causes(s), "causes-section") +
            h.section("Unpriced and skipped rows", _skipped(s), "skipped-section") +
            h.section(f"Largest mismatches (top {len(doc['mismatches'])})", _mismatch_table(doc["mismatches"]),
                      "top") +
            h.section("Groups", _group_table(doc), "groups"))
        window = " ".join(p for p in (f"since {doc['options']['since']}" if doc["options"]["since"] else "",
                                      f"until {doc['options']['until']}" if doc["options"]["until"] else "") if p)
        inputs = ", ".join(f"<code>{esc(i)}</code>" for i in doc["inputs"])
        return h.page(f"costctl reconcile — {esc(doc['config'])}", "Reconciliation: recorded vs expected spend",
                      f"<code>{esc(doc['config'])}</code> against {inputs}{' · ' + esc(window) if window else ''} · "
                      f"tolerance ${esc(doc['options']['tolerance_usd'])} or {esc(doc['options']['tolerance_pct'])}%",
                      body, _footer(doc["catalog"]))

    def diff(self, result: DiffResult, opts: RenderOptions) -> str:
        doc = document(result)
        n = doc["summary"]
        body = h.cards([("repriced", count(n["changed"]), "changed"), ("added", count(n["added"]), "added"),
                        ("removed", count(n["removed"]), "removed"), ("unchanged", count(n["unchanged"]), "unchanged")])
        p = doc["projection"]
        if p is not None:
            monthly = ("no timestamps" if p["monthly_delta_usd"] is None
                       else usd(p["monthly_delta_usd"], signed=True) + "/month")
            change = usd(p["delta_usd"], signed=True) + f' <span class="muted">{_pct(p["delta_pct"])}</span>'
            body += h.cards([("before", usd(p["base_usd"]), "base"), ("after", usd(p["head_usd"]), "head"),
                             ("change over the log", change, "delta"), ("per month", monthly, "monthly")])
            groups = p["groups"][:MAX_BARS]
            chart = svg.bar_chart([g["model_group"] for g in groups],
                                  [("before", "base", [Decimal(g["base_usd"]) for g in groups]),
                                   ("after", "head", [Decimal(g["head_usd"]) for g in groups])],
                                  "spend per model group before and after")
            window = (f"{p['first_day']} to {p['last_day']} ({p['window_days']} days)" if p["first_day"]
                      else "no timestamps")
            body += h.section("Per model group: the logged usage priced before and after",
                              h.legend([("base", f"before ({doc['base']})"), ("head", f"after ({doc['head']})")]) +
                              f'<div id="per-group">{chart}</div><p class="muted">{count(p["rows"])} rows, '
                              f"{esc(window)}; {count(p['unroutable_rows'])} rows no deployment of the config "
                              f"serves.</p>{_projection_table(p)}", "projection")
        else:
            body += '<p class="muted">No <code>--usage</code>: no spend projection.</p>'
        body += h.section("Price changes", _changes_table(result), "changes-section")
        return h.page(f"costctl diff — {esc(doc['base'])} → {esc(doc['head'])}", "What the config change does",
                      f"<span id=\"headline\">{esc(doc['headline'])}</span>", body, _footer(doc["catalog"]))

    def verify(self, result: VerifyResult, opts: RenderOptions) -> str:
        doc = json_report.verify_document(result)
        proxy, probes, cmp = doc["proxy"], doc["probes"], doc["catalog_comparison"]
        deployments = "".join(
            f'<tr><td>{esc(safe(name))}</td><td class="mono">{esc(safe(model))}</td><td class="mono">{esc(file)}:{line}'
            f"</td><td>{outcome}</td></tr>" for (file, line, name, model), outcome in _outcomes(result))
        s = doc["summary"]
        body = (h.cards([("errors", count(s["error"]), "errors"), ("warnings", count(s["warning"]), "warnings"),
                         ("info", count(s["info"]), "infos"), ("probes sent", count(probes["sent"]), "probes"),
                         ("charges verified", count(probes["charges_verified"]), "charges")]) +
                h.section("Proxy", h.facts([
                    ("URL", f"<code>{esc(proxy['url'])}</code>"),
                    ("LiteLLM version", f"{esc(proxy['litellm_version'] or 'unknown')} "
                                        f"<span class=muted>({esc(proxy['version_source'] or 'not shown')})</span>"),
                    ("costctl implements", esc(proxy["implemented_version"])),
                    ("public model hub", esc(proxy["public_model_hub"])),
                    ("catalog prices compared", f"{count(cmp['compared'])}, {count(cmp['differing'])} differing")])) +
                h.section("Findings: what the proxy showed and charged against the config",
                          _findings_table(doc["findings"]), "findings-section") +
                h.section("Deployments checked", '<table id="deployments"><thead><tr><th>model_name</th><th>model</th>'
                          f"<th>where</th><th>result</th></tr></thead><tbody>{deployments}</tbody></table>"))
        files = ", ".join(f"<code>{esc(f)}</code>" for f in doc["files"])
        return h.page(f"costctl verify — {esc(proxy['url'])}", "A running proxy against its config",
                      f"<code>{esc(proxy['url'])}</code> against {files}", body, _footer(doc["catalog"]))
