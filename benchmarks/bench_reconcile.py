"""Reconcile throughput and memory against the reconcile issue's targets.

    python benchmarks/bench_reconcile.py [--rows 1000000] [--format csv|jsonl|json] [--runs 1] [--engine E]

Generates a deterministic spend log for examples/config.yaml once (benchmarks/out/, reused),
runs `costctl reconcile` on it as a user would (a fresh process each run) and prints rows/s and
peak RSS next to the targets (>= 100,000 rows/s, < 300 MB). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_ROWS_PER_S = 100_000
TARGET_RSS_MB = 300
BASELINE = """
import csv, sys
csv.field_size_limit(2**31 - 1)
with open(sys.argv[1], newline="") as fh:
    reader = csv.reader(fh)
    header = next(reader)
    s, p = header.index("spend"), header.index("prompt_tokens")
    total = tokens = 0
    for row in reader:
        total += float(row[s]); tokens += int(row[p])
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["csv", "jsonl", "json"], default="csv")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--engine", choices=["auto", "vectorized", "python"], default="auto",
                        help="costctl reconcile --engine (COSTCTL_DUCKDB_MEMORY caps the vectorized engine's memory)")
    parser.add_argument("--config", type=Path, default=ROOT / "examples" / "config.yaml",
                        help="config the log is generated for (tests/data/crosscheck_providers.yaml: 78 deployments)")
    args = parser.parse_args()
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    log = out / f"spend_{args.config.stem}_{args.rows}.{args.format}"
    if not log.exists():
        start = time.perf_counter()
        with log.open("w") as fh:
            subprocess.run([sys.executable, str(HERE / "gen_spend_logs.py"), str(args.config),
                            "--rows", str(args.rows), "--format", args.format], check=True, stdout=fh)
        print(f"generated {log.name} ({log.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f} s")
    walls = []
    baseline = None
    if args.format == "csv":
        # same-run baseline: Python's csv.reader merely summing two columns (the machine's speed
        # varies from run to run; this puts the figure in context)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", BASELINE, str(log)], check=True)
        baseline = args.rows / (time.perf_counter() - start)
    rss_mb = 0.0
    for _ in range(args.runs):
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "costctl", "reconcile", str(args.config),
                                 str(log), "--format", "json", "--quiet", "--engine", args.engine],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        walls.append(time.perf_counter() - start)
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise SystemExit("reconcile failed (run it by hand to see why)")
        rss_mb = max(rss_mb, usage.ru_maxrss / 1024)
    wall = statistics.median(walls)
    rate = args.rows / wall
    print(f"{'measure':<36} {'value':>12} {'target':>12}")
    print(f"{'wall s (median of ' + str(args.runs) + ')':<36} {wall:>12.2f}")
    print(f"{'rows/s':<36} {rate:>12,.0f} {'>= ' + format(TARGET_ROWS_PER_S, ','):>12} "
          f"{'' if rate >= TARGET_ROWS_PER_S else 'MISSED'}")
    if baseline:
        print(f"{'baseline: csv.reader sum, rows/s':<36} {baseline:>12,.0f}")
    print(f"{'peak RSS MB':<36} {rss_mb:>12.0f} {'< ' + str(TARGET_RSS_MB):>12} "
          f"{'' if rss_mb < TARGET_RSS_MB else 'MISSED'}")
    return 0 if rate >= TARGET_ROWS_PER_S and rss_mb < TARGET_RSS_MB else 1


if __name__ == "__main__":
    sys.exit(main())
