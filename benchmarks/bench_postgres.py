"""Reconcile straight from LiteLLM's PostgreSQL against what users run today, on one machine.

    COSTCTL_LITELLM_MIGRATIONS=.../litellm_proxy_extras/migrations \\
        python benchmarks/bench_postgres.py [--rows 1000000] [--runs 3]

Starts a throw-away PostgreSQL (tests/pg.py: initdb, 127.0.0.1, LiteLLM's own migrations),
loads the deterministic log of benchmarks/gen_spend_logs.py (tests/data/crosscheck_providers.yaml,
~1 % faults of each cause) into LiteLLM_SpendLogs, then prints, median of --runs, each a fresh
process:

- export: `psql -c "\\copy (SELECT * FROM \\"LiteLLM_SpendLogs\\") TO file CSV HEADER"` alone;
- export + file engine: that, then `costctl reconcile config.yaml export.csv` (auto: DuckDB);
- copied out: `costctl reconcile config.yaml postgresql://...` (the default: one COPY of the
  columns costctl reads as CSV, then the file engine);
- pushdown: `... --engine vectorized` (priced in the database);
- python over the cursor: `costctl reconcile ... --engine python` (with --python-engine);

with the peak RSS of the costctl process. Targets (issue 15): pushdown faster than the export
alone, and than export + file engine; costctl's memory flat in the row count. Exits 1 when a
target is missed. Checks that pushdown's totals equal the file route's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
import pg  # noqa: E402  (tests/pg.py: the throw-away server)

CONFIG = ROOT / "tests" / "data" / "crosscheck_providers.yaml"
PEAK = ("import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
        "sys.stdout.buffer.write(done.stdout)\n"
        "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
        "sys.exit(done.returncode)\n")


def run(cmd: list[str]) -> tuple[float, float, bytes]:
    """Wall seconds, peak RSS (MB) of `cmd` alone, and its stdout."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *cmd], capture_output=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode})")
    return wall, int(done.stderr.decode().strip().splitlines()[-1]) / 1024, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python-engine", action="store_true", help="also time --engine python over the cursor")
    args = parser.parse_args()
    reason = pg.why_not()
    if reason:
        raise SystemExit(f"bench_postgres: {reason}")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    log = out / f"spend_{CONFIG.stem}_{args.rows}.csv"
    if not log.exists():
        with log.open("w") as fh:
            subprocess.run([sys.executable, str(HERE / "gen_spend_logs.py"), str(CONFIG), "--rows", str(args.rows)],
                           check=True, stdout=fh)
    server = pg.Server()
    try:
        server.template()
        uri = server.fresh()
        started = time.perf_counter()
        loaded = pg.load_csv(uri, log)
        server.execute(uri.rsplit("/", 1)[1], 'VACUUM ANALYZE "LiteLLM_SpendLogs"')
        print(f"loaded {loaded:,} of {args.rows:,} generated rows in {time.perf_counter() - started:.1f} s")
        psql = pg.pg_bin("psql")
        export = out / "pg_export.csv"
        costctl = [sys.executable, "-m", "costctl", "reconcile", str(CONFIG)]
        figures: dict[str, list[float]] = {}
        peaks: dict[str, float] = {}
        outputs: dict[str, dict] = {}

        def measure(name: str, cmd: list[str]) -> float:
            wall, peak, stdout = run(cmd)
            figures.setdefault(name, []).append(wall)
            peaks[name] = max(peaks.get(name, 0), peak)
            if stdout.strip().startswith(b"{"):
                outputs[name] = json.loads(stdout)["summary"]
            return wall

        for _ in range(args.runs):
            measure("export (\\copy … csv)", [psql, uri, "-c", f'\\copy (SELECT * FROM "LiteLLM_SpendLogs") TO '
                                             f"'{export}' CSV HEADER"])
            measure("file engine on the export", [*costctl, str(export), "--format", "json", "-q"])
            measure("copied out + file engine", [*costctl, uri, "--format", "json", "-q"])
            measure("pushdown", [*costctl, uri, "--engine", "vectorized", "--format", "json", "-q"])
            if args.python_engine:
                measure("python over the cursor", [*costctl, uri, "--engine", "python", "--format", "json", "-q"])
        med = {name: statistics.median(walls) for name, walls in figures.items()}
        med["export + file engine"] = med["export (\\copy … csv)"] + med["file engine on the export"]
        for name, wall in med.items():
            peak = f"{peaks[name]:7.0f} MB peak RSS" if name in peaks else ""
            print(f"{name:32s} {wall:8.2f} s {peak}")
        b = outputs["file engine on the export"]
        same = all(outputs[name][k] == b[k] for name in ("pushdown", "copied out + file engine")
                   for k in ("rows_read", "rows_reconciled", "rows_skipped", "recorded_usd", "expected_usd",
                             "mismatched_rows", "mismatches_by_cause") if k in b)
        print(f"pushdown's and the default route's totals equal the export's: {same}")
        ok = same and med["pushdown"] < med["export (\\copy … csv)"] and med["pushdown"] < med["export + file engine"]
        print("targets met" if ok else "a target was missed")
        return 0 if ok else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
