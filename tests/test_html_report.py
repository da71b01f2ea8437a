"""--format html: self-contained pages whose numbers are the JSON report's, hostile names escaped,
bounded in size. The same pages in a real browser: test_html_browser.py."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from conftest import invoke, run_cli
from html_pages import build

LIMIT = 1_500_000  # bytes a page of the examples may take (issue 16)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    return build(tmp_path_factory.mktemp("pages"))


class Marks(HTMLParser):
    """Every element's attributes, by tag; the text of elements with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.by_id: dict[str, dict[str, str]] = {}
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        self.tags[tag].append(a)
        if "id" in a:
            self.by_id[a["id"]] = a


def marks(page: str) -> Marks:
    m = Marks()
    m.feed(page)
    return m


def first_usd(page: str, ident: str) -> str:
    """The exact amount of the card with this id."""
    found = re.search(rf'id="{ident}"><span class="usd" title="[^"]*" data-usd="([^"]*)"', page)
    assert found, ident
    return found.group(1)


@pytest.mark.parametrize("name", ["show", "reconcile", "diff", "verify"])
def test_a_page_is_self_contained_small_and_fetches_nothing(pages, name):
    page, _doc = pages[name]
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert len(page.encode()) <= LIMIT
    m = marks(page)
    for tag in ("link", "img", "iframe", "object", "embed", "base", "form", "audio", "video", "source"):
        assert not m.tags[tag], f"<{tag}> on the {name} page"
    for tag, elements in m.tags.items():
        for attrs in elements:
            for attr in ("src", "href", "action", "srcset", "poster", "xlink:href"):
                assert attr not in attrs, f"<{tag} {attr}=...> on the {name} page"
    assert "url(" not in page and "@import" not in page
    # the browser is told to refuse any fetch the page might still attempt
    assert m.tags["meta"][2]["content"].startswith("default-src 'none'")
    assert len(m.tags["script"]) == 1 and "fetch(" not in page and "XMLHttpRequest" not in page


def test_reconcile_charts_and_cards_equal_the_json_report(pages):
    page, doc = pages["reconcile"]
    s = doc["summary"]
    for ident, key in (("recorded", "recorded_usd"), ("expected", "expected_usd"), ("delta", "delta_usd"),
                       ("drift", "abs_drift_usd")):
        assert Decimal(first_usd(page, ident)) == Decimal(s[key]), ident
    per_day: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    per_group: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for g in doc["groups"]:
        for series in ("recorded", "expected"):
            per_day[g["key"]["day"], series] += Decimal(g[f"{series}_usd"])
            per_group[g["key"]["model_group"], series] += Decimal(g[f"{series}_usd"])
    m = marks(page)
    drawn_days = {(c["data-label"], c["data-series"]): Decimal(c["data-usd"]) for c in m.tags["circle"]}
    assert drawn_days == per_day and len(drawn_days) == 2 * 7
    drawn_groups = {(r["data-label"], r["data-series"]): Decimal(r["data-usd"]) for r in m.tags["rect"]}
    assert drawn_groups == per_group
    causes = {t["data-cause"] for t in m.tags["td"] if "data-cause" in t}
    assert causes == set(s["mismatches_by_cause"]) and len(causes) == 6
    for cause, n in s["mismatches_by_cause"].items():
        assert re.search(rf'data-cause="{cause}">{n:,}<', page)
    top = re.findall(r'<tr><td class="mono">([^<]*)</td>', page.split('id="mismatches"')[1].split("</table>")[0])
    assert top == [x["request_id"] for x in doc["mismatches"]] and len(top) == 20
    for reason, n in s["skipped_by_reason"].items():
        assert re.search(rf'data-reason="{reason}">{n:,}<', page)


def test_diff_bars_equal_the_projection(pages):
    page, doc = pages["diff"]
    p = doc["projection"]
    drawn = {(r["data-label"], r["data-series"]): Decimal(r["data-usd"]) for r in marks(page).tags["rect"]}
    expected = {}
    for g in p["groups"]:
        expected[g["model_group"], "before"] = Decimal(g["base_usd"])
        expected[g["model_group"], "after"] = Decimal(g["head_usd"])
    assert drawn == expected
    assert Decimal(first_usd(page, "base")) == Decimal(p["base_usd"])
    assert Decimal(first_usd(page, "head")) == Decimal(p["head_usd"])
    assert f'<span id="headline">{html.escape(doc["headline"])}</span>' in page
    n_fields = sum(len(c["fields"]) for c in doc["changes"])
    assert page.count("<tr><td>changed</td>") + page.count("<tr><td>removed</td>") + \
        page.count("<tr><td>added</td>") == n_fields


def test_show_colours_every_price_by_the_json_source(pages):
    page, doc = pages["show"]
    cells = [c for c in marks(page).tags["td"] if "data-source" in c]
    main = ("input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost",
            "cache_creation_input_token_cost")
    assert [(c["data-field"], c["data-source"]) for c in cells] == [
        (f, d["prices"][f]["source"]) for d in doc["deployments"] for f in main]
    # where each price comes from, on hover: the config's line, or the catalog key
    custom = next(c for c in cells if c["data-source"] == "custom")
    assert re.fullmatch(r".*:\d+.*", custom["title"])
    assert any(c["title"].startswith("catalog ") for c in cells if c["data-source"] == "default")
    assert 'class="price zero n"' in page  # a price billed at $0 stands out


def test_verify_lists_what_the_proxy_showed_next_to_the_config(pages):
    page, doc = pages["verify"]
    assert doc["findings"], "the 1.65.0 stand-in has findings"
    for f in doc["findings"]:
        assert f'<td class="mono">{f["code"]}</td>' in page
    assert "1.65.0" in page and doc["proxy"]["url"] in page


def test_hostile_names_are_escaped_everywhere(write):
    evil = '<img src=x onerror=alert(1)></script><script>alert(2)</script>"\''
    config = write("evil.yaml", f"""
        model_list:
          - model_name: {evil!r}
            litellm_params: {{model: "openai/gpt-4o", input_cost_per_token: 0.000001}}
    """.replace("\\'", "''"))
    log = write("evil.csv", "request_id,model_group,model,spend,prompt_tokens,completion_tokens,startTime\n"
                f'"r1","{evil.replace(chr(34), chr(34) * 2)}","gpt-4o",1,10,10,2026-11-01T00:00:00Z\n')
    for args in (["show", str(config)], ["reconcile", str(config), str(log)],
                 ["diff", str(config), str(config), "--usage", str(log)]):
        result = invoke(*args, "--format", "html")
        assert result.returncode in (0, 1), result.stderr
        m = marks(result.stdout)
        assert not m.tags["img"] and len(m.tags["script"]) == 1, args[0]
        assert "onerror=alert" not in result.stdout.replace("&lt;img src=x onerror=alert", "")
        assert "&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;" in result.stdout, args[0]


def test_a_big_reconcile_gives_a_page_of_bounded_size():
    """Thousands of groups over a long window: the page keeps the top groups and the lines."""
    from costctl.report import html as page

    groups = [{"key": {"model_group": f"group-{i % 3000}", "day": f"2026-{1 + i // 3000 % 12:02d}-01"}, "rows": 1,
               "prompt_tokens": 1, "completion_tokens": 1, "recorded_usd": str(i), "expected_usd": "1",
               "delta_usd": str(i - 1), "delta_pct": "1", "mismatched_rows": 0, "unpriced_rows": 0}
              for i in range(36_000)]
    doc = {"options": {"group_by": ["model_group", "day"]}, "groups": groups}
    size = len(page._per_day(doc)) + len(page._per_group(doc)) + len(page._group_table(doc))
    assert size < 400_000
    assert page._group_table(doc).count("<tr>") == page.MAX_ROWS + 1  # the head row, then the top rows


def test_reconcile_html_groups_by_model_group_and_day_unless_told():
    result = run_cli("reconcile", "examples/config.yaml", "examples/spend_logs.csv", "--format", "html",
                     "--group-by", "model_group")
    assert "Group by day (<code>--group-by day</code>) for this chart." in result.stdout
    default = run_cli("reconcile", "examples/config.yaml", "examples/spend_logs.csv", "--format", "html")
    assert 'id="per-day"' in default.stdout


def test_amounts_read_as_money_never_in_exponents():
    from costctl.report.html_page import usd_text

    shown = {v: usd_text(Decimal(v)) for v in ("0.000000342", "0.000000004", "1234.567", "-0.5", "0", "1e-9")}
    assert shown == {"0.000000342": "$0.00000034", "0.000000004": "$0.000000004", "1234.567": "$1,234.57",
                     "-0.5": "-$0.5", "0": "$0", "1e-9": "$0.000000001"}


def test_days_are_placed_by_date_and_rows_without_one_are_noted():
    from costctl.report import html as page

    def group(day: str, usd: str) -> dict:
        return {"key": {"model_group": "g", "day": day}, "recorded_usd": usd, "expected_usd": usd}

    doc = {"options": {"group_by": ["model_group", "day"]},
           "groups": [group("2026-11-01", "1"), group("2026-11-02", "2"), group("2026-11-07", "3"),
                      group("(none)", "4")]}
    drawn = marks(page._per_day(doc))
    x = {c["data-label"]: float(c["cx"]) for c in drawn.tags["circle"] if c["data-series"] == "recorded"}
    assert set(x) == {"2026-11-01", "2026-11-02", "2026-11-07"}  # "(none)" is no day on the axis
    assert abs((x["2026-11-07"] - x["2026-11-02"]) - 5 * (x["2026-11-02"] - x["2026-11-01"])) < 0.5
    assert 'id="no-day">Rows without a startTime: <span class="usd" title="4 USD"' in page._per_day(doc)


def test_tags_are_not_summed_across_and_an_empty_log_is_no_pass(write):
    from costctl.report import html as page

    tagged = {"options": {"group_by": ["model_group", "tag"]},
              "groups": [{"key": {"model_group": "g", "tag": "a"}, "recorded_usd": "1", "expected_usd": "1",
                          "delta_usd": "0"}]}
    assert "not summed" in page._per_group(tagged) and 'id="per-group"' not in page._per_group(tagged)
    by_tag = {"options": {"group_by": ["tag"]}, "groups": tagged["groups"]}
    assert "counts in each" in page._per_group(by_tag)
    empty = write("empty.csv", "request_id,model_group,model,spend,prompt_tokens,completion_tokens\n")
    result = run_cli("reconcile", "examples/config.yaml", str(empty), "--format", "html")
    assert result.returncode == 0 and "No row was reconciled" in result.stdout and "Within the drift" not in result.stdout


def test_verify_names_each_deployments_own_findings():
    """Two deployments of one model group: a finding on one is not the other's."""
    from costctl.catalog.store import load_catalog
    from costctl.report.common import RenderOptions
    from costctl.report.html import HtmlFormatter
    from costctl.results import VerifyResult
    from costctl.rules.base import Finding

    def finding(line: int, severity: str) -> Finding:
        return Finding("c.yaml", line, "CST330", 1, "charge-differs", severity, "charged another price",
                       deployment="gpt-4o")

    result = VerifyResult(load_catalog(), ["c.yaml"], [finding(9, "error"), finding(10, "info")], "error",
                          deployments=[("c.yaml", 2, "gpt-4o", "openai/gpt-4o"), ("c.yaml", 8, "gpt-4o", "azure/x")],
                          proxy="http://127.0.0.1:4000")
    rows = HtmlFormatter().verify(result, RenderOptions()).split("<tbody>")[-1].split("</tbody>")[0]
    first, second = rows.split("</tr>")[:2]
    assert "as configured" in first and "openai/gpt-4o" in first
    assert '<span class="badge sev-error">1 error, 1 info</span>' in second


def test_a_config_path_is_escaped_once(write, tmp_path):
    config = write("a&b.yaml", "model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o}\n")
    log = write("u.csv", "request_id,model_group,model,spend,prompt_tokens,completion_tokens,startTime\n"
                "r1,m,gpt-4o,1,10,10,2026-11-01T00:00:00Z\n")
    result = invoke("diff", str(config), str(config), "--usage", str(log), "--format", "html")
    assert "a&amp;b.yaml" in result.stdout and "&amp;amp;" not in result.stdout
