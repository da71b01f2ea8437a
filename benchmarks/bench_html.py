"""The HTML reports: their size, and how long Chromium takes to show them.

    python benchmarks/bench_html.py [--rows 1000000] [--runs 3]

Writes the example reports (show, reconcile, diff) and a reconcile of --rows generated rows
(benchmarks/gen_spend_logs.py on tests/data/crosscheck_providers.yaml) as HTML, each beside the
same command's JSON report (the baseline: what the page is drawn from), then opens every page in
Debian's Chromium through Playwright and takes the load time (navigation start to the end of the
load event), median of --runs. Targets (issue 16): each page at most 1.5 MB and shown in under a
second; the big log's page bounded (aggregates and the top rows, not one row per request).
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LIMIT_BYTES = 1_500_000
LIMIT_MS = 1000.0
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def costctl(args: list[str], out: Path) -> float:
    started = time.perf_counter()
    quiet = ["-q"] if args[0] == "reconcile" else []  # no progress bar
    done = subprocess.run([sys.executable, "-m", "costctl", *args, "-o", str(out), *quiet], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"costctl {' '.join(args)}: {done.stderr.strip()}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    config = ROOT / "tests" / "data" / "crosscheck_providers.yaml"
    log = out / f"spend_{config.stem}_{args.rows}.csv"
    if not log.exists():
        with log.open("w") as fh:
            subprocess.run([sys.executable, str(HERE / "gen_spend_logs.py"), str(config), "--rows", str(args.rows)],
                           check=True, stdout=fh)
    reports = {
        "show": ["show", "examples/config.yaml"],
        "reconcile": ["reconcile", "examples/config.yaml", "examples/spend_logs.csv"],
        "diff": ["diff", "examples/config.yaml", "examples/clean.yaml", "--usage", "examples/spend_logs.csv"],
        f"reconcile-{args.rows}": ["reconcile", str(config), str(log), "--group-by", "model_group",
                                   "--group-by", "day"],
    }
    rows = []
    for name, command in reports.items():
        json_s = costctl([*command, "--format", "json"], out / f"page-{name}.json")
        html_s = costctl([*command, "--format", "html"], out / f"page-{name}.html")
        rows.append((name, json_s, html_s, (out / f"page-{name}.json").stat().st_size,
                     (out / f"page-{name}.html").stat().st_size))
    from playwright.sync_api import sync_playwright

    loads: dict[str, float] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS)
        for name, *_ in rows:
            times = []
            for _ in range(args.runs):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto((out / f"page-{name}.html").as_uri(), wait_until="load")
                times.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
                page.close()
            loads[name] = statistics.median(times)
        browser.close()
    print(f"{'report':<22} {'json s':>8} {'html s':>8} {'json bytes':>12} {'html bytes':>12} {'load ms':>9}")
    missed = []
    for name, json_s, html_s, json_b, html_b in rows:
        print(f"{name:<22} {json_s:8.2f} {html_s:8.2f} {json_b:12,} {html_b:12,} {loads[name]:9.0f}")
        if html_b > LIMIT_BYTES:
            missed.append(f"{name}: {html_b:,} bytes > {LIMIT_BYTES:,}")
        if loads[name] > LIMIT_MS:
            missed.append(f"{name}: shown in {loads[name]:.0f} ms > {LIMIT_MS:.0f}")
    for line in missed:
        print("target missed:", line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
