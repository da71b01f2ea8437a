"""The vectorized reconcile engine against its targets, next to same-run baselines.

    python benchmarks/bench_engines.py [--rows 1000000] [--formats csv,jsonl,parquet] [--runs 3]
                                       [--litellm-python /tmp/scratch/llm/bin/python]

For each format, on the deterministic spend log of benchmarks/gen_spend_logs.py (generated once into
benchmarks/out/ for tests/data/crosscheck_providers.yaml: 78 deployments over ~40 providers, ~1 %
faults of each cause) it prints:

- bare DuckDB: `SELECT count(*), sum(spend) FROM read_csv_auto(file)` (read_json_auto /
  read_parquet for the other formats) in a fresh process, median of --runs;
- read floor: a fresh DuckDB process reading only what an exact reconcile needs (the request id,
  spend, token and join columns, and the usage values extracted from `metadata` once), with its
  ratio to bare: the part of the 3x budget reading alone takes;
- start-up: `costctl reconcile --engine vectorized` on the first 2 rows of the same log;
- `costctl reconcile --engine vectorized` and `--engine python` (a fresh process each, median
  wall time, peak RSS of the process tree);
- with --litellm-python: LiteLLM's own `cost_per_token` called once per row on the first 50,000
  rows (a scratch virtualenv with litellm; never a costctl dependency), as rows/s.

Targets (issue 5): vectorized <= 3 x bare DuckDB; >= 100 x LiteLLM's per-row rate; peak RSS
<= 1 GB. Exits 1 when a measured target is missed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIG = ROOT / "tests" / "data" / "crosscheck_providers.yaml"
BARE = {
    "csv": "SELECT count(*), sum(spend) FROM read_csv_auto('{f}')",
    "jsonl": "SELECT count(*), sum(spend) FROM read_json_auto('{f}', format='newline_delimited')",
    "parquet": "SELECT count(*), sum(CAST(spend AS DOUBLE)) FROM read_parquet('{f}')",
}
# The least any exact reconcile of these logs must do: read the columns it needs and extract the
# usage block's values from `metadata` once (no checks, no prices, no sums). Not a target: it shows
# how much of the 3x budget reading alone takes.
NEEDED = ("count(*), sum(length(request_id)), sum(TRY_CAST(spend AS DECIMAL(38,24))), sum(TRY_CAST(prompt_tokens "
          "AS BIGINT)), sum(TRY_CAST(completion_tokens AS BIGINT)), count(DISTINCT (model_id, model_group, model, "
          "custom_llm_provider, cache_hit, status)), sum(len(json_extract(metadata, {paths})))")
FLOOR = {
    "csv": "SELECT " + NEEDED + " FROM read_csv('{f}', all_varchar=true)",
    "jsonl": "SELECT " + NEEDED + " FROM read_json('{f}', format='newline_delimited', columns={json_columns})",
    "parquet": "SELECT " + NEEDED + " FROM read_parquet('{f}')",
}
LITELLM = """
import csv, sys, time, os
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
import litellm
rows = []
with open(sys.argv[1], newline="") as fh:
    for i, row in enumerate(csv.DictReader(fh)):
        if i == 50000:
            break
        rows.append(row)
start = time.perf_counter()
for row in rows:
    try:
        litellm.cost_per_token(model=row["model"], custom_llm_provider=row["custom_llm_provider"] or None,
                               prompt_tokens=int(row["prompt_tokens"]), completion_tokens=int(row["completion_tokens"]))
    except Exception:
        pass
print(len(rows) / (time.perf_counter() - start))
"""


def log_for(rows: int, fmt: str) -> Path:
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    base = out / f"spend_{CONFIG.stem}_{rows}"
    csv_path = base.with_suffix(".csv")
    if not csv_path.exists():
        with csv_path.open("w") as fh:
            subprocess.run([sys.executable, str(HERE / "gen_spend_logs.py"), str(CONFIG), "--rows", str(rows)],
                           check=True, stdout=fh)
    if fmt == "csv":
        return csv_path
    target = base.with_suffix("." + fmt)
    if not target.exists():
        if fmt == "jsonl":
            with target.open("w") as fh:
                subprocess.run([sys.executable, str(HERE / "gen_spend_logs.py"), str(CONFIG), "--rows", str(rows),
                                "--format", "jsonl"], check=True, stdout=fh)
        else:
            import duckdb

            duckdb.connect().execute(f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar=true, quote='\"', "
                                     f"escape='\"')) TO '{target}' (FORMAT parquet)")
    return target


def small_log(log: Path, fmt: str) -> Path:
    """The first 2 rows of `log` in the same format: what costctl costs before reading any data."""
    target = log.with_name(log.stem + "_2rows" + log.suffix)
    if not target.exists():
        if fmt == "parquet":
            import duckdb

            duckdb.connect().execute(f"COPY (SELECT * FROM read_parquet('{log}') LIMIT 2) TO '{target}' "
                                     "(FORMAT parquet)")
        else:
            with log.open() as src, target.open("w") as out:
                for _ in range(3 if fmt == "csv" else 2):
                    out.write(src.readline())
    return target


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of the largest child process of this run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return wall, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,jsonl,parquet")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python-engine", action="store_true", help="also time --engine python (slow)")
    parser.add_argument("--litellm-python", help="a python with litellm installed, for the per-row baseline")
    args = parser.parse_args()
    costctl = [sys.executable, "-m", "costctl", "reconcile", str(CONFIG)]
    litellm_rate = None
    if args.litellm_python:
        rate = subprocess.run([args.litellm_python, "-c", LITELLM, str(log_for(args.rows, "csv"))], check=True,
                              capture_output=True, text=True)
        litellm_rate = float(rate.stdout.split()[-1])
        print(f"LiteLLM cost_per_token per row (50,000 rows): {litellm_rate:,.0f} rows/s")
    missed = []
    print(f"{'format':8} {'MB':>6} {'bare duckdb':>12} {'vectorized':>11} {'ratio':>6} {'rows/s':>10} "
          f"{'peak RSS':>9} {'read floor':>11} {'start-up':>9} {'python engine':>14}")
    from costctl.reconcile.vectorized.parse import PATHS

    paths = "[" + ", ".join(f"'{p}'" for p in PATHS.values()) + "]"
    json_columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in ("request_id", "spend", "prompt_tokens",
                                                                 "completion_tokens", "model_id", "model_group",
                                                                 "model", "custom_llm_provider", "cache_hit",
                                                                 "status", "metadata")) + "}"

    def fresh(query: str) -> float:
        return statistics.median(timed([sys.executable, "-c", f"import duckdb; duckdb.sql({query!r}).fetchall()"])[0]
                                 for _ in range(args.runs))

    for fmt in args.formats.split(","):
        log = log_for(args.rows, fmt)
        bare = fresh(BARE[fmt].format(f=log))
        floor = fresh(FLOOR[fmt].format(f=log, paths=paths, json_columns=json_columns))
        tiny = small_log(log, fmt)
        startup = statistics.median(timed([*costctl, str(tiny), "--engine", "vectorized", "--format", "json"])[0]
                                    for _ in range(args.runs))
        runs = [timed([*costctl, str(log), "--engine", "vectorized", "--format", "json"]) for _ in range(args.runs)]
        wall = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        python = ""
        if args.python_engine:
            python = f"{timed([*costctl, str(log), '--engine', 'python', '--format', 'json'])[0]:.1f} s"
        ratio = wall / bare
        print(f"{fmt:8} {log.stat().st_size / 1e6:6.0f} {bare:11.2f}s {wall:10.2f}s {ratio:5.1f}x "
              f"{args.rows / wall:10,.0f} {rss:7.0f}MB {floor:6.2f}s {floor / bare:3.1f}x {startup:8.2f}s "
              f"{python:>14}")
        if ratio > 3:
            missed.append(f"{fmt}: {ratio:.1f} x bare DuckDB (target <= 3)")
        if rss > 1024:
            missed.append(f"{fmt}: peak RSS {rss:.0f} MB (target <= 1024)")
        if litellm_rate and args.rows / wall < 100 * litellm_rate:
            missed.append(f"{fmt}: {args.rows / wall / litellm_rate:.0f} x LiteLLM per row (target >= 100)")
    for line in missed:
        print("MISSED", line)
    return 1 if missed else 0


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    sys.exit(main())
