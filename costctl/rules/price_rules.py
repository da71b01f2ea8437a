"""Rules about the prices themselves and what LiteLLM will bill (CST101-CST113, CST115, CST118)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from costctl.config.model import Deployment
from costctl.config.yaml_source import YamlList, YamlMap
from costctl.money import number, readable
from costctl.pricing import (
    CACHE_READ,
    CUSTOM,
    DEFAULT,
    FIELD_LABELS,
    INPUT,
    MAIN_FIELDS,
    NONE,
    OUTPUT,
    STRUCTURED_PRICES,
    EffectivePrices,
    is_token_price,
    parse_price,
    price_keys,
)
from costctl.rules.base import Context, Hit, deployment_hit, rule

MAX_PER_TOKEN = Decimal("0.001")
MIN_PER_TOKEN = Decimal("1e-12")
MILLION = Decimal(1_000_000)


def _per_1m(value: Decimal | None) -> str:
    return "$0" if value is None else f"${readable(value * MILLION)} per 1M"


def _custom_values(dep: Deployment) -> Iterator[tuple[str, YamlMap, str, Any, str]]:
    """(where, mapping, key, raw value, key path) of every custom price the deployment writes,
    tier-table and off-peak entries included; env-sourced values are left to CST003."""
    env_paths = {r.path for r in dep.env_refs}
    for where, tree in (("litellm_params", dep.params), ("model_info", dep.info)):
        for key, value in tree.items():
            if key not in price_keys() and key != "off_peak_pricing":
                continue
            path = f"{dep.key_path}.{where}.{key}"
            if path in env_paths:
                continue
            if isinstance(value, (YamlMap, YamlList)) and key in STRUCTURED_PRICES:
                yield from _nested(where, value, path)
            else:
                yield where, tree, str(key), value, path


def _nested(where: str, value: Any, path: str) -> Iterator[tuple[str, YamlMap, str, Any, str]]:
    if isinstance(value, YamlList):
        for i, item in enumerate(value):
            yield from _nested(where, item, f"{path}[{i}]")
    elif isinstance(value, YamlMap):
        for key, item in value.items():
            if key == "range":
                continue
            if isinstance(item, (YamlMap, YamlList)):
                yield from _nested(where, item, f"{path}.{key}")
            elif "cost" in str(key):
                yield where, value, str(key), item, f"{path}.{key}"


def _hit(dep: Deployment, tree: YamlMap, key: str, path: str, message: str) -> Hit:
    line, column = tree.key_pos.get(key, (dep.line, dep.column))
    return Hit(message, dep.file, line, column, path, dep.model_name)


@rule("CST101", "price-not-a-number", "error")
def price_not_a_number(ctx: Context) -> Iterator[Hit]:
    """A price that YAML reads as a string (`1e-6`, `"0.000002"`), a bool or null.

    YAML 1.1 (PyYAML, so LiteLLM) reads `1e-6` — an exponent without a dot — as text, and
    anything quoted is text. LiteLLM 1.110.2 converts top-level custom prices, but other
    versions and paths (spend logging, metrics, nested `tiered_pricing` tables) have logged
    such deployments at $0.

    Example:
        input_cost_per_token: 1e-6          # a string to YAML
        tiered_pricing:
          - {range: [0, 200000], input_cost_per_token: "3e-7"}

    Fix: write a real number: `1.0e-6` or `0.000001`.
    """
    for dep in ctx.config.deployments:
        for _where, tree, key, value, path in _custom_values(dep):
            _number, written = parse_price(value)
            if written == "string":
                yield _hit(dep, tree, key, path, f"{key} is the YAML string '{value}', not a number: write "
                           f"{_plain_number(value)} (some LiteLLM versions and paths log string prices as $0)")
            elif written in ("bool", "null"):
                yield _hit(dep, tree, key, path, f"{key} is {written} ({_written(value)}), not a price")
            elif isinstance(value, (YamlMap, YamlList)):
                kind = "a list" if isinstance(value, YamlList) else "a mapping"
                yield _hit(dep, tree, key, path, f"{key} is {kind}, not a number: LiteLLM cannot load this "
                           "deployment's prices")
            elif written == "invalid":
                yield _hit(dep, tree, key, path, f"{key} is {_written(value)}, which is not a number: LiteLLM cannot "
                           "load this deployment's prices")


def _written(value: Any) -> str:
    """A config value as a message quotes it (`NaN`, `'abc'`, `True`), never a Python repr of a Decimal."""
    return str(value) if isinstance(value, Decimal) else repr(value)


def _plain_number(value: Any) -> str:
    number_, _ = parse_price(value)
    if number_ is None:
        return "a number"
    text = readable(number_)
    return f"{text}" if "e" not in text.lower() else str(number_)


@rule("CST102", "negative-price", "error")
def negative_price(ctx: Context) -> Iterator[Hit]:
    """A price below zero.

    LiteLLM multiplies it like any other price: every request of that deployment lowers the
    recorded spend, hiding real cost from budgets and reports.

    Example:
        output_cost_per_token: -0.00001

    Fix: use the positive price (or 0 for a free model).
    """
    for dep in ctx.config.deployments:
        for _where, tree, key, value, path in _custom_values(dep):
            number_, _ = parse_price(value)
            if number_ is not None and number_ < 0:
                yield _hit(dep, tree, key, path, f"{key} is negative ({readable(number_)}): every request lowers spend")


@rule("CST103", "price-unit-suspect", "error")
def price_unit_suspect(ctx: Context) -> Iterator[Hit]:
    """A per-token price above $0.001, or a non-zero one below $1e-12.

    LiteLLM prices are USD per single token. No model costs more than $1,000 per 1M tokens, so a
    larger value is almost surely a per-1K or per-1M price pasted into a per-token field, and
    bills 1,000 or 1,000,000 times too much; a value below 1e-12 was divided once too often.

    Example:
        input_cost_per_token: 2.5      # meant $2.50 per 1M tokens

    Fix: divide a per-1M price by 1,000,000 (2.5 -> 0.0000025), a per-1K price by 1,000.
    """
    for dep in ctx.config.deployments:
        for _where, tree, key, value, path in _custom_values(dep):
            if not is_token_price(key):
                continue
            number_, _ = parse_price(value)
            if number_ is None or number_ <= 0:
                continue
            if number_ > MAX_PER_TOKEN:
                yield _hit(dep, tree, key, path, f"{key} is {readable(number_)} USD per token = "
                           f"${readable(number_ * MILLION)} per 1M tokens: a per-1K or per-1M price in a per-token "
                           f"field? (per 1M -> {readable(number_ / MILLION)}, per 1K -> {readable(number_ / 1000)})")
            elif number_ < MIN_PER_TOKEN:
                yield _hit(dep, tree, key, path, f"{key} is {readable(number_)} USD per token "
                           f"(${readable(number_ * MILLION)} per 1M tokens): divided once too often?")


def _custom_price_line(ep: EffectivePrices, field: str) -> tuple[YamlMap | None, str | None, str]:
    price = ep.prices.get(field)
    if price is None or price.source != CUSTOM:
        return None, None, ""
    tree = ep.deployment.params if price.origin == "litellm_params" else ep.deployment.info
    return tree, field, str(price.origin)


def _azure_without_base(ep: EffectivePrices) -> bool:
    return ep.provider == "azure" and not ep.deployment.base_model


@rule("CST104", "unpriced-model", "error")
def unpriced_model(ctx: Context) -> Iterator[Hit]:
    """A backend model that is not in the catalog, with no custom input or output price.

    LiteLLM finds no price and logs every request of this deployment at $0 — no error, no
    warning in spend reports; budgets and chargeback never see the traffic.

    Example:
        - model_name: llama-internal
          litellm_params: {model: openai/llama-3.1-70b-internal, api_base: http://vllm:8000/v1}

    Fix: set input_cost_per_token and output_cost_per_token (0 if the model is really free), or
    point model_info.base_model at a catalog model with the same price.
    """
    for ep in ctx.prices:
        dep = ep.deployment
        if ep.catalog_key == "fireworks-ai-default" and not ep.custom:  # no size in the name: the $0 bucket
            yield deployment_hit(dep, f"'{ep.backend_model}' is not in the catalog and its name states no size: "
                                 "LiteLLM prices it by fireworks-ai-default and logs every request at $0", dep.params,
                                 "model", "litellm_params")
            continue
        if dep.wildcard or ep.catalog_key is not None or _azure_without_base(ep):
            continue
        if ep.prices[INPUT].source != NONE or ep.prices[OUTPUT].source != NONE:
            continue
        yield deployment_hit(dep, f"'{ep.backend_model}' is not in the catalog and has no custom price: "
                             "LiteLLM logs every request of this deployment at $0", dep.params, "model", "litellm_params")


@rule("CST105", "partial-custom-price", "error")
def partial_custom_price(ctx: Context) -> Iterator[Hit]:
    """A custom input price without an output price, or the reverse (or custom prices with neither).

    A deployment with any custom price is priced from its own entry: LiteLLM does not take the
    missing side from the catalog, it bills it at $0 (logging "priced at $0 … missing_pricing_key").
    Custom input alone: output tokens are free; custom output alone: input and cached tokens are.
    Custom prices without any per-token rate (only a cache price, say) are ignored altogether:
    the deployment bills the catalog default, not what the config says.

    Example:
        litellm_params:
          model: anthropic/claude-sonnet-4-5
          input_cost_per_token: 0.0000025     # output now billed at $0

    Fix: set both input_cost_per_token and output_cost_per_token.
    """
    for ep in ctx.prices:
        dep = ep.deployment
        if ep.ignored_custom and not dep.wildcard:
            ignored = ep.ignored_custom[0]
            place = "litellm_params" if ignored in dep.params else "model_info"
            yield deployment_hit(dep, f"custom {', '.join(ep.ignored_custom)} without an input or output price: LiteLLM "
                                 "ignores these prices and bills the catalog default",
                                 dep.params if place == "litellm_params" else dep.info, ignored, place)
        if not ep.custom or dep.wildcard:
            continue
        inp, out = ep.prices[INPUT], ep.prices[OUTPUT]
        if inp.source == CUSTOM and out.source == NONE:
            tree, key, where = _custom_price_line(ep, INPUT)
            yield deployment_hit(dep, "custom input price without an output price: LiteLLM bills every output token "
                                 f"at $0{_unused_default(ep, OUTPUT)}", tree, key, where)
        elif out.source == CUSTOM and inp.source == NONE:
            tree, key, where = _custom_price_line(ep, OUTPUT)
            yield deployment_hit(dep, "custom output price without an input price: LiteLLM bills every input and cached "
                                 f"token at $0{_unused_default(ep, INPUT)}", tree, key, where)


def _unused_default(ep: EffectivePrices, field: str) -> str:
    value = _catalog_value(ep, field)
    return f" (the catalog's {_per_1m(value)} is not used)" if value else ""


def _catalog_value(ep: EffectivePrices, field: str) -> Decimal | None:
    entry = ep.catalog.entry or {}
    value, _ = parse_price(entry.get(field))
    return value


@rule("CST106", "cache-price-above-input", "warning")
def cache_price_above_input(ctx: Context) -> Iterator[Hit]:
    """The effective cache-read price is higher than the effective input price.

    Cached tokens are meant to be cheaper. This usually happens when a custom input price is
    lowered and the catalog's cache price is kept: LiteLLM inherits the catalog cache price for
    a custom-priced deployment, so cache hits now cost more than misses.

    Example:
        model: openai/gpt-4o
        input_cost_per_token: 0.000001      # catalog cache read stays 0.00000125

    Fix: set cache_read_input_token_cost next to the custom input price.
    """
    for ep in ctx.prices:
        inp, cache = ep.prices[INPUT], ep.prices[CACHE_READ]
        if inp.value is None or cache.value is None or cache.source not in (CUSTOM, DEFAULT):
            continue
        if cache.value > inp.value:
            tree, key, where = _custom_price_line(ep, CACHE_READ)
            if tree is None:
                tree, key, where = _custom_price_line(ep, INPUT)
            origin = "custom" if cache.source == CUSTOM else f"catalog {cache.origin}"
            yield deployment_hit(ep.deployment, f"cached reads cost {_per_1m(cache.value)} ({origin}), more than input at "
                                 f"{_per_1m(inp.value)}", tree, key, where)


@rule("CST107", "custom-price-deviates", "info")
def custom_price_deviates(ctx: Context) -> Iterator[Hit]:
    """A custom price that differs from the catalog default by more than --max-deviation (50 %).

    Negotiated discounts are normal; a custom price several times the list price, or a tiny
    fraction of it, is more often a typo or a price for another model.

    Example:
        model: openai/gpt-4o
        output_cost_per_token: 0.0001       # catalog: 0.00001

    Fix: check the contract price; raise --max-deviation (or max-deviation in [tool.costctl])
    when large discounts are expected.
    """
    limit = ctx.settings.max_deviation
    for ep in ctx.prices:
        for field, price in ep.prices.items():
            if price.source != CUSTOM or price.value is None:
                continue
            default = _catalog_value(ep, field)
            if default is None or default <= 0:
                continue
            if is_token_price(field) and not (MIN_PER_TOKEN <= price.value <= MAX_PER_TOKEN):
                continue  # a unit mistake: CST103 says so more precisely
            deviation = abs(price.value - default) / default * 100
            if deviation > limit:
                tree, key, where = _custom_price_line(ep, field)
                yield deployment_hit(ep.deployment, f"{field} {number(price.value)} is {deviation:.0f} % "
                                     f"{'above' if price.value > default else 'below'} the catalog's {number(default)} "
                                     f"({ep.catalog_key})", tree, key, where)


@rule("CST108", "price-set-twice", "warning")
def price_set_twice(ctx: Context) -> Iterator[Hit]:
    """The same price key in litellm_params and model_info, with different values.

    LiteLLM uses the litellm_params value; the model_info one is dead, and whoever edits it
    next will wonder why the bill did not change.

    Example:
        litellm_params: {input_cost_per_token: 0.000002}
        model_info:     {input_cost_per_token: 0.000003}     # ignored

    Fix: keep the price in one place.
    """
    for dep in ctx.config.deployments:
        for key in dep.params:
            if key not in price_keys() or key not in dep.info:
                continue
            a, _ = parse_price(dep.params[key])
            b, _ = parse_price(dep.info[key])
            if a != b:
                yield deployment_hit(dep, f"{key} is {dep.params[key]} in litellm_params and {dep.info[key]} in "
                                     "model_info: LiteLLM uses the litellm_params value", dep.info, key, "model_info")


@rule("CST109", "azure-without-base-model", "warning")
def azure_without_base_model(ctx: Context) -> Iterator[Hit]:
    """An `azure/` deployment without `base_model`.

    Azure deployment names are yours (`azure/prod-gpt4o-eastus`), not catalog keys. Without
    model_info.base_model LiteLLM prices each request by the model name Azure returns, which
    may be missing from the catalog ($0) or a different version with another price.

    Example:
        litellm_params: {model: azure/prod-gpt4o-eastus}

    Fix: add model_info.base_model naming the catalog model, e.g. `base_model: azure/gpt-4o`.
    """
    for ep in ctx.prices:
        dep = ep.deployment
        if not _azure_without_base(ep) or dep.wildcard:
            continue
        if ep.prices[INPUT].source == CUSTOM and ep.prices[OUTPUT].source == CUSTOM:
            continue
        yield deployment_hit(dep, f"{dep.model} has no base_model: LiteLLM prices it by the model name Azure "
                             "returns (often $0 or another version); set model_info.base_model (e.g. azure/gpt-4o)",
                             dep.params, "model", "litellm_params")


def _main_prices(ep: EffectivePrices) -> tuple[Decimal | None, ...]:
    return tuple(ep.prices[f].value for f in MAIN_FIELDS)


@rule("CST110", "group-price-mismatch", "warning")
def group_price_mismatch(ctx: Context) -> Iterator[Hit]:
    """Deployments sharing one model_name that bill different prices.

    A model_name is one public model, load-balanced over its deployments. When their effective
    prices differ, the same request costs more or less depending on where the router sends it,
    and spend per model stops being predictable.

    Example:
        - model_name: gpt-4o
          litellm_params: {model: openai/gpt-4o}                 # 2.50 / 10.00 per 1M
        - model_name: gpt-4o
          litellm_params: {model: azure/gpt4o, input_cost_per_token: 0.000001, ...}

    Fix: align the prices, or give the deployments different model_names.
    """
    groups: dict[str, list[EffectivePrices]] = defaultdict(list)
    for ep in ctx.prices:
        if not ep.deployment.wildcard:
            groups[ep.deployment.model_name].append(ep)
    for name, members in groups.items():
        first = members[0]
        for ep in members[1:]:
            if _main_prices(ep) != _main_prices(first):
                diffs = [f"{FIELD_LABELS[f]} {_per_1m(ep.prices[f].value)} vs "
                         f"{_per_1m(first.prices[f].value)}" for f in MAIN_FIELDS
                         if ep.prices[f].value != first.prices[f].value]
                yield deployment_hit(ep.deployment, f"model_name '{name}' bills differently here than at "
                                     f"{first.deployment.file}:{first.deployment.line} ({'; '.join(diffs)}): "
                                     "spend depends on routing")


def _custom_signature(ep: EffectivePrices) -> tuple[tuple[str, Decimal | None], ...]:
    return tuple(sorted((k, p.value) for k, p in ep.prices.items() if p.source == CUSTOM))


@rule("CST111", "shared-backend-conflict", "warning")
def shared_backend_conflict(ctx: Context) -> Iterator[Hit]:
    """Deployments of the same backend model with different custom prices.

    LiteLLM registers custom prices under the deployment id, and also writes them under the
    backend model name; some versions have let one deployment's price leak to its siblings on
    the same backend, so spend logs show the wrong deployment's price.

    Example:
        - model_name: gpt-4o-team-a
          litellm_params: {model: openai/gpt-4o, input_cost_per_token: 0.000002, ...}
        - model_name: gpt-4o-team-b
          litellm_params: {model: openai/gpt-4o, input_cost_per_token: 0.000003, ...}

    Fix: set model_info.id on each deployment and check reconcile output for leaks; prefer one
    price per backend model.
    """
    backends: dict[str, list[EffectivePrices]] = defaultdict(list)
    for ep in ctx.prices:
        if ep.custom and not ep.deployment.wildcard:
            backends[ep.deployment.model].append(ep)
    for model, members in backends.items():
        first = members[0]
        for ep in members[1:]:
            if _custom_signature(ep) != _custom_signature(first):
                yield deployment_hit(ep.deployment, f"custom prices differ from another deployment of {model} "
                                     f"({first.deployment.file}:{first.deployment.line}); some LiteLLM versions "
                                     "apply one deployment's price to the other")


@rule("CST112", "wildcard-custom-price", "warning")
def wildcard_custom_price(ctx: Context) -> Iterator[Hit]:
    """Custom prices on a wildcard deployment (`*`, `openai/*`).

    A wildcard routes every model it matches; a custom price on it applies to all of them —
    gpt-4o-mini billed like o1, or the reverse.

    Example:
        - model_name: "openai/*"
          litellm_params: {model: "openai/*", input_cost_per_token: 0.0000025}

    Fix: remove the price (each model then gets its catalog price), or add explicit deployments
    for the models that need custom prices.
    """
    for ep in ctx.prices:
        if ep.deployment.wildcard and ep.custom:
            field = next((f for f, p in ep.prices.items() if p.source == CUSTOM), INPUT)
            tree, key, where = _custom_price_line(ep, field)
            yield deployment_hit(ep.deployment, f"custom price {field} on wildcard {ep.deployment.model}: it applies "
                                 "to every model the wildcard matches", tree, key, where)


@rule("CST113", "output-cheaper-than-input", "info")
def output_cheaper_than_input(ctx: Context) -> Iterator[Hit]:
    """A chat deployment whose output price is below its input price.

    For chat models output tokens cost more than input tokens (typically 3-8x). The reverse is
    usually input and output swapped.

    Example:
        input_cost_per_token: 0.00001
        output_cost_per_token: 0.0000025

    Fix: check which price is which.
    """
    for ep in ctx.prices:
        inp, out = ep.prices[INPUT], ep.prices[OUTPUT]
        if inp.value is None or out.value is None or inp.source == NONE or out.source == NONE:
            continue
        if CUSTOM not in (inp.source, out.source):
            continue
        mode = ep.deployment.info.get("mode") or (ep.catalog.entry or {}).get("mode") or "chat"
        if mode in ("chat", "responses") and out.value < inp.value:
            tree, key, where = _custom_price_line(ep, OUTPUT if out.source == CUSTOM else INPUT)
            yield deployment_hit(ep.deployment, f"output {_per_1m(out.value)} is cheaper than input {_per_1m(inp.value)} "
                                 "on a chat model: swapped?", tree, key, where)


@rule("CST115", "catalog-unit-suspect", "warning")
def catalog_unit_suspect(ctx: Context) -> Iterator[Hit]:
    """The catalog's own default per-token price for a deployment here is above $0.001.

    LiteLLM's catalog has a few entries whose per-token price is really a per-image, per-second
    or per-1K price. A deployment that uses such a default bills token traffic far too high.

    Example:
        model: some-provider/image-model     # catalog input_cost_per_token: 0.04

    Fix: set custom prices for the deployment, or check the catalog entry upstream.
    """
    for ep in ctx.prices:
        bad = [(f, p.value) for f, p in ep.prices.items()
               if p.source == DEFAULT and p.value is not None and is_token_price(f) and p.value > MAX_PER_TOKEN]
        if bad:
            listed = ", ".join(f"{f} = {number(v)}" for f, v in bad[:3])
            yield deployment_hit(ep.deployment, f"catalog entry {ep.catalog_key} prices tokens suspiciously high "
                                 f"({listed} USD per token)", ep.deployment.params, "model", "litellm_params")


@rule("CST117", "together-price-ignored", "error")
def together_price_ignored(ctx: Context) -> Iterator[Hit]:
    """Custom prices on a Together AI deployment whose id holds a size like `8b`.

    LiteLLM 1.110.2 prices a custom-priced deployment under its id, and its Together AI check
    reads a parameter count from whatever name it is given: an id with `<digits>b` in it
    (`…a3b…` in a generated SHA-256 id, `llama-8b-prod` set by hand) is billed at that Together
    AI size bucket, not at the deployment's custom prices. Most generated ids contain such a run.

    Example:
        - model_name: my-model
          litellm_params: {model: together_ai/acme/my-model, input_cost_per_token: 0.000001, ...}
          # generated id 768094203df9aeb5...: billed as together-ai-up-to-4b

    Fix: set model_info.id to an id without a digit directly followed by `b`.
    """
    for ep in ctx.prices:
        dep = ep.deployment
        if ep.provider != "together_ai" or ep.custom or not ep.catalog_key or not ep.catalog_key.startswith(
                "together-ai-") or not any(k in dep.params or k in dep.info for k in price_keys()):
            continue
        yield deployment_hit(dep, f"LiteLLM bills this deployment at the Together AI size bucket {ep.catalog_key}, "
                             f"which it reads from the deployment id '{dep.deployment_id}', not at its custom prices",
                             dep.info if "id" in dep.info else dep.params, "id" if "id" in dep.info else "model",
                             "model_info" if "id" in dep.info else "litellm_params")


@rule("CST118", "litellm-version-bug", "error")
def litellm_version_bug(ctx: Context) -> Iterator[Hit]:
    """A known billing bug of the LiteLLM version you run, which this config triggers.

    Checked only when the version is given: `--litellm-version 1.65.0`, or `litellm-version`
    in the settings file (`costctl verify` reads it from the running proxy). The bugs, their
    version ranges and issue links are costctl's table of LiteLLM billing advisories, e.g.:
    up to 1.65 the Model Hub shows catalog defaults for prices set in litellm_params, and one
    deployment's custom price leaks to the others of the same backend model; from 1.66.0 a
    model_info price leaks into plain deployments of the same model at start-up.

    Example (with --litellm-version 1.65.0):
        - model_name: gpt-4o-negotiated
          litellm_params: {model: openai/gpt-4o, input_cost_per_token: 0.000001, ...}
        - model_name: gpt-4o
          litellm_params: {model: openai/gpt-4o}

    Fix: upgrade LiteLLM past the fixed version; until then give each custom-priced
    deployment a backend model of its own, and check charges with `costctl verify --probe`.
    """
    from costctl.advisories import exposures

    version = ctx.settings.litellm_version
    if not version:
        return
    by_deployment: dict[int, list[Any]] = defaultdict(list)
    for exposure in exposures(version, ctx.prices):
        by_deployment[exposure.prices.deployment.index].append(exposure)
    for found in by_deployment.values():  # one finding a deployment: findings are unique by place and code
        yield deployment_hit(found[0].prices.deployment, "; ".join(e.message(version) for e in found))
