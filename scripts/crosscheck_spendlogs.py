"""End-to-end check of `costctl reconcile` against spend-log rows written by LiteLLM itself.

Run in a scratch virtualenv with litellm (and the proxy's extras: fastapi, backoff, ...) and
costctl installed; litellm is never a costctl dependency:

    LITELLM_LOCAL_MODEL_COST_MAP=True python scripts/crosscheck_spendlogs.py CONFIG [--per-deployment 20]

For every deployment it sends mocked requests with random usage (cached reads, cache writes by
lifetime, reasoning, image/audio/video tokens, Anthropic geo and fast mode, service tiers, some
with a provider-reported `usage.cost`) through LiteLLM's Router, with the config's discount and
margin set as the proxy sets them, turns each logged request into a LiteLLM_SpendLogs row with
the proxy's own `get_logging_payload`, writes them as JSONL, and reconciles that file against
CONFIG with costctl's reference engine, then with the vectorized engine (which must agree, or
say it hands the input to the reference). A correct costctl reports no mismatch. Prints the
summary; exits 1 on any mismatch, a disagreement between the engines, or no rows at all.
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
from costctl.errors import CostctlError  # noqa: E402

ROWS: list[dict] = []
ROUTER: dict = {}


class Capture(CustomLogger):
    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):  # type: ignore[no-untyped-def]
        ROWS.append(dict(get_logging_payload(kwargs, response_obj, start_time, end_time, ROUTER.get("router"))))


def random_usage(rng: random.Random, reported_share: float) -> Usage:
    prompt = rng.choice([rng.randint(10, 5000), rng.randint(5000, 150_000), rng.randint(150_000, 300_000)])
    cached = rng.choice([0, rng.randint(0, prompt // 3)])
    writes = rng.choice([0, 0, rng.randint(0, (prompt - cached) // 3)])
    one_hour = rng.choice([0, writes // 2])
    completion = rng.randint(1, 3000)
    reasoning = rng.choice([0, rng.randint(0, completion)])
    left = prompt - cached - writes
    # per-modality counts on some requests (image, audio and video input; image output)
    image, audio, video = (rng.randint(0, left // 4), rng.randint(0, left // 4), rng.randint(0, left // 8)) \
        if rng.random() < 0.3 else (0, 0, 0)
    image_out = rng.randint(0, (completion - reasoning) // 2) if rng.random() < 0.2 else 0
    details = CacheCreationTokenDetails(ephemeral_1h_input_tokens=one_hour or None,
                                        ephemeral_5m_input_tokens=(writes - one_hour) or None) if one_hour else None
    usage = Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion,
                  cache_creation_input_tokens=writes or None,
                  prompt_tokens_details=PromptTokensDetailsWrapper(
                      cached_tokens=cached, cache_creation_token_details=details, image_tokens=image or None,
                      audio_tokens=audio or None, video_tokens=video or None),
                  completion_tokens_details=CompletionTokensDetailsWrapper(reasoning_tokens=reasoning,
                                                                           image_tokens=image_out or None))
    if rng.random() < 0.3:  # Anthropic's geo and fast-mode surcharges
        usage.inference_geo = rng.choice(["us", "global", "eu"])
        usage.speed = rng.choice(["fast", "standard"])
    if rng.random() < reported_share:  # a cost the provider reports itself
        usage.cost = round(rng.uniform(0, 0.05), 6)
    return usage


async def generate(config: Path, per_deployment: int, seed: int, reported_share: float) -> None:
    from litellm import Router

    raw = yaml.safe_load(config.read_text())
    model_list = [e for e in raw["model_list"] if "*" not in str(e.get("model_name"))]
    settings = raw.get("litellm_settings") or {}
    if settings.get("cost_discount_config"):  # the proxy sets both from litellm_settings
        litellm.cost_discount_config = {k: float(v) for k, v in settings["cost_discount_config"].items()}
    if settings.get("cost_margin_config"):
        litellm.cost_margin_config = settings["cost_margin_config"]
    litellm.callbacks = [Capture()]
    router = Router(model_list=model_list)
    ROUTER["router"] = router
    rng = random.Random(seed)
    for deployment in router.get_model_list():
        model = deployment["litellm_params"]["model"]
        for _ in range(per_deployment):
            response = ModelResponse(model=model.split("/", 1)[-1], usage=random_usage(rng, reported_share),
                                     choices=[{"message": {"role": "assistant", "content": "ok"}}])
            try:
                # A deployment id as the model targets that deployment (model_group is then the id:
                # the join goes by model_id, as it does for real logs).
                extra = {"service_tier": rng.choice(["priority", "flex"])} if rng.random() < 0.3 else {}
                call = {"model": deployment["model_info"]["id"], "messages": [{"role": "user", "content": "hi"}],
                        "mock_response": response}
                try:
                    await router.acompletion(**call, **extra)
                except litellm.UnsupportedParamsError:  # a provider without service tiers
                    await router.acompletion(**call)
            except Exception as exc:  # noqa: BLE001 - e.g. image models cannot take a chat request
                print(f"SKIP {deployment['model_name']} ({model}): {type(exc).__name__}")
                break
    await asyncio.sleep(3)  # the success callbacks run in the background


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--per-deployment", type=int, default=20)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--reported-cost-share", type=float, default=0.1,
                        help="share of requests whose usage block carries a provider-reported cost")
    args = parser.parse_args()
    asyncio.run(generate(args.config, args.per_deployment, args.seed, args.reported_cost_share))
    if not ROWS:
        print("no spend-log rows were logged: nothing was compared")
        return 1
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        for row in ROWS:
            fh.write(json.dumps(row, default=str) + "\n")
    result = api.reconcile(args.config, [fh.name], engine="python")
    t = result.outcome.totals
    print(f"{len(ROWS)} LiteLLM spend-log rows: {t.rows_reconciled} reconciled, skipped {t.skipped_by_reason}, "
          f"mismatches {t.mismatches_by_cause}, unpriced rows {t.unpriced_rows}")
    # the DuckDB engine on the same rows, unless it hands them to the reference (`auto` does that)
    try:
        other = api.reconcile(args.config, [fh.name], engine="vectorized").outcome.totals
    except CostctlError as exc:
        print(f"vectorized engine: {exc}")
        same = True
    else:
        same = (other.rows_reconciled, other.skipped_by_reason, other.recorded, other.expected,
                other.mismatches_by_cause) == (t.rows_reconciled, t.skipped_by_reason, t.recorded, t.expected,
                                               t.mismatches_by_cause)
        print(f"engines {'agree' if same else 'DISAGREE'}: vectorized expected {other.expected}, reference {t.expected}")
    by_id = {row["request_id"]: row for row in ROWS}
    for m in result.outcome.top:
        usage = json.loads(by_id[m.request_id]["metadata"]).get("usage_object")
        print(f"MISMATCH {m.model_group} {m.model}: recorded {m.recorded} expected {m.expected} ({m.cause}) "
              f"usage {json.dumps(usage)}")
    os.unlink(fh.name)
    return 1 if t.mismatched_rows or not same else 0


if __name__ == "__main__":
    sys.exit(main())
