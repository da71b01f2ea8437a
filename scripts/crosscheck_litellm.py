"""Check costctl against a real LiteLLM: deployment ids, effective prices and `cost_of`.

Run it in a scratch virtualenv that has both litellm and costctl installed (litellm is never a
costctl dependency):

    python -m venv /tmp/llm && /tmp/llm/bin/pip install 'litellm==1.110.2' -e .
    LITELLM_LOCAL_MODEL_COST_MAP=True /tmp/llm/bin/python scripts/crosscheck_litellm.py examples/config.yaml

For every deployment it builds LiteLLM's Router from the same config, compares the ids, then
sends mocked requests with chosen usage through the Router and compares the cost LiteLLM
records with costctl's `cost_of` over the deployment's effective prices. Prints one line per
disagreement and a summary; exits 1 when anything disagrees.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import yaml  # noqa: E402

from costctl.catalog.store import load_catalog  # noqa: E402
from costctl.config import load_config  # noqa: E402
from costctl.pricing import Usage  # noqa: E402

REL_TOLERANCE = Decimal("1e-9")
AZURE_RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"


def native_model_list(path: Path) -> list[dict]:
    """model_list as the proxy hands it to the Router: includes merged, os.environ/ resolved."""
    root = yaml.safe_load(path.read_text())
    entries = list(root.get("model_list") or [])
    for inc in root.get("include") or []:
        entries += yaml.safe_load((path.parent / inc).read_text()).get("model_list") or []

    def env(value: object) -> object:
        if isinstance(value, str) and value.startswith("os.environ/"):
            return os.environ.get(value[len("os.environ/"):])
        if isinstance(value, dict):
            return {k: env(v) for k, v in value.items()}
        return value

    return [env(e) for e in entries]


def usages(rng: random.Random, n: int) -> list[Usage]:
    fixed = [
        Usage(prompt_tokens=1_000_000),
        Usage(completion_tokens=1_000_000),
        Usage(prompt_tokens=1_000_000, cached_tokens=1_000_000),
        Usage(prompt_tokens=1_000_000, cache_creation_tokens=1_000_000),
        Usage(prompt_tokens=1200, completion_tokens=300, cached_tokens=400),
        Usage(prompt_tokens=250_000, completion_tokens=2000, cached_tokens=1000),
        Usage(prompt_tokens=1200, completion_tokens=900, reasoning_tokens=600),
        Usage(prompt_tokens=5000, completion_tokens=100, cache_creation_tokens=3000, cache_creation_1h_tokens=1000,
              cache_creation_short_tokens=2000),
        Usage(prompt_tokens=5000, completion_tokens=100, cache_creation_tokens=3000, cache_creation_12h_tokens=500,
              cache_creation_1h_tokens=500),
        Usage(prompt_tokens=250_000, completion_tokens=100, cached_tokens=1000, cache_creation_tokens=9000,
              cache_creation_1h_tokens=9000),
    ]
    for _ in range(n):
        prompt = rng.choice([10, 1000, 50_000, 199_999, 200_001, 300_000])
        cached = rng.randint(0, prompt // 2)
        writes = rng.randint(0, (prompt - cached) // 2)
        completion = rng.randint(0, 5000)
        fixed.append(Usage(prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached,
                           cache_creation_tokens=writes, reasoning_tokens=rng.randint(0, completion)))
    return fixed


def litellm_cost(router, deployment_id: str, response_model: str, u: Usage) -> Decimal:
    from litellm.types.utils import (
        CacheCreationTokenDetails,
        CompletionTokensDetailsWrapper,
        ModelResponse,
        PromptTokensDetailsWrapper,
    )
    from litellm.types.utils import Usage as LUsage

    usage = LUsage(
        prompt_tokens=u.prompt_tokens,
        completion_tokens=u.completion_tokens,
        total_tokens=u.prompt_tokens + u.completion_tokens,
        prompt_tokens_details=PromptTokensDetailsWrapper(
            cached_tokens=u.cached_tokens,
            cache_creation_token_details=CacheCreationTokenDetails(
                ephemeral_5m_input_tokens=u.cache_creation_short_tokens or None,
                ephemeral_1h_input_tokens=u.cache_creation_1h_tokens or None,
                ephemeral_12h_input_tokens=u.cache_creation_12h_tokens or None,
            ) if (u.cache_creation_1h_tokens or u.cache_creation_12h_tokens or u.cache_creation_short_tokens) else None,
        ),
        completion_tokens_details=CompletionTokensDetailsWrapper(reasoning_tokens=u.reasoning_tokens),
        cache_creation_input_tokens=u.cache_creation_tokens or None,
    )
    response = ModelResponse(model=response_model, usage=usage,
                             choices=[{"message": {"role": "assistant", "content": "ok"}}])
    # A deployment id is a valid `model` for the Router: it targets that one deployment.
    out = router.completion(model=deployment_id, messages=[{"role": "user", "content": "hi"}],
                            mock_response=response)
    cost = out._hidden_params.get("response_cost")
    return Decimal(repr(float(cost or 0.0)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--random", type=int, default=20, help="random usages per deployment")
    args = parser.parse_args()

    import litellm
    from litellm import Router

    from costctl.reconcile.pricer import Pricer

    cfg = load_config(args.config)
    catalog = load_catalog("bundled")
    model_list = native_model_list(args.config)
    discounts = (cfg.litellm_settings or {}).get("cost_discount_config")
    if discounts:  # the proxy sets this from litellm_settings
        litellm.cost_discount_config = {k: float(v) for k, v in discounts.items()}
    router = Router(model_list=model_list)
    pricer = Pricer(cfg, catalog)
    ids = [d["model_info"]["id"] for d in router.get_model_list()]
    problems = 0
    rng = random.Random(7)
    checked = 0
    skipped: list[str] = []
    for dep, their_id in zip(cfg.deployments, ids, strict=True):
        if dep.deployment_id != their_id:
            problems += 1
            print(f"ID  {dep.model_name} {dep.model}: costctl {dep.deployment_id} litellm {their_id}")
        if dep.wildcard:
            continue
        # Azure without base_model is priced by the model name the response reports.
        response_model = AZURE_RESPONSE_MODEL if dep.model.startswith("azure/") and not dep.base_model \
            else dep.model.split("/", 1)[-1]
        priced, _unknown = pricer.join(dep.deployment_id, dep.model_name, response_model, "")
        for u in usages(rng, args.random):
            try:
                theirs = litellm_cost(router, their_id, response_model, u)
            except Exception as exc:  # noqa: BLE001 - e.g. image models cannot take a chat request
                skipped.append(f"{dep.model_name} ({dep.model}): {type(exc).__name__}")
                break
            ours = priced.cost(u)  # what reconcile expects: join, effective prices, cost_of, discount
            checked += 1
            scale = max(abs(ours), abs(theirs), Decimal("1e-12"))
            if abs(ours - theirs) / scale > REL_TOLERANCE and abs(ours - theirs) > Decimal("1e-15"):
                problems += 1
                print(f"COST {dep.model_name} {dep.model} {u}: costctl {ours} litellm {theirs}")
    for line in skipped:
        print(f"SKIP {line}")
    print(f"{len(cfg.deployments)} deployments, {checked} costs compared, {problems} disagreements, "
          f"{len(skipped)} deployments skipped")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
