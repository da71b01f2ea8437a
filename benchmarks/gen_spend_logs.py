"""Deterministic LiteLLM spend-log generator: N rows for a config, with injected faults.

    python benchmarks/gen_spend_logs.py examples/config.yaml --rows 1000000 --format csv > logs.csv

Rows look like LiteLLM_SpendLogs exports (metadata with usage_object, request_tags, hashed api
keys). `spend` is what LiteLLM records for a correctly priced request (computed with costctl's
reference pricing, written as a float like the proxy does), except for about --fault-rate of the
rows per cause: zero-spend, default-price (custom deployments), cache-not-discounted (rows with
cached tokens), unit-error (x1e6), other (x1.37), unknown-deployment (a model_id not in the
config). Cache hits and failures are included (expected $0). `--bad-rows K` appends K malformed
rows (non-integer tokens, broken metadata) for the skip accounting.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from costctl.catalog.store import load_catalog  # noqa: E402
from costctl.config import load_config  # noqa: E402
from costctl.pricing import Usage  # noqa: E402
from costctl.reconcile.pricer import Pricer  # noqa: E402

COLUMNS = ["request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens",
           "startTime", "endTime", "model", "model_id", "model_group", "custom_llm_provider", "api_base", "user",
           "metadata", "cache_hit", "cache_key", "request_tags", "team_id", "end_user", "status"]
AZURE_RESPONSE_MODELS = ["gpt-4o-mini-2024-07-18", "gpt-4o-2024-11-20"]


def usage_for(rng: random.Random) -> Usage:
    prompt = rng.choice([rng.randint(10, 2000), rng.randint(2000, 60000), rng.randint(60000, 250000)])
    cached = rng.choice([0, 0, rng.randint(0, prompt // 2)])
    writes = rng.choice([0, 0, 0, rng.randint(0, (prompt - cached) // 3)])
    completion = rng.randint(1, 4000)
    reasoning = rng.choice([0, 0, rng.randint(0, completion)])
    return Usage(prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached,
                 cache_creation_tokens=writes, reasoning_tokens=reasoning)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--format", choices=["csv", "jsonl", "json"], default="csv")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault-rate", type=float, default=0.01)
    parser.add_argument("--bad-rows", type=int, default=0)
    parser.add_argument("--days", type=float, default=0,
                        help="spread the rows evenly over this many days (default: 2.5 s apart)")
    parser.add_argument("--faults", default="zero-spend,default-price,cache-not-discounted,unit-error,other,unknown",
                        help="comma-separated fault kinds to inject, each at --fault-rate")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    cfg = load_config(args.config, environ={})
    pricer = Pricer(cfg, load_catalog("bundled"))
    deployments = [d for d in cfg.deployments if not d.wildcard]
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    step = args.days * 86400 / max(args.rows, 1) if args.days else 2.5
    out = sys.stdout
    writer = csv.writer(out, lineterminator="\n") if args.format == "csv" else None
    if writer:
        writer.writerow(COLUMNS)
    if args.format == "json":
        out.write("[\n")
    first = True
    for i in range(args.rows + args.bad_rows):
        dep = rng.choice(deployments)
        usage = usage_for(rng)
        bare = dep.model.split("/", 1)[1] if "/" in dep.model else dep.model
        response_model = rng.choice(AZURE_RESPONSE_MODELS) if dep.model.startswith("azure/") and not dep.base_model \
            else bare
        roll = rng.random()
        faults = args.faults.split(",") if args.faults else []
        fault = faults[int(roll / args.fault_rate)] if roll < args.fault_rate * len(faults) else None
        if fault == "cache-not-discounted" and not usage.cached_tokens:
            usage.cached_tokens = usage.prompt_tokens // 2
            usage.cache_creation_tokens = 0
        priced, _ = pricer.join(dep.deployment_id, dep.model_name, response_model, "")
        spend = priced.cost(usage)
        model_id = dep.deployment_id
        status, cache_hit = "success", "False"
        if fault == "zero-spend" and spend > 0:
            spend = Decimal(0)
        elif fault == "default-price" and priced.custom and priced.default_entry:
            spend = priced.cost(usage, "default")
        elif fault == "cache-not-discounted" and usage.cached_tokens:
            spend = priced.cost(usage, "no-cache-discount")
        elif fault == "unit-error":
            spend = spend * 1_000_000
        elif fault == "other":
            spend = spend * Decimal("1.37")
        elif fault == "unknown":
            model_id = hashlib.sha256(f"gone-{i}".encode()).hexdigest()
        elif roll > 0.99:
            cache_hit, spend = "True", Decimal(0)
        elif roll > 0.985:
            status, spend = "failure", Decimal(0)
        when = start + timedelta(seconds=i * step)
        usage_object = {
            "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            "cache_creation_input_tokens": usage.cache_creation_tokens,
        }
        metadata = {"usage_object": usage_object, "user_api_key_alias": f"svc-{i % 17}"}
        row = {
            "request_id": f"chatcmpl-{hashlib.md5(f'{args.seed}-{i}'.encode()).hexdigest()}",
            "call_type": "acompletion",
            "api_key": hashlib.sha256(f"key-{i % 23}".encode()).hexdigest(),
            "spend": repr(float(spend)),
            "total_tokens": usage.prompt_tokens + usage.completion_tokens,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "startTime": when.isoformat().replace("+00:00", "Z"),
            "endTime": (when + timedelta(seconds=1.2)).isoformat().replace("+00:00", "Z"),
            "model": response_model,
            "model_id": model_id,
            "model_group": dep.model_name,
            "custom_llm_provider": priced.provider or "",
            "api_base": "",
            "user": f"user-{i % 41}",
            "metadata": json.dumps(metadata),
            "cache_hit": cache_hit,
            "cache_key": "",
            "request_tags": json.dumps([f"app:{['chat', 'search', 'batch'][i % 3]}"]),
            "team_id": f"team-{i % 5}",
            "end_user": "",
            "status": status,
        }
        if i >= args.rows:  # malformed rows, for the skip accounting
            if (i - args.rows) % 2 == 0:
                row["prompt_tokens"] = "12.5"
            else:
                row["metadata"] = "{not json"
        if writer:
            writer.writerow([row[c] for c in COLUMNS])
        else:
            native = dict(row)
            if args.format == "json" or args.format == "jsonl":
                native["spend"] = float(spend)
            text = json.dumps(native)
            if args.format == "json":
                out.write(("" if first else ",\n") + text)
            else:
                out.write(text + "\n")
        first = False
    if args.format == "json":
        out.write("\n]\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
