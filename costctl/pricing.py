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
from decimal import Decimal, InvalidOperation
from typing import Any

from costctl.catalog.resolve import Resolution, litellm_fields, resolve
from costctl.catalog.store import Catalog
from costctl.config.model import Deployment
from costctl.config.yaml_source import YamlMap

CUSTOM, DEFAULT, FALLBACK, NONE = "custom", "default", "fallback", "none"
SOURCES = (CUSTOM, DEFAULT, FALLBACK, NONE)

INPUT = "input_cost_per_token"
OUTPUT = "output_cost_per_token"
CACHE_READ = "cache_read_input_token_cost"
CACHE_WRITE = "cache_creation_input_token_cost"
CACHE_WRITE_1H = "cache_creation_input_token_cost_above_1hr"
MAIN_FIELDS = (INPUT, OUTPUT, CACHE_READ, CACHE_WRITE)

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


def price_keys() -> frozenset[str]:
    """The keys LiteLLM treats as custom prices (`CustomPricingLiteLLMParams`)."""
    return _PRICE_KEYS


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

    @property
    def billed_zero(self) -> bool:
        return self.source == NONE


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
        if provider is None and head not in _known_providers():
            provider = own.provider
        return dep.base_model, resolve(dep.base_model, catalog, provider)
    return dep.model, own


def _known_providers() -> frozenset[str]:
    from costctl.catalog.resolve import known_providers

    return known_providers()


def effective_prices(dep: Deployment, catalog: Catalog) -> EffectivePrices:
    """Every priced field of `dep` with its value, source and origin (LiteLLM 1.110.2 rules)."""
    backend_model, res = backend_of(dep, catalog)
    provider = res.provider
    custom_params = [k for k in dep.params if k in _PRICE_KEYS and _is_set(dep.params, k)]
    custom_info = [k for k in dep.info if k in _MODEL_INFO_PRICE_KEYS and _is_set(dep.info, k)]
    ep = EffectivePrices(dep, provider, backend_model, res, custom=bool(custom_params or custom_info))
    prices = ep.prices
    entry = res.entry or {}

    def default(name: str) -> Price | None:
        raw = entry.get(name)
        if raw is None:
            return None
        if isinstance(raw, (list, dict)):
            return Price(None, DEFAULT, res.key, structured=raw)
        number = _catalog_number(raw)
        return Price(number, DEFAULT, res.key) if number is not None else None

    if not ep.custom and dep.wildcard and res.key is None:
        # A wildcard routes many models: each request is priced by the model it names.
        for name in MAIN_FIELDS:
            prices[name] = Price(None, DEFAULT, "catalog entry of each model the wildcard matches")
        ep.notes.append("wildcard: each request is priced by the catalog entry of the model it names")
        return ep
    if not ep.custom:
        for name in entry:
            if is_price_field(name) and (p := default(name)) is not None:
                prices[name] = p
        if res.key is None:
            ep.notes.append(f"'{backend_model}' is not in the catalog and has no custom price: billed $0")
    else:
        for key in custom_info:
            prices[key] = _custom_price(dep.info, key, "model_info", dep.file, dep)
        for key in custom_params:
            prices[key] = _custom_price(dep.params, key, "litellm_params", dep.file, dep)
        # a price that is set but does not parse is not a price LiteLLM can use
        for key in [k for k, p in prices.items() if p.value is None and p.structured is None]:
            ep.notes.append(f"{key} is set but is not a number: LiteLLM cannot use it")
        _inherit(ep, entry, default)

    for ref in dep.env_refs:
        if not ref.resolved and (ref.key in _MODEL_INFO_PRICE_KEYS):
            ep.notes.append(f"{ref.key} comes from os.environ/{ref.name}, which is unset here: "
                            "the proxy's environment decides this price")
    _fallbacks(ep)
    return ep


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
        fields = INHERITED_CACHE_FIELDS
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
    for name in (INPUT, OUTPUT):
        if not _has(prices, name):
            written = prices[name].written_as if name in prices else None
            prices[name] = Price(None, NONE, written_as=written,
                                 origin=prices[name].origin if name in prices else None)
    input_value = prices[INPUT].value
    for name in (CACHE_READ, CACHE_WRITE):
        if _has(prices, name):
            continue
        if input_value is None:
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


# --------------------------------------------------------------------------------------------
# The cost of one request


@dataclass(frozen=True)
class Usage:
    """Token counts of one request, as LiteLLM's usage object and spend logs give them.

    `prompt_tokens` includes cached reads, cache writes and audio input tokens;
    `completion_tokens` includes reasoning and audio output tokens.
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


_TIER_KEY = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")
_ZERO = Decimal(0)


def _num(entry: Mapping[str, Any], key: str) -> Decimal | None:
    value = entry.get(key)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (Decimal, int)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def context_tier(entry: Mapping[str, Any], prompt_tokens: int, provider: str | None) -> str | None:
    """The `_above_<N>k_tokens` suffix whose rates price the whole request, or None."""
    inclusive = provider in INCLUSIVE_TIER_PROVIDERS
    best: int | None = None
    for key in entry:
        m = _TIER_KEY.match(key)
        if not m:
            continue
        threshold = int(m.group(1))
        crossed = prompt_tokens >= threshold * 1000 if inclusive else prompt_tokens > threshold * 1000
        if crossed and (best is None or threshold > best):
            best = threshold
    return None if best is None else f"_above_{best}k_tokens"


def cost_of(usage: Usage, prices: Mapping[str, Any], provider: str | None) -> Decimal:
    """USD cost of one request under `prices` (an effective entry: field -> value), before any
    provider discount. Generic path for every provider; `azure` uses LiteLLM's simple calculator
    (no separate reasoning or audio price)."""
    tier = context_tier(prices, usage.prompt_tokens, provider)
    service = usage.service_tier if usage.service_tier in ("flex", "priority") else None

    def rate(key: str) -> Decimal | None:
        candidates = []
        if tier:
            if service:
                candidates.append(f"{key}{tier}_{service}")
            candidates.append(f"{key}{tier}")
        if service:
            candidates.append(f"{key}_{service}")
        candidates.append(key)
        for k in candidates:
            value = _num(prices, k)
            if value is not None:
                return value
        return None

    input_rate = rate(INPUT) or _ZERO
    output_rate = rate(OUTPUT) or _ZERO
    cache_read = rate(CACHE_READ)
    if cache_read is None:
        cache_read = input_rate / 2 if provider in HALF_PRICE_CACHE_PROVIDERS else input_rate
    cache_write = rate(CACHE_WRITE)
    if cache_write is None:
        cache_write = input_rate
    cache_write_1h = rate(CACHE_WRITE_1H)
    if cache_write_1h is None:
        cache_write_1h = cache_write

    writes_1h = min(usage.cache_creation_1h_tokens, usage.cache_creation_tokens)
    writes_5m = usage.cache_creation_tokens - writes_1h
    if provider == "azure":
        uncached = usage.prompt_tokens - usage.cached_tokens
        return (uncached * input_rate + usage.cached_tokens * cache_read
                + usage.completion_tokens * output_rate)

    audio_in_rate = rate("input_cost_per_audio_token")
    audio_in_rate = input_rate if audio_in_rate is None else audio_in_rate
    reasoning_rate = rate("output_cost_per_reasoning_token")
    reasoning_rate = output_rate if reasoning_rate is None else reasoning_rate
    audio_out_rate = rate("output_cost_per_audio_token")
    audio_out_rate = output_rate if audio_out_rate is None else audio_out_rate

    text_in = usage.prompt_tokens - usage.cached_tokens - usage.cache_creation_tokens - usage.audio_input_tokens
    text_out = usage.completion_tokens - usage.reasoning_tokens - usage.audio_output_tokens
    return (
        text_in * input_rate
        + usage.cached_tokens * cache_read
        + writes_5m * cache_write
        + writes_1h * cache_write_1h
        + usage.audio_input_tokens * audio_in_rate
        + text_out * output_rate
        + usage.reasoning_tokens * reasoning_rate
        + usage.audio_output_tokens * audio_out_rate
    )
