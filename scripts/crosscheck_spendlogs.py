"""End-to-end check of `costctl reconcile` against spend-log rows written by LiteLLM itself.

Run in a scratch virtualenv with litellm (and the proxy's extras: fastapi, backoff, ...) and
costctl installed; litellm is never a costctl dependency:

    LITELLM_LOCAL_MODEL_COST_MAP=True python scripts/crosscheck_spendlogs.py CONFIG [--per-deployment 20]

For every deployment it sends mocked requests with random usage (cached reads, cache writes by
lifetime, reasoning tokens) through LiteLLM's Router, turns each logged request into a
LiteLLM_SpendLogs row with the proxy's own `get_logging_payload`, writes them as JSONL, and
reconciles that file against CONFIG with costctl. A correct costctl reports no mismatch. Prints
the summary; exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
import yaml  # noqa: E402
from litellm.integrations.custom_logger import CustomLogger  # noqa: E402
from litellm.proxy.spend_tracking.spend_tracking_utils import get_logging_payload  # noqa: E402
from litellm.types.utils import (  # noqa: E402
    CacheCreationTokenDetails,
    CompletionTokensDetailsWrapper,
    ModelResponse,
    PromptTokensDetailsWrapper,
    Usage,
)

from costctl import api  # noqa: E402

ROWS: list[dict] = []
ROUTER: dict = {}


class Capture(CustomLogger):
    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):  # type: ignore[no-untyped-def]
        ROWS.append(dict(get_logging_payload(kwargs, response_obj, start_time, end_time, ROUTER.get("router"))))


def random_usage(rng: random.Random) -> Usage:
    prompt = rng.choice([rng.randint(10, 5000), rng.randint(5000, 150_000), rng.randint(150_000, 300_000)])
    cached = rng.choice([0, rng.randint(0, prompt // 3)])
    writes = rng.choice([0, 0, rng.randint(0, (prompt - cached) // 3)])
    one_hour = rng.choice([0, writes // 2])
    completion = rng.randint(1, 3000)
    reasoning = rng.choice([0, rng.randint(0, completion)])
    details = CacheCreationTokenDetails(ephemeral_1h_input_tokens=one_hour or None,
                                        ephemeral_5m_input_tokens=(writes - one_hour) or None) if one_hour else None
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion,
                 cache_creation_input_tokens=writes or None,
                 prompt_tokens_details=PromptTokensDetailsWrapper(cached_tokens=cached,
                                                                  cache_creation_token_details=details),
                 completion_tokens_details=CompletionTokensDetailsWrapper(reasoning_tokens=reasoning))


async def generate(config: Path, per_deployment: int, seed: int) -> None:
    from litellm import Router

    raw = yaml.safe_load(config.read_text())
    model_list = [e for e in raw["model_list"] if "*" not in str(e.get("model_name"))]
    discounts = (raw.get("litellm_settings") or {}).get("cost_discount_config")
    if discounts:
        litellm.cost_discount_config = {k: float(v) for k, v in discounts.items()}
    litellm.callbacks = [Capture()]
    router = Router(model_list=model_list)
    ROUTER["router"] = router
    rng = random.Random(seed)
    for deployment in router.get_model_list():
        model = deployment["litellm_params"]["model"]
        for _ in range(per_deployment):
            response = ModelResponse(model=model.split("/", 1)[-1], usage=random_usage(rng),
                                     choices=[{"message": {"role": "assistant", "content": "ok"}}])
            try:
                # A deployment id as the model targets that deployment (model_group is then the id:
                # the join goes by model_id, as it does for real logs).
                extra = {"service_tier": rng.choice(["priority", "flex"])} if rng.random() < 0.3 else {}
                await router.acompletion(model=deployment["model_info"]["id"],
                                         messages=[{"role": "user", "content": "hi"}], mock_response=response, **extra)
            except Exception as exc:  # noqa: BLE001 - e.g. image models cannot take a chat request
                print(f"SKIP {deployment['model_name']} ({model}): {type(exc).__name__}")
                break
    await asyncio.sleep(3)  # the success callbacks run in the background


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--per-deployment", type=int, default=20)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(generate(args.config, args.per_deployment, args.seed))
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        for row in ROWS:
            fh.write(json.dumps(row, default=str) + "\n")
    result = api.reconcile(args.config, [fh.name])
    t = result.outcome.totals
    print(f"{len(ROWS)} LiteLLM spend-log rows: {t.rows_reconciled} reconciled, skipped {t.skipped_by_reason}, "
          f"mismatches {t.mismatches_by_cause}, unpriced rows {t.unpriced_rows}")
    by_id = {row["request_id"]: row for row in ROWS}
    for m in result.outcome.top:
        usage = json.loads(by_id[m.request_id]["metadata"]).get("usage_object")
        print(f"MISMATCH {m.model_group} {m.model}: recorded {m.recorded} expected {m.expected} ({m.cause}) "
              f"usage {json.dumps(usage)}")
    os.unlink(fh.name)
    return 1 if t.mismatched_rows else 0


if __name__ == "__main__":
    sys.exit(main())
