"""Start-up, `costctl show` and `costctl validate` timings against the issues' targets.

    python benchmarks/bench_cli.py [--deployments 2000] [--runs 5]

Runs each command as a user would (a fresh process every time) and prints the median wall time
next to its target. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def median_wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode not in (0, 1):  # validate exits 1 on findings; 2 is a failure
            raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr}")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "big.yaml"
        with config.open("w") as fh:
            subprocess.run([sys.executable, str(HERE / "gen_config.py"), str(args.deployments)], check=True, stdout=fh)
        costctl = [sys.executable, "-m", "costctl"]
        rows = [
            ("costctl --help", costctl + ["--help"], 0.3),
            ("python -c pass (interpreter start, baseline)", [sys.executable, "-c", "pass"], None),
            (f"show {args.deployments} deployments, table", costctl + ["show", str(config)], 1.5),
            (f"show {args.deployments} deployments, json", costctl + ["show", str(config), "--format", "json"], 1.5),
            (f"show {args.deployments} deployments, csv --all-fields",
             costctl + ["show", str(config), "--format", "csv", "--all-fields"], None),
            (f"validate {args.deployments} deployments, text", costctl + ["validate", str(config)], 2.0),
            (f"validate {args.deployments} deployments, sarif",
             costctl + ["validate", str(config), "--format", "sarif"], 2.0),
        ]
        failed = False
        print(f"{'command':<52} {'median s':>9} {'target s':>9}")
        for name, cmd, target in rows:
            wall = median_wall(cmd, args.runs)
            ok = target is None or wall <= target
            failed |= not ok
            print(f"{name:<52} {wall:>9.3f} {('' if target is None else f'{target:.1f}'):>9} {'' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
