"""Check costctl against a real LiteLLM over the whole bundled catalog, one request shape at a time.

Run it in a scratch virtualenv that has both litellm and costctl installed (litellm is never a
costctl dependency):

    python -m venv /tmp/llm && /tmp/llm/bin/pip install 'litellm==1.110.2' -e .
    LITELLM_LOCAL_MODEL_COST_MAP=True /tmp/llm/bin/python scripts/crosscheck_catalog.py
    ... --provider openai --provider xai --limit 50 --verbose

Every chat / completion / responses entry of the bundled catalog (or an entry without a mode that
has a per-token price) that LiteLLM's own `litellm.model_cost` also holds is deployed the plain
way: a config with one deployment (`model: <provider>/<key>`; for Vertex AI one per
`vertex_location` tried) written to a temporary file, loaded by costctl's config loader and priced
by `costctl.reconcile.pricer.Pricer` (join, effective prices, the cost formula and
`cost_discount_config`), as `costctl reconcile` prices a spend-log row. costctl must resolve the
deployment to the catalog key LiteLLM prices it with (a `resolve(...)` line otherwise).

Usage shapes come from the entry itself: plain prompt/completion; at, just below and just above
each context threshold (`*_above_<N>k_tokens` keys, `tiered_pricing` ranges); cached reads; cache
writes (unattributed, 5-minute, 1-hour, both); reasoning; audio, image and video tokens when the
entry prices them; service tiers (`flex`, `priority`, ...) when it has such keys; Vertex AI with
`vertex_location` global and a region; OpenAI data residency (eu/us/fedramp api_base hosts) when
it has uplift keys; a 5% provider-wide `cost_discount_config` with a 10% + $0.0005 `cost_margin_config` on some
shapes.

LiteLLM prices the same request the way a Router call does (`litellm.completion_cost` on a
`ModelResponse`, with the request's `optional_params`, the data residency inferred from api_base
and the Vertex location resolved as `litellm_logging` resolves it). costctl gets the same token
counts as a `costctl.pricing.Usage`, with the tier, location, residency and times that LiteLLM's
`cost_breakdown` and the log's startTime/endTime would record (every response takes 1.5 s).

Costs must agree within a relative 1e-9. `costctl.pricing.NotRecomputed` is counted by feature,
not as a disagreement; a LiteLLM exception is counted by type. Prints `DIFF provider model shape
costctl=<x> litellm=<y>` per disagreement and a summary; exits 1 when anything disagrees.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import re
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

_STARTED = time.monotonic()
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import yaml  # noqa: E402

from costctl.catalog.store import load_catalog  # noqa: E402
from costctl.config import load_config  # noqa: E402
from costctl.pricing import NotRecomputed, Usage, effective_prices  # noqa: E402
from costctl.reconcile.pricer import Pricer  # noqa: E402

REL_TOLERANCE = Decimal("1e-9")
MODES = ("chat", "completion", "responses")
DISCOUNT = 0.05
MARGIN = {"percentage": 0.1, "fixed_amount": 0.0005}  # cost_margin_config on the discounted shapes
VERTEX_REGION = "us-central1"
RESPONSE_MS = 1500.0
RESIDENCY_HOSTS = {"eu": "https://eu.api.openai.com/v1", "us": "https://us.api.openai.com/v1",
                   "fedramp": "https://gov.api.openai.com/v1"}
SERVICE_TIERS = ("flex", "priority", "balanced", "ultrafast")
# Catalog providers that are not routing prefixes: the provider a deployment names instead.
ROUTE_FAMILIES = (("vertex_ai", "vertex_ai"), ("bedrock", "bedrock"), ("fireworks_ai", "fireworks_ai"))
_THRESHOLD = re.compile(r"_above_(\d+(?:\.\d+)?)(k|m)?_tokens")

# Set in main() before the workers fork.
CATALOG: Any = None
CONFIG_DIR: Path = Path(".")


@dataclass(frozen=True)
class Shape:
    """One request: token counts plus what the request/deployment says about tier and region."""

    name: str
    prompt: int
    completion: int
    cached: int = 0
    writes: int = 0
    w5m: int = 0
    w1h: int = 0
    reasoning: int = 0
    audio_in: int = 0
    audio_out: int = 0
    image_in: int = 0
    image_out: int = 0
    video_in: int = 0
    video_out: int = 0
    tier: str | None = None
    location: str | None = None   # litellm_params.vertex_location of the deployment
    api_base: str | None = None   # litellm_params.api_base (OpenAI regional hosts)
    discount: bool = False

    def label(self) -> str:
        parts = [self.name]
        if self.tier:
            parts.append(f"tier={self.tier}")
        if self.location:
            parts.append(f"vertex_location={self.location}")
        if self.api_base:
            parts.append(f"residency={next(k for k, v in RESIDENCY_HOSTS.items() if v == self.api_base)}")
        if self.discount:
            parts.append(f"discount={DISCOUNT:g},margin={MARGIN['percentage']:g}+{MARGIN['fixed_amount']:g}")
        return ",".join(parts)


@dataclass
class EntryResult:
    provider: str
    key: str
    compared: int = 0
    both_zero: int = 0
    diffs: list[str] = field(default_factory=list)
    not_recomputed: Counter = field(default_factory=Counter)
    litellm_errors: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Which entries, how they are deployed


def selected(entry: dict[str, Any]) -> bool:
    mode = entry.get("mode")
    if mode in MODES:
        return True
    return mode is None and ("input_cost_per_token" in entry or "output_cost_per_token" in entry)


def route_of(key: str, entry: dict[str, Any]) -> tuple[str, str]:
    """(provider a deployment names, litellm_params.model) for a plain deployment of `key`."""
    import litellm

    provider = str(entry.get("litellm_provider") or "")
    if provider not in litellm.provider_list:
        for family, route in ROUTE_FAMILIES:
            if provider.startswith(family):
                provider = route
                break
    if key.startswith(provider + "/"):
        return provider, key
    return provider, f"{provider}/{key}"


def thresholds(entry: dict[str, Any]) -> list[int]:
    """Every context threshold the entry defines, in tokens."""
    found: set[int] = set()
    for name in entry:
        for number, unit in _THRESHOLD.findall(name):
            found.add(int(Decimal(number) * {"k": 1000, "m": 1_000_000, "": 1}[unit]))
    table = entry.get("tiered_pricing")
    if isinstance(table, list):
        for row in table:
            bounds = row.get("range") if isinstance(row, dict) else None
            if isinstance(bounds, list):
                for bound in bounds:
                    try:
                        found.add(int(Decimal(str(bound))))
                    except ArithmeticError:
                        continue
    return sorted(t for t in found if t >= 2)


def _prices(entry: dict[str, Any], word: str) -> bool:
    return any(word in name and ("cost" in name or "pricing" in name) for name in entry)


def _mixed(name: str, prompt: int, **kw: Any) -> Shape:
    """Cached reads, 5-minute and 1-hour writes and reasoning in one request."""
    cached, writes = prompt // 4, prompt // 10
    return Shape(name, prompt, 2000, cached=cached, writes=writes, w5m=writes // 3, w1h=writes - writes // 3,
                 reasoning=800, **kw)


def shapes_for(entry: dict[str, Any], provider: str) -> list[Shape]:
    p, c = 12_345, 678
    base = [
        Shape("plain", p, c),
        Shape("prompt-only", p, 0),
        Shape("cached", p, c, cached=8000),
        Shape("write", p, c, writes=4000),
        Shape("write-5m", p, c, writes=4000, w5m=4000),
        Shape("write-1h", p, c, writes=4000, w1h=4000),
        Shape("write-5m+1h", p, c, writes=4000, w5m=1000, w1h=3000),
        Shape("reasoning", p, 2000, reasoning=1500),
        _mixed("mixed", p),
    ]
    if _prices(entry, "audio"):
        base += [Shape("audio-in", p, c, audio_in=3000), Shape("audio-out", p, 2000, audio_out=1500)]
    if _prices(entry, "image"):
        base += [Shape("image-in", p, c, image_in=3000), Shape("image-out", p, 2000, image_out=1500)]
    if _prices(entry, "video"):
        base += [Shape("video-in", p, c, video_in=3000), Shape("video-out", p, 2000, video_out=1500)]
    contexts: list[Shape] = []
    for t in thresholds(entry):
        contexts += [Shape(f"ctx-{t}-1", t - 1, 1000), Shape(f"ctx-{t}", t, 1000), Shape(f"ctx-{t}+1", t + 1, 1000),
                     _mixed(f"ctx-{t}-1-mixed", t - 1), _mixed(f"ctx-{t}+1-mixed", t + 1)]
    shapes = base + contexts
    core = [s for s in base if s.name in ("plain", "cached", "reasoning", "mixed")]
    above = [s for s in contexts if s.name.endswith("+1-mixed")]
    for tier in SERVICE_TIERS:
        if any(name.endswith(f"_{tier}") for name in entry):
            shapes += [replace(s, tier=tier) for s in core + above]
            if _prices(entry, "audio"):
                shapes += [replace(s, tier=tier) for s in base if s.name.startswith("audio")]
    if provider == "vertex_ai":
        for location in ("global", VERTEX_REGION):
            shapes += [replace(s, location=location) for s in core + above]
    if provider == "openai":
        for residency, host in RESIDENCY_HOSTS.items():
            key = "fedramp_uplift_multiplier" if residency == "fedramp" else \
                f"regional_processing_uplift_multiplier_{residency}"
            if key in entry:
                shapes += [replace(s, api_base=host) for s in core + above[:1]]
    shapes += [replace(s, discount=True) for s in core + above[:1]]
    return shapes


# ------------------------------------------------------------------------------------------------
# LiteLLM's side


def litellm_usage(s: Shape) -> Any:
    from litellm.types.utils import (
        CacheCreationTokenDetails,
        CompletionTokensDetailsWrapper,
        PromptTokensDetailsWrapper,
    )
    from litellm.types.utils import Usage as LUsage

    extra: dict[str, Any] = {}
    if s.writes:
        extra["cache_creation_input_tokens"] = s.writes
    return LUsage(
        prompt_tokens=s.prompt,
        completion_tokens=s.completion,
        total_tokens=s.prompt + s.completion,
        prompt_tokens_details=PromptTokensDetailsWrapper(
            cached_tokens=s.cached,
            audio_tokens=s.audio_in or None,
            image_tokens=s.image_in or None,
            video_tokens=s.video_in or None,
            cache_creation_token_details=CacheCreationTokenDetails(
                ephemeral_5m_input_tokens=s.w5m or None,
                ephemeral_1h_input_tokens=s.w1h or None,
            ) if (s.w5m or s.w1h) else None,
        ),
        completion_tokens_details=CompletionTokensDetailsWrapper(
            reasoning_tokens=s.reasoning,
            audio_tokens=s.audio_out or None,
            image_tokens=s.image_out or None,
            video_tokens=s.video_out or None,
        ),
        **extra,
    )


def request_context(provider: str, model: str, s: Shape) -> tuple[dict[str, Any], str | None, str | None]:
    """(optional_params, data_residency, vertex_location) as a Router call hands them to the cost
    calculator (litellm_logging.py `_response_cost_calculator` kwargs)."""
    from litellm.litellm_core_utils.litellm_logging import resolve_vertex_location_for_cost
    from litellm.llms.openai.data_residency import infer_openai_data_residency

    params: dict[str, Any] = {"max_retries": 0}
    litellm_params: dict[str, Any] = {}
    if s.tier:
        params["service_tier"] = s.tier
    if s.location:
        params["vertex_location"] = litellm_params["vertex_location"] = s.location
    residency = infer_openai_data_residency(provider, s.api_base)
    location = resolve_vertex_location_for_cost(provider, litellm_params, params, model)
    return params, residency, location


def litellm_cost(provider: str, model: str, response_model: str, s: Shape, usage: Any,
                 params: dict[str, Any], residency: str | None, location: str | None) -> Decimal:
    import litellm
    from litellm.types.utils import ModelResponse

    response = ModelResponse(model=response_model, usage=usage,
                             choices=[{"message": {"role": "assistant", "content": "ok"}}])
    response._response_ms = RESPONSE_MS  # every proxied response carries its latency (per-second prices)
    litellm.cost_discount_config = {provider: DISCOUNT} if s.discount else {}
    litellm.cost_margin_config = {provider: dict(MARGIN)} if s.discount else {}
    try:
        cost = litellm.completion_cost(completion_response=response, model=model, custom_llm_provider=provider,
                                       optional_params=params, data_residency=residency,
                                       vertex_location=location)
    finally:
        litellm.cost_discount_config = {}
        litellm.cost_margin_config = {}
    return Decimal(repr(float(cost or 0.0)))


def litellm_key(provider: str, model: str, response_model: str) -> str | None:
    """The catalog key LiteLLM prices a plain request to this deployment with."""
    import litellm
    from litellm.cost_calculator import select_model_name_for_cost_calc
    from litellm.llms.together_ai.cost_calculator import (
        get_model_params_and_category,
        has_together_registry_pricing,
    )
    from litellm.types.utils import CallTypes, ModelResponse

    try:
        name = select_model_name_for_cost_calc(model=model, completion_response=ModelResponse(model=response_model),
                                               custom_llm_provider=provider) or model
        # completion_cost: an unpriced Together model is priced by its parameter-count category
        if ("togethercomputer" in name or "together_ai" in name or provider == "together_ai") \
                and not has_together_registry_pricing(name, litellm.model_cost):
            name = get_model_params_and_category(name, call_type=CallTypes.completion)
        return litellm.get_model_info(model=name, custom_llm_provider=provider).get("key")
    except Exception:  # noqa: BLE001 - unmapped: reported as a resolution difference
        return None


# ------------------------------------------------------------------------------------------------
# costctl's side

_USAGE_FIELDS = frozenset(f.name for f in fields(Usage))


def costctl_usage(s: Shape, billed_at: datetime) -> tuple[Usage | None, str | None]:
    """costctl's Usage for the same request (what its spend-log reader fills from the usage block
    and cost_breakdown), or (None, field) when costctl's Usage has no field for a count it needs."""
    counts: dict[str, Any] = {
        "prompt_tokens": s.prompt, "completion_tokens": s.completion, "cached_tokens": s.cached,
        "cache_creation_tokens": s.writes, "cache_creation_short_tokens": s.w5m, "cache_creation_1h_tokens": s.w1h,
        "reasoning_tokens": s.reasoning, "audio_input_tokens": s.audio_in, "audio_output_tokens": s.audio_out,
        "image_input_tokens": s.image_in, "image_output_tokens": s.image_out,
        "video_input_tokens": s.video_in, "video_output_tokens": s.video_out, "service_tier": s.tier,
    }
    missing = next((k for k, v in counts.items() if v and k not in _USAGE_FIELDS), None)
    if missing is not None:
        return None, missing
    kwargs = {k: v for k, v in counts.items() if k in _USAGE_FIELDS}
    if "billed_at" in _USAGE_FIELDS:
        kwargs["billed_at"] = billed_at  # the log's endTime: off-peak windows
    if "started_at" in _USAGE_FIELDS:  # the log's startTime: the response took RESPONSE_MS
        kwargs["started_at"] = billed_at - timedelta(milliseconds=RESPONSE_MS)
    return Usage(**kwargs), None


def costctl_pricers(index: int, key: str, provider: str, model: str, locations: list[str | None]) -> tuple[
        dict[str | None, Any], Any, str | None]:
    """({vertex_location: Priced}, Priced under a 5% provider discount, the catalog key costctl
    resolved), from a config written to a file and loaded by costctl's loader."""
    deployments = [{"model_name": key, "litellm_params": {"model": model, **({"vertex_location": loc} if loc else {})}}
                   for loc in locations]
    priced: dict[str | None, Any] = {}
    path = CONFIG_DIR / f"entry{index}.yaml"
    path.write_text(yaml.safe_dump({"model_list": deployments}, sort_keys=False))
    config = load_config(path)
    pricer = Pricer(config, CATALOG)
    for loc, dep in zip(locations, config.deployments, strict=True):
        priced[loc] = pricer.join(dep.deployment_id, dep.model_name, model.split("/", 1)[-1], provider)[0]
    path.unlink()
    resolved = effective_prices(config.deployments[0], CATALOG).catalog_key
    # The same config with `litellm_settings.cost_discount_config` (what the loader returns for it).
    settings = {"cost_discount_config": {provider: Decimal(str(DISCOUNT))},  # YAML numbers load as Decimal
                "cost_margin_config": {provider: {k: Decimal(str(v)) for k, v in MARGIN.items()}}}
    dep = config.deployments[0]
    discounted = Pricer(replace(config, litellm_settings=settings), CATALOG).join(
        dep.deployment_id, dep.model_name, model.split("/", 1)[-1], provider)[0]
    return priced, discounted, resolved


def check_entry(task: tuple[int, str]) -> EntryResult:
    index, key = task
    entry = CATALOG.entries[key]
    catalog_provider = str(entry.get("litellm_provider"))
    result = EntryResult(catalog_provider, key)
    provider, model = route_of(key, entry)
    response_model = model.split("/", 1)[1]
    shapes = shapes_for(entry, provider)
    locations = sorted({s.location for s in shapes}, key=lambda v: v or "")
    try:
        priced, discounted, resolved = costctl_pricers(index, key, provider, model, locations)
    except NotRecomputed as exc:  # declared for the whole deployment: every shape of it
        result.not_recomputed[exc.feature] += len(shapes)
        return result
    except Exception as exc:  # noqa: BLE001 - a config costctl cannot load is a disagreement
        result.diffs.append(f"DIFF {catalog_provider} {key} config costctl=error:{type(exc).__name__}:{exc} litellm=-")
        return result
    theirs_key = litellm_key(provider, model, response_model)
    if resolved != theirs_key:
        result.diffs.append(f"DIFF {catalog_provider} {key} resolve({model}) costctl={resolved} litellm={theirs_key}")
    for s in shapes:
        params, residency, location = request_context(provider, model, s)
        billed_at = datetime.now(timezone.utc)
        try:
            theirs = litellm_cost(provider, model, response_model, s, litellm_usage(s), params, residency, location)
        except Exception as exc:  # noqa: BLE001 - counted by type, never compared
            result.litellm_errors[type(exc).__name__] += 1
            if not result.notes:
                result.notes.append(f"litellm error {key} {s.label()}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        ours_usage, missing = costctl_usage(s, billed_at)
        if ours_usage is None:
            result.compared += 1
            result.diffs.append(f"DIFF {catalog_provider} {key} {s.label()} costctl=no-usage-field:{missing} "
                                f"litellm={theirs.normalize():f}")
            continue
        which = discounted if s.discount else priced[s.location]
        try:
            ours = which.cost(ours_usage, vertex_location=location, data_residency=residency)
        except NotRecomputed as exc:
            result.not_recomputed[exc.feature] += 1
            continue
        except Exception as exc:  # noqa: BLE001 - costctl failing on a request LiteLLM prices disagrees
            result.compared += 1
            result.diffs.append(f"DIFF {catalog_provider} {key} {s.label()} costctl=error:{type(exc).__name__} "
                                f"litellm={theirs}")
            continue
        result.compared += 1
        result.both_zero += ours == 0 and theirs == 0
        scale = max(abs(ours), abs(theirs))
        if abs(ours - theirs) > REL_TOLERANCE * scale:
            result.diffs.append(f"DIFF {catalog_provider} {key} {s.label()} costctl={ours.normalize():f} "
                                f"litellm={theirs.normalize():f}")
    return result


def _safe_check(task: tuple[int, str]) -> EntryResult:
    try:
        return check_entry(task)
    except Exception as exc:  # noqa: BLE001 - one entry never stops the run
        key = task[1]
        result = EntryResult(str(CATALOG.entries[key].get("litellm_provider")), key)
        result.diffs.append(f"DIFF {result.provider} {key} crash costctl=error:{type(exc).__name__} litellm=-")
        result.notes.append(traceback.format_exc(limit=3))
        return result


# ------------------------------------------------------------------------------------------------


def quiet_litellm() -> None:
    import litellm

    litellm.suppress_debug_info = True
    litellm.set_verbose = False
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def main() -> int:
    global CATALOG, CONFIG_DIR
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", action="append", default=[],
                        help="only entries of this provider (catalog litellm_provider or routing prefix); repeatable")
    parser.add_argument("--limit", type=int, default=None, help="at most N entries")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    parser.add_argument("--verbose", action="store_true", help="per-entry progress and the first LiteLLM error of each")
    args = parser.parse_args()

    import litellm

    quiet_litellm()
    CATALOG = load_catalog("bundled")
    ours_keys, theirs_keys = set(CATALOG.entries), set(litellm.model_cost)
    only_ours, only_theirs = sorted(ours_keys - theirs_keys), sorted(theirs_keys - ours_keys)
    keys = [k for k, e in CATALOG.entries.items() if selected(e)]
    missing = [k for k in keys if k not in theirs_keys]
    keys = [k for k in keys if k in theirs_keys]
    eligible = len(keys)
    if args.provider:
        wanted = set(args.provider)
        keys = [k for k in keys if str(CATALOG.entries[k].get("litellm_provider")) in wanted
                or route_of(k, CATALOG.entries[k])[0] in wanted]
    if args.limit is not None:
        keys = keys[:args.limit]
    tasks = list(enumerate(keys))

    results: list[EntryResult] = []
    with tempfile.TemporaryDirectory(prefix="costctl-xcheck-") as tmp:
        CONFIG_DIR = Path(tmp)
        if args.jobs > 1 and len(tasks) > 1:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(args.jobs) as pool:
                for r in pool.imap_unordered(_safe_check, tasks, chunksize=4):
                    results.append(r)
                    if args.verbose:
                        print(f"... {len(results)}/{len(tasks)} {r.provider} {r.key}: {r.compared} compared, "
                              f"{len(r.diffs)} diffs", file=sys.stderr)
        else:
            for task in tasks:
                r = _safe_check(task)
                results.append(r)
                if args.verbose:
                    print(f"... {len(results)}/{len(tasks)} {r.provider} {r.key}: {r.compared} compared, "
                          f"{len(r.diffs)} diffs", file=sys.stderr)

    results.sort(key=lambda r: (r.provider, r.key))
    compared = sum(r.compared for r in results)
    diffs = [d for r in results for d in r.diffs]
    not_recomputed: Counter = sum((r.not_recomputed for r in results), Counter())
    errors: Counter = sum((r.litellm_errors for r in results), Counter())
    by_provider: Counter = Counter()
    for r in results:
        by_provider[r.provider] += len(r.diffs)
    for line in diffs:
        print(line)
    if args.verbose:
        for r in results:
            for note in r.notes:
                print(f"NOTE {note}")
    print()
    print(f"catalog: {len(ours_keys)} costctl keys, {len(theirs_keys)} litellm.model_cost keys; "
          f"only in costctl: {len(only_ours)} {only_ours[:5]}; only in litellm: {len(only_theirs)} {only_theirs[:5]}")
    print(f"selected entries (chat/completion/responses, or no mode with a per-token price): "
          f"{eligible + len(missing)}, of which not in litellm.model_cost: {len(missing)}"
          f"{f'; after --provider/--limit: {len(keys)}' if args.provider or args.limit is not None else ''}")
    print(f"entries compared: {len(results)}")
    print(f"shapes compared (costs compared): {compared} ({sum(r.both_zero for r in results)} of them $0 on both sides)")
    print(f"disagreements: {len(diffs)} (in {sum(1 for r in results if r.diffs)} entries; "
          f"{sum(1 for d in diffs if ' resolve(' in d)} of them catalog-key resolutions)")
    print(f"not recomputed (costctl declares it cannot reproduce; not disagreements): {sum(not_recomputed.values())}")
    for feature, n in sorted(not_recomputed.items()):
        print(f"  not recomputed: {feature}: {n}")
    print(f"litellm errors (not compared): {sum(errors.values())}")
    for kind, n in sorted(errors.items()):
        print(f"  litellm error: {kind}: {n}")
    print("disagreements by provider:")
    for provider, n in sorted(by_provider.items(), key=lambda kv: (-kv[1], kv[0])):
        if n:
            print(f"  {provider}: {n}")
    print(f"wall time: {time.monotonic() - _STARTED:.1f}s ({args.jobs} jobs)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
