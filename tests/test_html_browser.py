"""The example HTML reports in a real browser: Debian's Chromium, headless, driven by Playwright.

Each page loads with no console error and no network request, shows the JSON report's numbers,
filters and sorts; a 1280x800 screenshot of each lands in $COSTCTL_SCREENSHOTS (.ci/run keeps
them beside its output). Without Playwright or Chromium these tests skip with one line; .ci/run
installs both and sets COSTCTL_REQUIRE_BROWSER=1, which turns a skip into a failure."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from html_pages import build

CHROMIUM = os.environ.get("COSTCTL_CHROMIUM", "/usr/bin/chromium")
# as the machine's notes advise: no background connections, no sandbox for root
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _why_not() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs Playwright (pip install playwright) and Chromium: .ci/run installs both"
    if not os.access(CHROMIUM, os.X_OK):
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium): .ci/run installs it"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _why_not()
    if reason:
        if os.environ.get("COSTCTL_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("html")
    return path, build(path)


class Opened:
    """A page opened from its file, with what it logged and every request it made."""

    def __init__(self, browser, path: Path, scheme: str = "light") -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=scheme)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.as_uri()
        self.page.goto(self.url, wait_until="load")

    def __enter__(self) -> "Opened":
        return self

    def __exit__(self, *exc: object) -> None:
        self.context.close()

    def visible_rows(self, table: str) -> list[str]:
        return self.page.eval_on_selector_all(f"#{table} > tbody > tr", "rs => rs.filter(r => !r.hidden)"
                                                                   ".map(r => r.textContent.toLowerCase())")


@pytest.mark.parametrize("name", ["show", "reconcile", "diff", "verify"])
def test_a_page_loads_offline_without_errors_and_is_photographed(browser, folder, name):
    path, _pages = folder
    with Opened(browser, path / f"{name}.html") as opened:
        assert opened.errors == []
        assert opened.requests == [opened.url], "the page asked the network for something"
        title = opened.page.title()
        assert title.startswith(f"costctl {name}")
        # nothing wider than the window: wide tables scroll inside the page
        assert opened.page.evaluate("document.documentElement.scrollWidth") <= 1280
        shots = Path(os.environ.get("COSTCTL_SCREENSHOTS") or path)
        shots.mkdir(parents=True, exist_ok=True)
        opened.page.screenshot(path=str(shots / f"{name}.png"))
        assert (shots / f"{name}.png").stat().st_size > 10_000


def test_reconcile_shows_the_json_reports_numbers(browser, folder):
    path, pages = folder
    _html, doc = pages["reconcile"]
    s = doc["summary"]
    with Opened(browser, path / "reconcile.html") as opened:
        page = opened.page
        for ident, key in (("recorded", "recorded_usd"), ("expected", "expected_usd"), ("delta", "delta_usd")):
            exact = page.get_attribute(f"#{ident} .usd", "data-usd")
            assert Decimal(exact) == Decimal(s[key])
        shown = page.inner_text("#recorded")
        assert shown == f"${Decimal(s['recorded_usd']):,.2f}"
        points = page.eval_on_selector_all("#per-day circle", "cs => cs.map(c => [c.dataset.label, c.dataset.series, "
                                                              "c.dataset.usd])")
        per_day: dict[tuple[str, str], Decimal] = {}
        for g in doc["groups"]:
            for series in ("recorded", "expected"):
                k = (g["key"]["day"], series)
                per_day[k] = per_day.get(k, Decimal(0)) + Decimal(g[f"{series}_usd"])
        assert {(d, sr): Decimal(v) for d, sr, v in points} == per_day
        assert page.is_visible("#per-group svg") and page.is_visible("#per-day svg")


def test_the_filter_box_narrows_the_price_list(browser, folder):
    path, pages = folder
    _html, doc = pages["show"]
    with Opened(browser, path / "show.html") as opened:
        everything = opened.visible_rows("prices")
        assert len(everything) == len(doc["deployments"])
        opened.page.fill("input.filter", "claude")
        rows = opened.visible_rows("prices")
        assert 0 < len(rows) < len(everything) and all("claude" in r for r in rows)
        assert len(rows) == sum(1 for r in everything if "claude" in r)
        assert opened.page.inner_text("#prices-shown") == f"{len(rows)} of {len(everything)}"
        opened.page.fill("input.filter", "")
        assert len(opened.visible_rows("prices")) == len(everything)
        assert opened.errors == []


def test_the_findings_filter_and_the_mismatch_sort(browser, folder):
    path, pages = folder
    with Opened(browser, path / "verify.html") as opened:
        code = pages["verify"][1]["findings"][0]["code"]
        everything = opened.visible_rows("findings")
        opened.page.fill("input.filter", code)
        rows = opened.visible_rows("findings")
        assert rows and rows == [r for r in everything if code.lower() in r]
    with Opened(browser, path / "reconcile.html") as opened:
        page = opened.page
        page.click("#mismatches th:has-text('recorded')")
        values = page.eval_on_selector_all("#mismatches tbody tr", "rs => rs.map(r => r.cells[6].dataset.v)")
        assert [Decimal(v) for v in values] == sorted((Decimal(v) for v in values), reverse=True)
        page.click("#mismatches th:has-text('recorded')")
        again = page.eval_on_selector_all("#mismatches tbody tr", "rs => rs.map(r => r.cells[6].dataset.v)")
        assert again == values[::-1] or [Decimal(v) for v in again] == sorted(Decimal(v) for v in values)
        assert opened.errors == []


def test_dark_and_print(browser, folder):
    path, _pages = folder
    with Opened(browser, path / "reconcile.html", scheme="dark") as opened:
        background = opened.page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(13, 17, 23)"
        shots = Path(os.environ.get("COSTCTL_SCREENSHOTS") or path)
        opened.page.screenshot(path=str(shots / "reconcile-dark.png"))
        opened.page.emulate_media(media="print")
        assert opened.page.evaluate("getComputedStyle(document.querySelector('input.filter')).display") == "none"
        pdf = opened.page.pdf()
        assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2


def test_without_scripts_the_numbers_and_charts_are_there(browser, folder):
    path, pages = folder
    s = pages["reconcile"][1]["summary"]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto((path / "reconcile.html").as_uri(), wait_until="load")
        assert page.inner_text("#recorded") == f"${Decimal(s['recorded_usd']):,.2f}"
        assert page.is_visible("#per-day svg") and page.is_visible("#mismatches")
        assert len(page.query_selector_all("#group-table > tbody > tr")) == len(pages["reconcile"][1]["groups"])
    finally:
        context.close()
