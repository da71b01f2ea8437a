"""Rules about how the config is written: duplicate keys, unknown price keys, env references,
discount settings (CST0xx and CST114)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from costctl.catalog.resolve import litellm_fields
from costctl.catalog.store import Catalog
from costctl.config.yaml_source import YamlList, YamlMap
from costctl.pricing import is_price_field, parse_price, price_keys
from costctl.rules.base import Context, Hit, deployment_hit, rule

_COST_WORDS = ("cost", "price", "pricing")


def _catalog_fields(catalog: Catalog) -> frozenset[str]:
    return frozenset(k for entry in catalog.entries.values() for k in entry if is_price_field(k))


def _suggest(key: str, known: frozenset[str]) -> str:
    lowered = key.lower()
    scale = ""
    if "1m" in lowered or "million" in lowered or "per_m_" in lowered:
        scale = " (LiteLLM prices are per single token: divide a per-1M value by 1,000,000)"
    elif "1k" in lowered or "thousand" in lowered:
        scale = " (LiteLLM prices are per single token: divide a per-1K value by 1,000)"
    normalised = (lowered.replace("_1m_", "_").replace("_1k_", "_").replace("tokens", "token")
                  .replace("price", "cost"))
    close = difflib.get_close_matches(normalised, sorted(known), n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(lowered, sorted(known), n=1, cutoff=0.6)
    return (f"; did you mean {close[0]}?" if close else "") + scale


@rule("CST001", "duplicate-key", "error")
def duplicate_key(ctx: Context) -> Iterator[Hit]:
    """A key written twice in one YAML mapping.

    YAML parsers, PyYAML included (and so LiteLLM), silently keep the last value: the first
    price you wrote is not the one that bills.

    Example:
        input_cost_per_token: 0.000001
        input_cost_per_token: 0.00001     # this one wins

    Fix: delete the copy you did not mean.
    """
    for file, path, dup in ctx.config.duplicates:
        yield Hit(f"'{dup.key}' is set again (first at line {dup.first_line}); YAML keeps this last value "
                  "and ignores the first", file, dup.line, dup.column, path)


@rule("CST002", "unknown-price-key", "warning")
def unknown_price_key(ctx: Context) -> Iterator[Hit]:
    """A cost-like key LiteLLM does not know, which it ignores.

    LiteLLM reads prices only from its own keys (`input_cost_per_token`,
    `output_cost_per_token`, `cache_read_input_token_cost`, …). A misspelt or invented key such
    as `input_cost_per_tokens` or `input_cost_per_1m_tokens` is ignored: the deployment bills
    at the catalog default, or $0.

    Example:
        litellm_params:
          input_cost_per_1m_tokens: 2.5    # ignored

    Fix: use the key the message suggests, with a per-token value (2.5 per 1M = 0.0000025).
    """
    params_known = price_keys()
    info_known = params_known | frozenset(litellm_fields()["model_info_only_price_keys"]) | _catalog_fields(ctx.catalog)
    for dep in ctx.config.deployments:
        for where, tree, known in (("litellm_params", dep.params, params_known), ("model_info", dep.info, info_known)):
            for key in tree:
                name = str(key)
                if name in known or not any(w in name.lower() for w in _COST_WORDS):
                    continue
                yield deployment_hit(dep, f"{where}.{name} is not a price key LiteLLM reads: it is ignored"
                                     f"{_suggest(name, known)}", tree, key, where)


def _is_price_key(key: str) -> bool:
    return key in price_keys() or key in litellm_fields()["model_info_only_price_keys"]


@rule("CST003", "unresolved-env-price", "error")
def unresolved_env_price(ctx: Context) -> Iterator[Hit]:
    """A price given as `os.environ/NAME` with NAME unset, or set to something that is not a number.

    LiteLLM reads the variable when the proxy starts; unset, the price is missing (the deployment
    falls back to the catalog default or $0); not a number, the deployment fails to load or is
    logged at $0.

    Example:
        input_cost_per_token: os.environ/GPT4O_INPUT_PRICE    # not set in CI or on the proxy

    Fix: set the variable wherever costctl and the proxy run (e.g. in CI), or write the price.
    """
    for dep in ctx.config.deployments:
        for ref in dep.env_refs:
            if not _is_price_key(ref.key):
                continue
            tree = dep.params if ".litellm_params." in ref.path else dep.info
            if not ref.resolved:
                yield Hit(f"{ref.key} comes from os.environ/{ref.name}, which is not set: the price is missing",
                          ref.file, ref.line, ref.column, ref.path, dep.model_name)
            elif parse_price(tree.get(ref.key))[0] is None:
                yield Hit(f"{ref.key} comes from os.environ/{ref.name}, whose value is not a number",
                          ref.file, ref.line, ref.column, ref.path, dep.model_name)


def _find_key(value: Any, key: str, path: str) -> Iterator[tuple[YamlMap, str]]:
    """Every mapping (and its key path) holding `key`, anywhere in a YAML tree. Only mappings and
    lists are descended into: a scalar holds nothing, and most of a config is scalars."""
    if isinstance(value, YamlMap):
        if key in value:
            yield value, path
        for k, child in value.items():
            if isinstance(child, (YamlMap, YamlList)):
                yield from _find_key(child, key, f"{path}.{k}" if path else str(k))
    elif isinstance(value, YamlList):
        for i, child in enumerate(value):
            if isinstance(child, (YamlMap, YamlList)):
                yield from _find_key(child, key, f"{path}[{i}]")


def _litellm_setting(ctx: Context, key: str) -> Iterator[Hit | tuple[str, Any, str, int, int]]:
    """Every `key` in the config: (file, value, key path, line, column) where it sits under
    litellm_settings, a Hit where LiteLLM ignores it."""
    for file, (tree, _text) in ctx.config.sources.items():
        for holder, path in _find_key(tree, key, ""):
            full = f"{path}.{key}" if path else key
            line, column = holder.key_pos[key]
            if path != "litellm_settings":
                yield Hit(f"{key} at {full} is ignored by LiteLLM: it must sit under litellm_settings",
                          file, line, column, full)
            else:
                yield file, holder[key], full, line, column


@rule("CST114", "discount-config-invalid", "error")
def discount_config_invalid(ctx: Context) -> Iterator[Hit]:
    """`cost_discount_config` outside `litellm_settings`, or a discount outside [0, 1].

    LiteLLM applies `litellm_settings.cost_discount_config` (provider -> fraction off, e.g.
    `openai: 0.05` for 5 %) to every logged cost. Anywhere else it is ignored; a value like `5`
    (meant as 5 %) or a negative one makes every cost of that provider wrong.

    Example:
        general_settings:
          cost_discount_config: {openai: 5}

    Fix: put it under litellm_settings, with fractions between 0 and 1 (`openai: 0.05`).
    """
    key = "cost_discount_config"
    for found in _litellm_setting(ctx, key):
        if isinstance(found, Hit):
            yield found
            continue
        file, discounts, full, line, column = found
        if not isinstance(discounts, YamlMap):
            yield Hit(f"{key} must map provider names to fractions (e.g. openai: 0.05)", file, line, column, full)
            continue
        for provider, value in discounts.items():
            number, written = parse_price(value)
            pline, pcol = discounts.key_pos[provider]
            if number is None or not (Decimal(0) <= number <= Decimal(1)):
                shown = value if number is None else number
                yield Hit(f"discount for {provider} is {shown}: it must be a fraction between 0 and 1 "
                          "(0.05 = 5 % off)", file, pline, pcol, f"{full}.{provider}")


@rule("CST116", "margin-config-invalid", "error")
def margin_config_invalid(ctx: Context) -> Iterator[Hit]:
    """A `cost_margin_config` LiteLLM cannot apply as written.

    LiteLLM adds `litellm_settings.cost_margin_config` to every logged cost after the discount:
    a provider's own key (else `global`) gives a percentage (`openai: 0.1` = +10 %) or a mapping
    with `percentage` and/or `fixed_amount` (USD per request). What it does with other shapes:
    a key like `openai/gpt-4o` or `gpt-*` is never looked up (margins are per provider); text,
    lists and unknown keys (`pct:`) are ignored without a word; a `percentage` or `fixed_amount`
    that is not a number, or a config that is not a mapping, makes LiteLLM fail to price the
    request, which is then logged with no cost at all. `true` counts as +100 %; a negative margin
    lowers every cost.

    Example:
        litellm_settings:
          cost_margin_config:
            openai/gpt-4o: 0.1          # never used
            anthropic: {pct: 0.1}       # ignored
            azure: {percentage: ten}    # every azure request logged without a cost

    Fix: key margins by provider name or `global`, with numbers: `openai: 0.1` or
    `openai: {percentage: 0.1, fixed_amount: 0.0005}`.
    """
    from costctl.adjustments import margin_for

    key = "cost_margin_config"
    providers = frozenset(litellm_fields()["providers"])
    for found in _litellm_setting(ctx, key):
        if isinstance(found, Hit):
            yield found
            continue
        file, margins, full, line, column = found
        if not isinstance(margins, YamlMap):
            yield Hit(f"{key} must map provider names (or global) to margins: LiteLLM fails to price every "
                      "request with this one", file, line, column, full)
            continue
        for name, value in margins.items():
            where = f"{full}.{name}"
            kline, kcol = margins.key_pos[name]
            if name != "global" and name not in providers:
                shape = "a model name or pattern" if "/" in str(name) or "*" in str(name) else "not a provider"
                yield Hit(f"margin key '{name}' is {shape}: LiteLLM looks margins up by provider name (or "
                          "global) only, so this one is never used", file, kline, kcol, where)
                continue
            margin = margin_for({name: value}, name)
            if margin.error is not None:
                yield Hit(margin.error, file, kline, kcol, where)
            elif isinstance(value, bool):
                yield Hit(f"margin for {name} is {str(value).lower()}: LiteLLM reads it as "
                          f"{int(value) * 100} %", file, kline, kcol, where)
            elif isinstance(value, YamlMap):
                unknown = [k for k in value if k not in ("percentage", "fixed_amount")]
                if unknown:
                    yield Hit(f"margin for {name} has {', '.join(map(str, unknown))}, which LiteLLM ignores "
                              "(it reads percentage and fixed_amount)", file, kline, kcol, where)
                elif margin.percentage < 0 or margin.fixed < 0:
                    yield Hit(f"margin for {name} is negative: LiteLLM lowers every cost by it", file, kline,
                              kcol, where)
            elif not isinstance(value, (int, Decimal)) and value is not None:
                yield Hit(f"margin for {name} is {type(value).__name__} {value!r}: LiteLLM ignores it (a margin "
                          "is a number or a mapping with percentage / fixed_amount)", file, kline, kcol, where)
            elif margin.percentage < 0:
                yield Hit(f"margin for {name} is negative: LiteLLM lowers every cost by it", file, kline, kcol,
                          where)
