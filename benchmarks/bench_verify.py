"""`costctl verify --probe` against a real LiteLLM 1.110.2 proxy with many deployments.

    python benchmarks/bench_verify.py --venv /path/to/litellm-1.110.2-venv [--deployments 500]

Starts the proxy on a generated config (benchmarks/gen_config.py), then times, each as a user
runs it (a fresh process): verify without probes, verify --probe, and as the same-run baseline
the same number of mocked requests sent one after another with urllib, no costctl. Target: a
500-deployment proxy verified in under a minute. Exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
TARGET_S = 60.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", required=True, help="virtualenv with litellm 1.110.2 and its proxy requirements")
    parser.add_argument("--deployments", type=int, default=500)
    args = parser.parse_args()
    os.environ["COSTCTL_LITELLM_1_110_2"] = args.venv
    from proxies import provider_env, start_proxy  # the tests' proxy harness

    work = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    config = work / "config.yaml"
    config.write_text(subprocess.run([sys.executable, str(HERE / "gen_config.py"), str(args.deployments)],
                                     capture_output=True, text=True, check=True).stdout, encoding="utf-8")
    extra = {"PROVIDER_KEY": "dummy"}
    started = time.perf_counter()
    proxy = start_proxy("1.110.2", config, work / "proxy", extra_env=extra, timeout=600)
    ready = time.perf_counter() - started
    env = {**os.environ, **provider_env(), **extra, "LITELLM_MASTER_KEY": proxy.key}
    try:
        timings = {}
        for label, flags in (("verify", []), ("verify --probe", ["--probe"])):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "costctl", "verify", str(config), "--proxy", proxy.url,
                                   "-f", "json", *flags], capture_output=True, text=True, env=env)
            timings[label] = time.perf_counter() - start
            if done.returncode == 2:
                raise SystemExit(f"{label} failed: {done.stderr}")
            doc = json.loads(done.stdout)
        probes = doc["probes"]["sent"]
        ids = [f for f in doc["findings"] if f["code"] == "CST330"]
        # baseline: the same number of mocked requests, one at a time, without costctl
        body = json.dumps({"model": next(iter(json.loads(urllib.request.urlopen(urllib.request.Request(
            proxy.url + "/model/info", headers={"Authorization": f"Bearer {proxy.key}"})).read())["data"]))
            ["model_info"]["id"], "messages": [{"role": "user", "content": "x"}], "mock_response": "ok"}).encode()
        start = time.perf_counter()
        for _ in range(probes):
            urllib.request.urlopen(urllib.request.Request(
                proxy.url + "/chat/completions", data=body, headers={"Authorization": f"Bearer {proxy.key}",
                                                                     "Content-Type": "application/json"})).read()
        baseline = time.perf_counter() - start
    finally:
        proxy.stop()
    print(f"deployments: {args.deployments}; proxy ready in {ready:.1f} s")
    print(f"verify (API and Model Hub):  {timings['verify']:6.1f} s")
    print(f"verify --probe ({probes} probes, {doc['probes']['charges_verified']} charges verified, "
          f"{len(ids)} differing): {timings['verify --probe']:6.1f} s   target < {TARGET_S:.0f} s")
    print(f"baseline: {probes} mocked requests one at a time with urllib: {baseline:6.1f} s")
    return 0 if timings["verify --probe"] < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
