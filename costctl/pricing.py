"""Effective prices per deployment and field, with their source; and the cost of one request.

`effective_prices()` follows LiteLLM 1.110.2 (`router_rust/surface/registry.py`,
`deployment_model_cost_payload`): a deployment without any custom price key is priced from the
catalog entry of its backend model; one with any custom price key is priced from its own entry
(model_info keys overlaid by litellm_params keys), plus only the families LiteLLM inherits from
the catalog. Everything else is $0 (source `none`).

`cost_of()` is the request cost formula of litellm-pricing.md §3, in Decimal: the reference every
other command and test compares against.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from costctl.catalog.resolve import Resolution, known_providers, litellm_fields, resolve, size_bucket
from costctl.catalog.store import Catalog
from costctl.config.model import Deployment
from costctl.config.yaml_source import YamlMap

CUSTOM, DEFAULT, FALLBACK, NONE = "custom", "default", "fallback", "none"

INPUT = "input_cost_per_token"
OUTPUT = "output_cost_per_token"
CACHE_READ = "cache_read_input_token_cost"
CACHE_WRITE = "cache_creation_input_token_cost"
CACHE_WRITE_1H = "cache_creation_input_token_cost_above_1hr"
MAIN_FIELDS = (INPUT, OUTPUT, CACHE_READ, CACHE_WRITE)
FIELD_LABELS = {INPUT: "input", OUTPUT: "output", CACHE_READ: "cache read", CACHE_WRITE: "cache write"}

# Cache prices a custom-priced deployment inherits when it sets a custom input price
# (registry.py `_CACHE_PRICING_FIELDS`).
INHERITED_CACHE_FIELDS = (
    "cache_creation_input_token_cost",
    "cache_creation_input_token_cost_above_1hr",
    "cache_creation_input_token_cost_above_200k_tokens",
    "cache_read_input_token_cost",
    "cache_read_input_token_cost_above_200k_tokens",
)
SERVICE_TIER_SUFFIXES = ("_balanced", "_flex", "_priority", "_ultrafast")
OFF_PEAK_BASE_FIELDS = ("input_cost_per_token", "input_cost_per_second", "cost_per_second", "tiered_pricing")
# Providers that bill cached reads at half the input price when no cache price exists.
HALF_PRICE_CACHE_PROVIDERS = ("fireworks_ai",)
# Providers whose context tiers start at the threshold rather than above it.
INCLUSIVE_TIER_PROVIDERS = ("xai",)
# Providers whose cost functions are not given the request's service tier (cost_calculator.py
# `cost_per_token` dispatch): their `_flex` / `_priority` prices are never used.
NO_SERVICE_TIER_PROVIDERS = frozenset({"fireworks_ai", "deepseek", "tencent", "perplexity", "xai", "lemonade",
                                       "dashscope", "qwencloud", "qwen_ai_platform"})
# Providers LiteLLM always prices at $0, whatever the catalog says (lemonade/cost_calculator.py).
FREE_PROVIDERS = frozenset({"lemonade"})


class NotRecomputed(Exception):
    """A request LiteLLM bills by a rule costctl does not reproduce; `feature` names the rule
    (reconcile counts such rows under `not recomputed: <feature>`, never as a guessed cost)."""

    def __init__(self, feature: str, detail: str = "") -> None:
        super().__init__(detail or feature)
        self.feature = feature
        self.detail = detail or feature


# The price keys whose value is a structure (a tier list, a block of off-peak prices, per-size
# dicts); every other price is one number.
STRUCTURED_PRICES = frozenset({"tiered_pricing", "off_peak_pricing", "search_context_cost_per_query"})


def price_keys() -> frozenset[str]:
    """The keys LiteLLM treats as custom prices (`CustomPricingLiteLLMParams`)."""
    return _PRICE_KEYS


_TOKEN_PRICE = re.compile(r"cost_per_(?:audio_|image_|video_|reasoning_)?token|token_cost")


def is_token_price(name: str) -> bool:
    """A price per token (scaled to per 1M when shown; checked against per-token ranges), as
    opposed to one per request, second, character, image or query."""
    return _TOKEN_PRICE.search(name) is not None


def is_price_field(name: str) -> bool:
    """True for anything that prices something: custom price keys and catalog cost fields."""
    return name in _PRICE_KEYS or "cost" in name or name.endswith("_pricing")


_PRICE_KEYS = frozenset(litellm_fields()["price_keys"])
_MODEL_INFO_PRICE_KEYS = _PRICE_KEYS | frozenset(litellm_fields()["model_info_only_price_keys"])


@dataclass(frozen=True)
class Price:
    """One field's effective price: value (USD per unit, None = billed $0), source and origin.

    `origin` is `litellm_params` / `model_info` for custom prices, the catalog key for defaults,
    the field fallen back to for fallbacks. `written_as` says how a custom value was written when
    it was not a plain YAML number: `string` (`1e-6`, `"0.000002"`), `env` (os.environ/),
    `bool`, `null`, `invalid`.
    """

    value: Decimal | None
    source: str
    origin: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    written_as: str | None = None
    structured: Any = None  # tiered_pricing lists, off_peak_pricing blocks, per-query dicts


@dataclass
class EffectivePrices:
    """Every priced field of one deployment as LiteLLM will bill it."""

    deployment: Deployment
    provider: str | None
    backend_model: str
    catalog: Resolution
    custom: bool
    prices: dict[str, Price] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # custom keys LiteLLM ignores because the deployment's entry prices no token (e.g. only a
    # cache price): the deployment is billed at the catalog default instead
    ignored_custom: list[str] = field(default_factory=list)

    @property
    def catalog_key(self) -> str | None:
        return self.catalog.key

    def entry(self) -> dict[str, Any]:
        """The effective entry as plain values, for `cost_of`."""
        out: dict[str, Any] = {}
        for name, price in self.prices.items():
            if price.structured is not None:
                out[name] = price.structured
            elif price.value is not None and price.source != FALLBACK:
                out[name] = price.value
        return out

    def value(self, name: str) -> Decimal | None:
        price = self.prices.get(name)
        return None if price is None else price.value


def parse_price(value: Any) -> tuple[Decimal | None, str | None]:
    """A configured price as LiteLLM reads it: (number or None, how it was written when not a
    plain YAML number). Strings such as `1e-6` are numbers to LiteLLM 1.110.2 (pydantic converts
    them) but are remembered as strings."""
    if isinstance(value, bool):
        return (Decimal(int(value)), "bool")
    if isinstance(value, Decimal):
        return (value, None) if value.is_finite() else (None, "invalid")
    if isinstance(value, int):
        return Decimal(value), None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            return None, "invalid"
        return (number, "string") if number.is_finite() else (None, "invalid")
    if value is None:
        return None, "null"
    return None, "invalid"


def _catalog_number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return None


def _plain(value: Any) -> Any:
    """YAML/JSON structures as plain dicts/lists (for structured prices)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _custom_price(tree: YamlMap, key: str, origin: str, file: str, deployment: Deployment) -> Price:
    raw = tree[key]
    line, col = tree.key_pos.get(key, tree.pos)
    env = next((r for r in deployment.env_refs if r.key == key and r.path.endswith(f"{origin}.{key}")), None)
    if isinstance(raw, (list, dict)):
        return Price(None, CUSTOM, origin, file, line, col, None, _plain(raw))
    value, written = parse_price(raw)
    if env is not None:
        written = "env" if value is not None else "env-unset"
    return Price(value, CUSTOM, origin, file, line, col, written)


def _is_set(tree: YamlMap, key: str) -> bool:
    return key in tree and tree[key] is not None


def backend_of(dep: Deployment, catalog: Catalog) -> tuple[str, Resolution]:
    """The model a deployment's default prices come from (`base_model`, else its model) and the
    catalog entry that prices it."""
    # aws_region_name does not select a regional key in LiteLLM 1.110.2 (observed): only a region
    # written into the model path (bedrock/us-gov-west-1/...) does.
    own = resolve(dep.model, catalog, dep.custom_llm_provider)
    if dep.base_model:
        provider = dep.custom_llm_provider
        head = dep.base_model.split("/", 1)[0]
        if provider is None and head not in known_providers():
            provider = own.provider
        return dep.base_model, resolve(dep.base_model, catalog, provider)
    return dep.model, own


def effective_prices(dep: Deployment, catalog: Catalog) -> EffectivePrices:
    """Every priced field of `dep` with its value, source and origin (LiteLLM 1.110.2 rules)."""
    backend_model, res = backend_of(dep, catalog)
    provider = res.provider
    custom_params = [k for k in dep.params if k in _PRICE_KEYS and _is_set(dep.params, k)]
    custom_info = [k for k in dep.info if k in _MODEL_INFO_PRICE_KEYS and _is_set(dep.info, k)]
    ep = EffectivePrices(dep, provider, backend_model, res, custom=bool(custom_params or custom_info))
    prices = ep.prices

    def default_from(res: Resolution) -> Any:
        entry = res.entry or {}

        def default(name: str) -> Price | None:
            raw = entry.get(name)
            if raw is None:
                return None
            if isinstance(raw, (list, dict)):
                return Price(None, DEFAULT, res.key, structured=raw)
            number = _catalog_number(raw)
            return Price(number, DEFAULT, res.key) if number is not None else None

        return entry, default

    entry, default = default_from(res)
    if not ep.custom and dep.wildcard and res.key is None:
        # A wildcard routes many models: each request is priced by the model it names.
        for name in MAIN_FIELDS:
            prices[name] = Price(None, DEFAULT, "catalog entry of each model the wildcard matches")
        ep.notes.append("wildcard: each request is priced by the catalog entry of the model it names")
        return ep
    if ep.custom:
        for key in custom_info:
            prices[key] = _custom_price(dep.info, key, "model_info", dep.file, dep)
        for key in custom_params:
            prices[key] = _custom_price(dep.params, key, "litellm_params", dep.file, dep)
        # a price that is set but does not parse is not a price LiteLLM can use
        for key in [k for k, p in prices.items() if p.value is None and p.structured is None]:
            ep.notes.append(f"{key} is set but is not a number: LiteLLM cannot use it")
        _inherit(ep, entry, default)
        if not any(_prices_something(name, p) for name, p in prices.items()):
            # LiteLLM's cost calculator skips a deployment entry without any per-token rate
            # (`_cost_map_entry_prices_anything`) and prices the request by its model instead.
            ep.ignored_custom = sorted(k for k, p in prices.items() if p.source == CUSTOM)
            ep.notes.append(f"custom {', '.join(ep.ignored_custom)} without an input, output or other per-token "
                            "price: LiteLLM ignores the deployment's prices and bills the catalog default")
            prices.clear()
            ep.custom = False
            if dep.base_model:
                res = resolve(dep.model, catalog, dep.custom_llm_provider)
                ep.catalog, ep.backend_model, ep.provider = res, dep.model, res.provider
                entry, default = default_from(res)
    if ep.custom and provider == "together_ai":
        # LiteLLM prices a custom-priced deployment under its id, and its Together AI check reads
        # a parameter count from any name: an id with `<digits>b` in it is billed by that bucket
        bucket = size_bucket(dep.deployment_id, provider)
        if bucket is not None and bucket in catalog.entries:
            ep.notes.append(f"LiteLLM 1.110.2 bills this deployment at the Together AI size bucket "
                            f"{bucket}, which it reads from the deployment id '{dep.deployment_id}', not at its "
                            "custom prices")
            prices.clear()
            ep.custom = False
            res = Resolution(dep.deployment_id, provider, bucket, catalog.entries[bucket], (bucket,))
            ep.catalog = res
            entry, default = default_from(res)
    if not ep.custom:
        prices.update(_catalog_prices(res, catalog, default))
        if res.key is None:
            ep.notes.append(f"'{ep.backend_model}' is not in the catalog and has no custom price: billed $0")

    for ref in dep.env_refs:
        if not ref.resolved and (ref.key in _MODEL_INFO_PRICE_KEYS):
            ep.notes.append(f"{ref.key} comes from os.environ/{ref.name}, which is unset here: "
                            "the proxy's environment decides this price")
    _fallbacks(ep)
    return ep


def _catalog_prices(res: Resolution, catalog: Catalog, default: Any) -> dict[str, Price]:
    """Every priced field of the entry `res` found, as `default` gives it, in the entry's order.
    Worked out once per catalog key: deployments of one model share the (immutable) Prices."""
    known = catalog.memo.setdefault("catalog_prices", {})
    found: dict[str, Price] | None = known.get(res.key)
    if found is None:
        found = known[res.key] = {name: p for name in res.entry or {}
                                  if is_price_field(name) and (p := default(name)) is not None}
    return found


# Fields that make a deployment's own entry count as priced (cost_calculator.py
# `_NON_TOKEN_RATE_FIELDS` and `_cost_map_entry_prices_anything`).
_NON_TOKEN_RATE_FIELDS = frozenset({"cost_per_second", "input_cost_per_second", "output_cost_per_second",
                                    "input_cost_per_query", "input_cost_per_text_message", "tiered_pricing"})


def _prices_something(name: str, price: Price) -> bool:
    if price.value is None and price.structured is None:
        return False
    return name in _NON_TOKEN_RATE_FIELDS or ("cost_per" in name and "token" in name)


def _has(prices: Mapping[str, Price], name: str) -> bool:
    p = prices.get(name)
    return p is not None and (p.value is not None or p.structured is not None)


def _inherit(ep: EffectivePrices, entry: Mapping[str, Any], default: Any) -> None:
    """The catalog families a custom-priced deployment keeps (registry.py `_inherited_*`)."""
    prices = ep.prices
    if not entry:
        return
    # off_peak_pricing alone: the whole base entry
    if _has(prices, "off_peak_pricing") and not any(_has(prices, f) for f in OFF_PEAK_BASE_FIELDS):
        for name in entry:
            if is_price_field(name) and not _has(prices, name) and (p := default(name)) is not None:
                prices[name] = p
    # cache prices, only under a custom input price
    if _has(prices, INPUT):
        fields: tuple[str, ...] = INHERITED_CACHE_FIELDS
        if not _has(prices, CACHE_READ):
            fields = (*fields, "explicit_cache_read_input_token_cost")
        for name in fields:
            if not _has(prices, name) and (p := default(name)) is not None:
                prices[name] = p
    # service-tier prices, when input or output is custom
    if _has(prices, INPUT) or _has(prices, OUTPUT):
        for name in entry:
            if name.endswith(SERVICE_TIER_SUFFIXES) and not _has(prices, name) and (p := default(name)) is not None:
                prices[name] = p
    # the flat output rate, for a tier table without one
    tiers = prices.get("tiered_pricing")
    if tiers is not None and isinstance(tiers.structured, list) and tiers.structured and not _has(prices, OUTPUT):
        if not all(isinstance(t, dict) and "output_cost_per_token" in t for t in tiers.structured):
            p = default(OUTPUT)
            if p is not None and p.value:
                prices[OUTPUT] = p


def _fallbacks(ep: EffectivePrices) -> None:
    """Fill the four main fields: what LiteLLM bills when the entry leaves them out."""
    prices = ep.prices
    other = _other_billing(ep)
    for name in (INPUT, OUTPUT):
        if not _has(prices, name):
            if other is not None:  # billed, by a rule the per-token columns cannot show
                prices[name] = Price(None, other.source, other.origin)
                continue
            written = prices[name].written_as if name in prices else None
            prices[name] = Price(None, NONE, written_as=written,
                                 origin=prices[name].origin if name in prices else None)
    input_value = prices[INPUT].value
    for name in (CACHE_READ, CACHE_WRITE):
        if _has(prices, name):
            continue
        if other is not None and input_value is None:
            prices[name] = Price(None, other.source, other.origin)
        elif input_value is None:
            prices[name] = Price(None, NONE)
        elif name == CACHE_READ and ep.provider in HALF_PRICE_CACHE_PROVIDERS:
            prices[name] = Price(input_value / 2, FALLBACK, f"{INPUT} / 2")
        else:
            prices[name] = Price(input_value, FALLBACK, INPUT)
    if ep.custom:
        if prices[OUTPUT].source == NONE and prices[INPUT].source == CUSTOM:
            ep.notes.append("custom input price without an output price: LiteLLM bills output tokens at $0")
        if prices[INPUT].source == NONE and prices[OUTPUT].source == CUSTOM:
            ep.notes.append("custom output price without an input price: LiteLLM bills input and cached tokens at $0")
    if ep.provider == "azure" and not ep.deployment.base_model and not ep.custom:
        ep.notes.append("azure deployment without base_model: LiteLLM prices it by the model name Azure returns")
    _billing_notes(ep)


def _other_billing(ep: EffectivePrices) -> Price | None:
    """How a deployment without flat token prices is billed all the same: by its `tiered_pricing`
    table, or per second of request time (the source and origin shown for its token prices)."""
    prices = ep.prices
    tiers = prices.get("tiered_pricing")
    if tiers is not None and isinstance(tiers.structured, list) and tiers.structured:
        return Price(None, tiers.source, "tiered_pricing (by prompt size)")
    if _per_second_rate(ep.entry()) is not None:
        key = next(k for k in ("cost_per_second", "input_cost_per_second", "output_cost_per_second")
                   if _has(prices, k))
        return Price(None, prices[key].source, f"{key} x request seconds")
    return None


def _billing_notes(ep: EffectivePrices) -> None:
    """Notes for the ways the deployment bills that per-token prices do not show."""
    prices = ep.prices
    block = prices.get("off_peak_pricing")
    if block is not None and isinstance(block.structured, Mapping):
        ep.notes.append(f"off-peak prices apply {off_peak_windows(block.structured)}: "
                        + ", ".join(f"{k} {format(v, 'f') if isinstance(v, Decimal) else v}"
                                    for k, v in block.structured.items() if "cost" in k))
    tiers = prices.get("tiered_pricing")
    if tiers is not None and isinstance(tiers.structured, list) and tiers.structured:
        ranges = ["-".join(format(b.normalize(), "f") if isinstance(b, Decimal) else str(b) for b in t.get("range") or [])
                  for t in tiers.structured if isinstance(t, Mapping)]
        ep.notes.append(f"tiered_pricing: the whole request is billed at the row whose range holds its prompt "
                        f"({', '.join(ranges)} tokens)")
    entry = ep.entry()
    rate = _per_second_rate(entry)
    if rate is not None:
        ep.notes.append(f"billed ${rate} per second of request time (endTime - startTime in the spend log; behind a "
                        "proxy LiteLLM counts from when the proxy received the request)")
    if ep.catalog_key and ep.catalog_key.startswith(("together-ai-", "fireworks-ai-")) and not ep.custom:
        ep.notes.append(f"not in the catalog by name: LiteLLM prices it by the size bucket {ep.catalog_key}")
    unsupported = _unsupported(entry, ep.provider, ep.deployment.model)
    if unsupported is not None:
        ep.notes.append(f"costctl cannot recompute this deployment's charges ({unsupported}): reconcile skips its rows")


def off_peak_windows(block: Mapping[str, Any]) -> str:
    """An `off_peak_pricing` block's windows in words (hours are UTC)."""
    parts = []
    if _windows(block.get("hours_utc")):
        parts.append("every day " + ", ".join(_windows(block.get("hours_utc"))) + " UTC")
    for rule in block.get("windows") or []:
        if isinstance(rule, Mapping) and _windows(rule.get("hours_utc")):
            days = rule.get("weekdays")
            when = "every day" if days is None else "weekdays " + ",".join(str(d) for d in days) if isinstance(
                days, list) else "never"
            parts.append(f"{when} {', '.join(_windows(rule.get('hours_utc')))} UTC")
    zone = block.get("weekday_timezone")
    return "; ".join(parts) + (f" (weekdays in {zone})" if zone else "")


# --------------------------------------------------------------------------------------------
# The cost of one request


@dataclass(slots=True)
class Usage:
    """Token counts of one request, as LiteLLM's usage object and spend logs give them.

    `prompt_tokens` includes cached reads, cache writes and audio input tokens;
    `completion_tokens` includes reasoning and audio output tokens. Cache writes by lifetime
    (when the provider reports them): 5-minute and 30-minute writes bill at the base write price,
    1-hour and 12-hour writes at their own; writes no lifetime covers bill at the base price.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_creation_1h_tokens: int = 0
    reasoning_tokens: int = 0
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0
    service_tier: str | None = None
    cache_creation_12h_tokens: int = 0
    cache_creation_short_tokens: int = 0  # 5-minute + 30-minute writes, when reported
    inference_geo: str | None = None  # where Anthropic served it (`usage.inference_geo`)
    speed: str | None = None  # Anthropic's fast mode (`usage.speed`)
    # per-modality counts (`prompt_tokens_details` / `completion_tokens_details`)
    text_input_tokens: int = 0  # 0: not reported
    image_input_tokens: int = 0
    video_input_tokens: int = 0
    cached_text_tokens: int = 0  # `cached_tokens_details`: what the cached reads were
    cached_audio_tokens: int = 0
    cached_image_tokens: int = 0
    text_output_tokens: int = 0
    image_output_tokens: int = 0
    video_output_tokens: int = 0
    reported_cost: Decimal | None = None  # the provider's own price of the request (`usage.cost`)
    billed_at: Any = None  # when LiteLLM priced it (the log's endTime, text or datetime): off-peak windows
    started_at: Any = None  # the log's startTime: with billed_at, the duration per-second prices bill
    unpriced_feature: str | None = None  # a charge on top of the tokens costctl does not recompute
    streamed: bool | None = None  # completionStartTime after endTime's start: None when the log cannot say
    explicit_cache: bool = False  # cached reads of an explicit (`ephemeral`) cache


_ZERO = Decimal(0)
_SERVICE_TIER_KEY_SUFFIX = {"flex": "flex", "balanced": "balanced", "priority": "priority", "fast": "priority",
                            "ultrafast": "ultrafast"}
AUDIO_INPUT = "input_cost_per_audio_token"
_TIER_PREFIXES = (INPUT, OUTPUT, CACHE_READ, CACHE_WRITE, AUDIO_INPUT)
# LiteLLM's ServiceTier values as key suffixes, longest first (`_SERVICE_TIER_SUFFIXES`), then
# batches: keys with these suffixes are not standard tier thresholds.
_TIER_KEY_SUFFIXES = ("_ultrafast", "_balanced", "_priority", "_auto", "_flex", "_fast")
_NON_STANDARD_SUFFIXES = (*_TIER_KEY_SUFFIXES, "_batches")
CACHE_WRITE_12H = "cache_creation_input_token_cost_above_12hr"
_TTL_WRITE_KEYS = {"1hr": CACHE_WRITE_1H, "12hr": CACHE_WRITE_12H}


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _threshold(key: str) -> Decimal:
    text = key.rsplit("_above_", 1)[1].split("_tokens")[0]
    return Decimal(text.replace("k", "")) * (1000 if "k" in text else 1)


class _Rates:
    """Rate lookup with LiteLLM's service-tier key fallback (`get_cost_per_unit`)."""

    def __init__(self, prices: Mapping[str, Any], service_tier: str | None) -> None:
        self.prices = prices
        self.suffix = _SERVICE_TIER_KEY_SUFFIX.get((service_tier or "").lower())

    def key(self, base: str) -> str:
        return f"{base}_{self.suffix}" if self.suffix else base

    def rate(self, key: str, default: Decimal) -> Decimal:
        value = self.get(key, default)
        return default if value is None else value

    def get(self, key: str, default: Decimal | None) -> Decimal | None:
        value = _number(self.prices.get(key))
        if value is not None:
            return value
        if self.prices.get(key) is None:
            for suffix in _TIER_KEY_SUFFIXES:
                if suffix in key:
                    fallback = _number(self.prices.get(key.replace(suffix, "")))
                    return default if fallback is None else fallback
        return default


def tier_thresholds(prices: Mapping[str, Any], service_tier: str | None) -> list[tuple[Decimal, str]]:
    """Every `_above_<N>_tokens` threshold the entry defines for this service tier, lowest first,
    with its key text (e.g. `200k`). Any input/output/cache key with such a suffix defines one."""
    rates = _Rates(prices, service_tier)
    tier_suffix = f"_{rates.suffix}" if rates.suffix else ""
    found: set[tuple[Decimal, str]] = set()
    prefixes = tuple(f"{p}_above_" for p in _TIER_PREFIXES)
    for key in prices:
        if not key.startswith(prefixes) or "_tokens" not in key:
            continue
        if key.endswith(_NON_STANDARD_SUFFIXES) and not (tier_suffix and key.endswith(tier_suffix)):
            continue
        if prices.get(key) is None:
            continue
        try:
            threshold = _threshold(key)
        except (InvalidOperation, IndexError):
            continue
        found.add((threshold, key.rsplit("_above_", 1)[1].split("_tokens")[0]))
    return sorted(found)


def _table_rows(prices: Mapping[str, Any]) -> list[tuple[Decimal, Decimal, Mapping[str, Any]]]:
    table = prices.get("tiered_pricing")
    if not isinstance(table, list):
        return []
    ranged = []
    for tier in table:
        bounds = tier.get("range") if isinstance(tier, Mapping) else None
        if isinstance(bounds, list) and len(bounds) == 2:
            lo, hi = _number(bounds[0]), _number(bounds[1])
            if lo is not None and hi is not None:
                ranged.append((lo, hi, tier))
    ranged.sort(key=lambda r: r[0])
    return ranged


def _table_index(rows: list[tuple[Decimal, Decimal, Mapping[str, Any]]], prompt_tokens: int) -> int | None:
    """Index of the `tiered_pricing` row that prices the request (`start < tokens <= end`; above
    every range, the last one), as LiteLLM's select_tier_for_input picks it; None when no row
    applies or it has no input price."""
    if not rows or prompt_tokens <= 0:
        return None
    index = next((i for i, (lo, hi, _t) in enumerate(rows) if lo < prompt_tokens <= hi), len(rows) - 1)
    return index if INPUT in rows[index][2] else None


@dataclass(frozen=True)
class TokenRates:
    """USD per token for each kind of token of one request (after tiers and service tier)."""

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    cache_write_1h: Decimal
    cache_write_12h: Decimal
    reasoning: Decimal
    audio_input: Decimal
    audio_output: Decimal
    image_input: Decimal
    video_input: Decimal
    cache_read_audio: Decimal
    cache_read_image: Decimal
    image_output: Decimal
    video_output: Decimal
    # Alibaba's calculator (dashscope/cost_calculator.py) bills whole counts at these (0 elsewhere):
    # prompt less cached reads and writes, cached reads, writes, completion less reasoning, reasoning
    whole_input: Decimal = Decimal(0)
    whole_cache_read: Decimal = Decimal(0)
    whole_cache_write: Decimal = Decimal(0)
    whole_output: Decimal = Decimal(0)
    whole_reasoning: Decimal = Decimal(0)


def _rates(prices: Mapping[str, Any], service_tier: str | None, crossed: list[str],
           table_tier: Mapping[str, Any] | None, off_peak: Mapping[str, Any] | None = None) -> TokenRates:
    """The rates for one combination of service tier, crossed thresholds, tier-table row and open
    off-peak block (LiteLLM's `_get_token_base_cost`, `apply_off_peak_pricing` and the
    reasoning/modality rate helpers)."""
    r = _Rates(prices, service_tier)
    reasoning: Decimal | None = None
    block = off_peak or {}
    audio_key = AUDIO_INPUT

    def peak(key: str, standard: Decimal) -> Decimal:
        return _off_peak_rate(block, key, standard)

    if table_tier is not None:
        t = _Rates(table_tier, None)
        input_rate = t.rate(INPUT, _ZERO)
        output_rate = t.rate(OUTPUT, r.rate(OUTPUT, _ZERO)) if OUTPUT in table_tier else r.rate(OUTPUT, _ZERO)
        cache_read = t.rate(CACHE_READ, input_rate)
        cache_write = t.rate(CACHE_WRITE, input_rate)
        if "output_cost_per_reasoning_token" in table_tier or OUTPUT in table_tier:
            reasoning = t.rate("output_cost_per_reasoning_token", output_rate)
        input_rate, output_rate = peak(INPUT, input_rate), peak(OUTPUT, output_rate)
        cache_read, cache_write = peak(CACHE_READ, cache_read), peak(CACHE_WRITE, cache_write)
        # long-lived writes: the row's own price, else the row's (off-peak) write price; a price
        # outside the table does not apply to a row
        write_1h = t.rate(CACHE_WRITE_1H, cache_write)
        write_12h = t.rate(CACHE_WRITE_12H, cache_write)
    else:
        input_rate = r.rate(r.key(INPUT), _ZERO)
        output_rate = r.rate(r.key(OUTPUT), _ZERO)
        if output_rate == 0 and prices.get("output_cost_per_image_token") is not None:
            output_rate = r.rate("output_cost_per_image_token", _ZERO)  # image models: every output token an image token
        maybe_write = r.get(r.key(CACHE_WRITE), None)
        maybe_read = r.get(r.key(CACHE_READ), None)
        ttl_keys = {ttl: r.key(key) for ttl, key in _TTL_WRITE_KEYS.items()}
        for tier in crossed:  # audio input has context tiers of its own (image and video do not)
            if prices.get(f"{AUDIO_INPUT}_above_{tier}_tokens") is not None:
                audio_key = f"{AUDIO_INPUT}_above_{tier}_tokens"
        for tier in crossed:
            input_rate = r.rate(r.key(f"{INPUT}_above_{tier}_tokens"), input_rate)
            output_rate = r.rate(r.key(f"{OUTPUT}_above_{tier}_tokens"), output_rate)
            maybe_write = r.get(r.key(f"{CACHE_WRITE}_above_{tier}_tokens"), maybe_write)
            for ttl, key in _TTL_WRITE_KEYS.items():
                tiered = r.key(f"{key}_above_{tier}_tokens")
                if prices.get(tiered) is not None:
                    ttl_keys[ttl] = tiered
            maybe_read = r.get(r.key(f"{CACHE_READ}_above_{tier}_tokens"), maybe_read)
        # a missing cache price is the (off-peak) input price
        input_rate = peak(INPUT, input_rate)
        output_rate = peak(OUTPUT, output_rate)
        cache_read = peak(CACHE_READ, input_rate if maybe_read is None else maybe_read)
        cache_write = peak(CACHE_WRITE, input_rate if maybe_write is None else maybe_write)
        write_1h = r.rate(ttl_keys["1hr"], cache_write)
        write_12h = r.rate(ttl_keys["12hr"], cache_write)
    if _number(block.get("output_cost_per_reasoning_token")) is not None:
        reasoning = _number(block.get("output_cost_per_reasoning_token"))
    if reasoning is None:
        reasoning_key = r.key("output_cost_per_reasoning_token")
        if prices.get(reasoning_key) is not None:
            reasoning = r.rate(reasoning_key, output_rate)
        elif r.key(OUTPUT) != OUTPUT and prices.get(r.key(OUTPUT)) is not None:
            reasoning = output_rate
        else:
            reasoning = r.rate("output_cost_per_reasoning_token", output_rate)
    return TokenRates(
        input=input_rate,
        output=output_rate,
        cache_read=cache_read,
        cache_write=cache_write,
        cache_write_1h=write_1h,
        cache_write_12h=write_12h,
        reasoning=reasoning,
        audio_input=r.rate(r.key(audio_key), input_rate),
        audio_output=r.rate("output_cost_per_audio_token", output_rate),
        image_input=r.rate(r.key("input_cost_per_image_token"), input_rate),
        video_input=r.rate(r.key("input_cost_per_video_token"), input_rate),
        cache_read_audio=r.rate(r.key("cache_read_input_audio_token_cost"), cache_read),
        cache_read_image=r.rate(r.key("cache_read_input_image_token_cost"), cache_read),
        image_output=r.rate(r.key("output_cost_per_image_token"), output_rate),
        video_output=r.rate("output_cost_per_video_token", output_rate),
    )


def _off_peak_rate(block: Mapping[str, Any], key: str, standard: Decimal) -> Decimal:
    """An open off-peak block's rate for `key` replaces the standard one; a rate it leaves out does not."""
    value = _number(block.get(key))
    return standard if value is None else value


def _perplexity_rates(rates: TokenRates, prices: Mapping[str, Any]) -> TokenRates:
    """Perplexity's calculator (perplexity/cost_calculator.py): every prompt token that is not a
    cached read at the input price, cached reads at the cache price; every completion token at
    the output price, reasoning tokens at their own price only where the entry sets one; no
    context tiers."""
    i, o = rates.input, rates.output
    reasoning = _number(prices.get("output_cost_per_reasoning_token"))
    return TokenRates(input=i, output=o, cache_read=rates.cache_read, cache_write=i, cache_write_1h=i,
                      cache_write_12h=i, reasoning=o if reasoning is None else reasoning, audio_input=i,
                      audio_output=o, image_input=i, video_input=i, cache_read_audio=rates.cache_read,
                      cache_read_image=rates.cache_read, image_output=o, video_output=o)


def _whole_rates(prices: Mapping[str, Any], row: Mapping[str, Any] | None,
                 off_peak: Mapping[str, Any] | None) -> TokenRates:
    """Alibaba's calculator: the flat prices, or those of the `tiered_pricing` row the prompt
    falls in (missing cache prices at the row's input price; the flat output price for a row
    without one), then any open off-peak block; no modality, context-tier or service-tier prices."""
    p = _Rates(prices, None)
    input_rate, output_rate = p.rate(INPUT, _ZERO), p.rate(OUTPUT, _ZERO)
    cache_read, cache_write = p.rate(CACHE_READ, input_rate), p.rate(CACHE_WRITE, input_rate)
    reasoning = p.get("output_cost_per_reasoning_token", None)
    if row is not None:
        t = _Rates(row, None)
        input_rate = t.rate(INPUT, _ZERO)
        cache_read, cache_write = t.rate(CACHE_READ, input_rate), t.rate(CACHE_WRITE, input_rate)
        if "output_cost_per_reasoning_token" in row:
            reasoning = t.rate("output_cost_per_reasoning_token", _ZERO)
        elif OUTPUT in row:
            reasoning = None
        if OUTPUT in row:
            output_rate = t.rate(OUTPUT, _ZERO)
    block = off_peak or {}

    def peak(key: str, standard: Decimal) -> Decimal:
        return _off_peak_rate(block, key, standard)

    input_rate, output_rate = peak(INPUT, input_rate), peak(OUTPUT, output_rate)
    reasoning_rate = peak("output_cost_per_reasoning_token", output_rate if reasoning is None else reasoning)
    zero = _ZERO
    return TokenRates(zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero,
                      whole_input=input_rate, whole_cache_read=peak(CACHE_READ, cache_read),
                      whole_cache_write=peak(CACHE_WRITE, cache_write), whole_output=output_rate,
                      whole_reasoning=reasoning_rate)


def _whole_cost(u: Usage, rates: TokenRates) -> Decimal:
    text = u.prompt_tokens - u.cached_tokens - u.cache_creation_tokens
    completion = u.completion_tokens - u.reasoning_tokens
    return ((text if text > 0 else 0) * rates.whole_input + u.cached_tokens * rates.whole_cache_read
            + u.cache_creation_tokens * rates.whole_cache_write + (completion if completion > 0 else 0) * rates.whole_output
            + u.reasoning_tokens * rates.whole_reasoning)


_WEEKDAYS = {"mon": 1, "monday": 1, "tue": 2, "tues": 2, "tuesday": 2, "wed": 3, "wednesday": 3, "thu": 4,
             "thur": 4, "thurs": 4, "thursday": 4, "fri": 5, "friday": 5, "sat": 6, "saturday": 6, "sun": 7,
             "sunday": 7}


def _windows(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [w for w in value if isinstance(w, str)]
    return []


def _in_window(windows: list[str], moment: datetime) -> bool:
    """A `HH:MM-HH:MM` UTC window holds the moment (start inclusive, end exclusive; a start after
    the end wraps past midnight; equal ends cover the whole day); malformed windows never do."""
    now = moment.time()
    for window in windows:
        bounds = _window_bounds(window)
        if bounds is None:
            continue
        start, end = bounds
        if (start <= now < end) if start < end else (now >= start or now < end):
            return True
    return False


@lru_cache(maxsize=256)
def _window_bounds(window: str) -> tuple[time, time] | None:
    """A window's start and end times, parsed once (strptime is slow on a per-row path)."""
    try:
        start_text, end_text = window.split("-")
        return (datetime.strptime(start_text.strip(), "%H:%M").time(),
                datetime.strptime(end_text.strip(), "%H:%M").time())
    except ValueError:
        return None


def off_peak_open(block: Mapping[str, Any], moment: datetime) -> bool:
    """True when `moment` falls in an `off_peak_pricing` block's windows as LiteLLM 1.110.2 reads
    them (`_is_off_peak`): the every-day `hours_utc`, or a `windows` rule whose `weekdays` (ISO
    numbers or names, on the `weekday_timezone` calendar) hold the day and whose `hours_utc` (always
    UTC) hold the time."""
    utc = moment.astimezone(timezone.utc)
    if _in_window(_windows(block.get("hours_utc")), utc):
        return True
    rules = block.get("windows")
    if not isinstance(rules, list):
        return False
    for rule in rules:
        if not isinstance(rule, Mapping) or not (hours := _windows(rule.get("hours_utc"))):
            continue
        days = rule.get("weekdays")
        if days is not None:
            if not isinstance(days, list):
                continue
            allowed = {d if isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7
                       else _WEEKDAYS.get(d.strip().lower()) if isinstance(d, str) else None for d in days}
            if _calendar(block.get("weekday_timezone"), utc).isoweekday() not in allowed:
                continue
        if _in_window(hours, utc):
            return True
    return False


def _calendar(zone: Any, utc: datetime) -> datetime:
    if isinstance(zone, str) and zone.strip():
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            return utc.astimezone(ZoneInfo(zone.strip()))
        except (ValueError, ZoneInfoNotFoundError):
            return utc
    return utc


def _moment(value: Any) -> datetime | None:
    """A spend log's timestamp as an aware UTC datetime (ISO text, naive taken as UTC, or seconds
    since the epoch), or None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = repr(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    if text.replace(".", "", 1).isdigit():  # seconds since the epoch
        try:
            return datetime.fromtimestamp(float(text), timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        moment = datetime.fromisoformat(text if "T" in text else text.replace(" ", "T", 1))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class RatePlan:
    """One entry's pricing, prepared once: thresholds, tier table, uplift; the rates of each
    (service tier, tier) combination are computed on first use and cached. `cost()` is the same
    computation as `cost_of`, without re-reading the entry for every request."""

    def __init__(self, prices: Mapping[str, Any], provider: str | None, vertex_location: str | None = None,
                 model: str | None = None) -> None:
        if provider in HALF_PRICE_CACHE_PROVIDERS and prices.get(CACHE_READ) is None:
            base_input = _number(prices.get(INPUT))
            if base_input is not None:
                prices = {**prices, CACHE_READ: base_input / 2}
        self.prices = prices
        self.provider = provider
        self.inclusive = provider in INCLUSIVE_TIER_PROVIDERS
        self.table = _table_rows(prices)
        self.thresholds: dict[str | None, list[tuple[Decimal, str]]] = {}
        self._cache: dict[tuple[Any, ...], TokenRates] = {}
        self.vertex_location = vertex_location
        self._uplifts: dict[tuple[str | None, str | None], Decimal | None] = {}
        self.free = provider in FREE_PROVIDERS
        # Vertex AI's own calculator (vertex_ai/cost_calculator.py `_handle_128k_pricing`) takes
        # over when the entry has an `_above_128k_tokens` token price.
        self.vertex_128k = provider == "vertex_ai" and (
            prices.get(VERTEX_128K_INPUT) is not None or prices.get(VERTEX_128K_OUTPUT) is not None)
        self.unsupported = _unsupported(prices, provider, model)
        self.dashscope = provider in DASHSCOPE_PROVIDERS
        self.per_second = _per_second_rate(prices)
        block = prices.get("off_peak_pricing")
        self.off_peak_block: Mapping[str, Any] | None = block if isinstance(block, Mapping) else None
        self.explicit_cache = any(k.startswith("explicit_cache_read_input_token_cost") for k in prices) or (
            self.off_peak_block is not None and "explicit_cache_read_input_token_cost" in self.off_peak_block)
        specific = prices.get(PROVIDER_SPECIFIC) if provider in ("anthropic", "bedrock") else None
        self.multipliers: Mapping[str, Any] = specific if isinstance(specific, Mapping) else {}

    @property
    def python_only(self) -> str | None:
        """Why this plan's requests need the reference formula (not the token-rate table of the
        SQL engines), or None."""
        if self.unsupported is not None:
            return self.unsupported
        if self.vertex_128k:
            return "vertex-above-128k"
        if self.off_peak_block is not None:
            return "off-peak"
        if self.per_second is not None:
            return "per-second"
        return None

    def uplift(self, vertex_location: str | None, data_residency: str | None) -> Decimal | None:
        """The multiplier on the whole request: Vertex AI's regional-endpoint uplift (unless the
        location is `global`; an unknown location counts as regional), OpenAI's regional-processing
        (`eu`, `us`) or FedRAMP uplift. None when nothing applies."""
        key = (vertex_location, data_residency)
        if key in self._uplifts:
            return self._uplifts[key]
        factor = Decimal(1)
        provider = self.provider or ""
        if provider.startswith("vertex_ai") and (vertex_location or "").lower() != "global":
            factor *= _number(self.prices.get("regional_endpoint_uplift_multiplier")) or Decimal(1)
        residency = (data_residency or "").lower()
        if residency in ("eu", "us"):
            factor *= _number(self.prices.get(f"regional_processing_uplift_multiplier_{residency}")) or Decimal(1)
        elif residency == "fedramp":
            factor *= _number(self.prices.get("fedramp_uplift_multiplier")) or Decimal(1)
        found = self._uplifts[key] = None if factor == 1 else factor
        return found

    def tier_of(self, service_tier: str | None) -> str | None:
        """The service tier the provider's cost function is given (None where it is not passed)."""
        return None if self.provider in NO_SERVICE_TIER_PROVIDERS else service_tier

    def off_peak(self, usage: Usage) -> Mapping[str, Any] | None:
        """The entry's off-peak block when it is open at the time LiteLLM priced the request."""
        if self.off_peak_block is None:
            return None
        moment = _moment(usage.billed_at)
        if moment is None:
            raise NotRecomputed("off-peak-without-time", "off-peak pricing depends on when LiteLLM priced the "
                                "request, and the row has no usable endTime")
        return self.off_peak_block if off_peak_open(self.off_peak_block, moment) else None

    def rates(self, usage: Usage) -> TokenRates:
        tier = self.tier_of(usage.service_tier)
        block = self.off_peak(usage)
        if self.dashscope:
            index = _table_index(self.table, usage.prompt_tokens) if self.table else None
            key: tuple[Any, ...] = ("whole", index, block is not None)
            found = self._cache.get(key)
            if found is None:
                found = self._cache[key] = _whole_rates(self.prices, self.table[index][2] if index is not None else None,
                                                        block)
            return found
        if self.provider == "perplexity":
            key = ("perplexity", block is not None)
            found = self._cache.get(key)
            if found is None:
                found = self._cache[key] = _perplexity_rates(_rates(self.prices, None, [], None, block), self.prices)
            return found
        if self.table:
            index = _table_index(self.table, usage.prompt_tokens)
            if index is not None:
                key = ("table", index, tier, block is not None)
                found = self._cache.get(key)
                if found is None:
                    found = self._cache[key] = _rates(self.prices, tier, [], self.table[index][2], block)
                return found
        thresholds = self.thresholds.get(tier)
        if thresholds is None:
            thresholds = self.thresholds[tier] = tier_thresholds(self.prices, tier)
        prompt = usage.prompt_tokens
        crossed = 0
        for threshold, _text in thresholds:
            if prompt > threshold or (self.inclusive and prompt == threshold):
                crossed += 1
            else:
                break
        key = (tier, crossed, block is not None)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = _rates(self.prices, tier, [t for _, t in thresholds[:crossed]], None, block)
        return found

    def cost(self, usage: Usage, *, vertex_location: str | None = None, data_residency: str | None = None) -> Decimal:
        """USD for one request before any discount (`vertex_location` defaults to the plan's)."""
        if self.unsupported is not None:
            raise NotRecomputed(self.unsupported)
        if usage.unpriced_feature is not None:
            raise NotRecomputed(usage.unpriced_feature, f"LiteLLM adds a {usage.unpriced_feature} charge that "
                                "costctl does not recompute")
        if self.free:
            return _ZERO
        if self.per_second is not None:
            return self.per_second * self._seconds(usage)
        if self.vertex_128k:
            return self._vertex_128k(usage, vertex_location or self.vertex_location)
        if usage.explicit_cache and usage.cached_tokens and self.explicit_cache:
            raise NotRecomputed("explicit-cache-read", "cached reads of an explicit cache bill at "
                                "explicit_cache_read_input_token_cost")
        rates = self.rates(usage)
        if self.dashscope:
            total = _whole_cost(usage, rates)
        else:
            total = _input_cost(usage, rates) + _output_cost(usage, rates)
        uplift = self.uplift(vertex_location or self.vertex_location, data_residency)
        if uplift is not None:
            total *= uplift
        if self.multipliers:
            total *= self.multiplier(usage)
        return total

    def multiplier(self, usage: Usage) -> Decimal:
        """Anthropic's (and Bedrock's) `provider_specific_entry` surcharges: the region the request
        was served in (`usage.inference_geo`, unless `global`) and Anthropic's fast mode."""
        factor = Decimal(1)
        geo = (usage.inference_geo or "").lower()
        if geo and geo not in ("global", "not_available"):
            factor *= _number(self.multipliers.get(geo)) or Decimal(1)
        if usage.speed == "fast" and self.provider == "anthropic":
            factor *= _number(self.multipliers.get("fast")) or Decimal(1)
        return factor


    @staticmethod
    def _seconds(usage: Usage) -> Decimal:
        """The request's duration as the log records it (endTime - startTime), in the float
        LiteLLM measures it in (`response_time_ms` from the two timestamps)."""
        start, end = _moment(usage.started_at), _moment(usage.billed_at)
        if start is None or end is None:
            raise NotRecomputed("per-second-without-times", "per-second prices bill the request's duration, and the "
                                "row lacks a usable startTime or endTime")
        return Decimal(repr((end.timestamp() - start.timestamp()) * 1000 / 1000))

    def _vertex_128k(self, usage: Usage, vertex_location: str | None) -> Decimal:
        """Every prompt token at one input rate, every completion token at one output rate; each
        side's `_above_128k_tokens` rate applies when that side has more than 128,000 tokens."""
        def side(tokens: int, base: str, above: str) -> Decimal:
            high = _number(self.prices.get(above))
            rate = high if tokens > 128_000 and high is not None else (_number(self.prices.get(base)) or _ZERO)
            return tokens * rate

        total = (side(usage.prompt_tokens, INPUT, VERTEX_128K_INPUT)
                 + side(usage.completion_tokens, OUTPUT, VERTEX_128K_OUTPUT))
        uplift = self.uplift(vertex_location, None)
        return total * uplift if uplift is not None else total


# Catalog field of per-request multipliers (geo surcharges, fast mode), not a price of its own.
PROVIDER_SPECIFIC = "provider_specific_entry"
def _input_cost(u: Usage, rates: TokenRates) -> Decimal:
    """The prompt side of `generic_cost_per_token`: uncached text, cached reads (audio and image
    ones at their own cache price), cache writes by lifetime, audio, image and video tokens."""
    cached, writes, prompt = u.cached_tokens, u.cache_creation_tokens, u.prompt_tokens
    if cached >= 0 and not (u.text_input_tokens or u.image_input_tokens or u.video_input_tokens
                            or u.cached_text_tokens or u.cached_audio_tokens or u.cached_image_tokens):
        # the common case, the same rules: no text count, nothing known about the cached reads
        audio = u.audio_input_tokens
        if (cached or writes) and cached + audio + writes > prompt:
            budget = prompt - cached - writes
            budget = budget if budget > 0 else 0
            audio = audio if audio < budget else budget
            text = budget - audio
        else:
            text = prompt - cached - audio - writes
            text = text if text > 0 else 0
        total = text * rates.input
        if cached:
            total += cached * rates.cache_read
        if audio:
            total += audio * rates.audio_input
        return total + _write_cost(u, rates) if (writes or u.cache_creation_1h_tokens or u.cache_creation_12h_tokens) \
            else total
    # what the cached reads were (min() as LiteLLM takes it, which a negative count also passes)
    c_audio = min(u.cached_audio_tokens, cached)
    c_text = min(u.cached_text_tokens, cached - c_audio)
    c_image = min(u.cached_image_tokens, cached - c_audio - c_text)
    audio, image, video = max(u.audio_input_tokens - c_audio, 0), max(u.image_input_tokens - c_image, 0), \
        u.video_input_tokens
    text = max(u.text_input_tokens - c_text, 0)
    if (cached or writes) and text + cached + audio + writes + image + video > prompt:
        # the cached and per-modality counts overlap: a modality bills what the cache left
        budget = max(prompt - cached - writes, 0)
        audio = min(audio, budget)
        image = min(image, budget - audio)
        video = min(video, budget - audio - image)
        text = budget - audio - image - video
    elif text == 0:  # no text count reported: text is what the other counts leave
        text = max(prompt - cached - audio - writes - image - video, 0)
    total = (text * rates.input + (cached - c_audio - c_image) * rates.cache_read + c_audio * rates.cache_read_audio
             + c_image * rates.cache_read_image + audio * rates.audio_input + image * rates.image_input
             + video * rates.video_input)
    if writes or u.cache_creation_1h_tokens or u.cache_creation_12h_tokens:
        total += _write_cost(u, rates)
    return total


def _write_cost(u: Usage, rates: TokenRates) -> Decimal:
    """Cache writes: 5-minute (and 30-minute) and unattributed ones at the write price, 1-hour and
    12-hour ones at theirs."""
    long_writes = u.cache_creation_1h_tokens + u.cache_creation_12h_tokens
    unattributed = u.cache_creation_tokens - u.cache_creation_short_tokens - long_writes
    return (((unattributed if unattributed > 0 else 0) + u.cache_creation_short_tokens) * rates.cache_write
            + u.cache_creation_1h_tokens * rates.cache_write_1h + u.cache_creation_12h_tokens * rates.cache_write_12h)


def _output_cost(u: Usage, rates: TokenRates) -> Decimal:
    """The completion side: text, reasoning, audio, image and video tokens, each at its rate
    (reasoning nested inside a reported text count is taken out of it)."""
    reasoning, other = u.reasoning_tokens, u.audio_output_tokens + u.image_output_tokens + u.video_output_tokens
    reported = u.text_output_tokens
    text = reported - min(reasoning, reported, max(reported + reasoning + other - u.completion_tokens, 0))
    if text == 0:
        if not (reasoning or other):
            return u.completion_tokens * rates.output
        text = max(0, u.completion_tokens - reasoning - other)
    return (text * rates.output + reasoning * rates.reasoning + u.audio_output_tokens * rates.audio_output
            + u.image_output_tokens * rates.image_output + u.video_output_tokens * rates.video_output)


VERTEX_128K_INPUT = "input_cost_per_token_above_128k_tokens"
VERTEX_128K_OUTPUT = "output_cost_per_token_above_128k_tokens"


def _per_second_rate(prices: Mapping[str, Any]) -> Decimal | None:
    """USD per second of request time, for an entry that has no token or tier price
    (cost_calculator.py `_per_second_pricing_cost_from_info`); None when tokens price it."""
    if (_number(prices.get(INPUT)) or 0) > 0 or (_number(prices.get(OUTPUT)) or 0) > 0 \
            or prices.get("tiered_pricing") is not None:
        return None
    for key in ("cost_per_second", "input_cost_per_second", "output_cost_per_second"):
        if (rate := _number(prices.get(key))) is not None:
            return rate
    return None


# Providers priced by Alibaba's own calculator.
DASHSCOPE_PROVIDERS = frozenset({"dashscope", "qwencloud", "qwen_ai_platform"})
# Vertex AI models LiteLLM prices by tokens even when their entry has character prices
# (vertex_ai/cost_calculator.py `cost_router`).
_VERTEX_TOKEN_MODELS = ("claude", "llama", "mistral", "jamba", "codestral", "gemma", "gemini-2")


def _unsupported(prices: Mapping[str, Any], provider: str | None, model: str | None) -> str | None:
    """The billing rule LiteLLM prices this entry's requests by that costctl cannot recompute
    from a spend-log row, or None."""
    name = (model or "").lower()
    if provider in ("azure_ai", "azure") and ("model-router" in name or "model_router" in name):
        return "azure-model-router-fee"  # the routed model's tokens plus a per-prompt-token fee
    if provider == "replicate" and prices.get(INPUT) is None and prices.get(OUTPUT) is None:
        return "replicate-per-second"  # an unlisted Replicate model bills $0.0014 a second of run time
    if provider == "vertex_ai" and (prices.get(INPUT) is None or not any(w in (model or "") for w in _VERTEX_TOKEN_MODELS)) \
            and (prices.get("input_cost_per_character") is not None or prices.get("output_cost_per_character") is not None):
        return "vertex-character-pricing"  # needs the request's character counts, which logs do not keep
    return None


def cost_of(usage: Usage, prices: Mapping[str, Any], provider: str | None, *,
            vertex_location: str | None = None, data_residency: str | None = None) -> Decimal:
    """USD cost of one request under `prices` (an effective entry: field -> value), before any
    provider discount, as LiteLLM 1.110.2 computes it.

    Generic path: uncached text input, cached reads, cache writes (1-hour writes at their own
    rate), audio input, text output, reasoning and audio output, each at its rate; a context tier
    (`*_above_<N>k_tokens`, the highest one the prompt crosses; xai from the threshold itself)
    re-prices the whole request; a `tiered_pricing` table prices it at the row holding the
    prompt; service tiers pick `*_flex` / `*_priority` rates. Missing cache prices bill at the
    input price (fireworks_ai: cached reads at half). Azure goes through the same generic
    calculator in LiteLLM 1.110.2 (older releases used a simpler one). vertex_ai* models
    with a `regional_endpoint_uplift_multiplier` are multiplied by it unless `vertex_location`
    is `global`; `data_residency` (`eu`, `us`, `fedramp`) applies OpenAI's processing uplifts.
    """
    return RatePlan(prices, provider, vertex_location).cost(usage, data_residency=data_residency)
