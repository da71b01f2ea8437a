"""What a logged request should have cost: the row joined to its deployment, priced as LiteLLM does.

The join: `model_id` = deployment id; else `model_group` + `model`; else `model_group` when it has
one deployment; else the catalog default for `custom_llm_provider/model`. A `model_id` that is not
in the config is marked unknown (the fallback join still prices it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from costctl.adjustments import NO_MARGIN, Margin, discount_for, margin_for
from costctl.catalog.resolve import resolve
from costctl.catalog.store import Catalog
from costctl.config.model import Config
from costctl.pricing import (
    CACHE_READ,
    INPUT,
    NONE,
    PROVIDER_SPECIFIC,
    EffectivePrices,
    NotRecomputed,
    RatePlan,
    Usage,
    effective_prices,
)

ZERO = Decimal(0)


@dataclass
class Priced:
    """How one deployment (or a catalog fallback) prices requests."""

    key: str                      # deployment id, or "catalog:<key>" / "unpriced:<model>"
    model_group: str
    provider: str | None
    entry: Mapping[str, Any]      # effective prices: field -> value
    default_entry: Mapping[str, Any] | None  # the catalog's own prices for the backend model
    custom: bool
    unpriced: bool                # LiteLLM bills this deployment $0: no price at all
    discount: Decimal
    vertex_location: str | None
    price_by_response_model: bool  # azure without base_model: priced by the model Azure reports
    configured_models: tuple[str, ...] = ()  # litellm_params.model, with and without the provider
    margin: Margin = NO_MARGIN
    # no catalog entry and no custom price: LiteLLM fails to price it and logs $0 with no margin
    # (a listed entry without prices costs $0 plus any fixed margin)
    unmapped: bool = False
    # LiteLLM bills a provider-reported `usage.cost` unless the deployment sets its own prices or
    # base_model (`completion_cost`, `caller_set_prices`)
    reported_cost_billed: bool = True
    _plans: dict[str, RatePlan] = field(default_factory=dict)

    def plan(self, which: str = "effective") -> RatePlan:
        """The prepared pricing of this deployment's effective entry, its catalog default
        (`default`), or its entry with cached reads at the input price (`no-cache-discount`)."""
        found = self._plans.get(which)
        if found is None:
            entry = {"effective": self.entry, "default": self.default_entry or {},
                     "no-cache-discount": without_cache_discount(self.entry)}[which]
            found = self._plans[which] = RatePlan(entry, self.provider, self.vertex_location,
                                                  self.configured_models[-1] if self.configured_models else None)
        return found

    def bills_reported(self, usage: Usage) -> bool:
        """True when LiteLLM bills this request at the provider's reported `usage.cost`."""
        return usage.reported_cost is not None and self.reported_cost_billed

    def cost(self, usage: Usage, which: str = "effective", *, vertex_location: str | None = None,
             data_residency: str | None = None, reported: bool = True) -> Decimal:
        """Expected USD: the provider's reported cost where LiteLLM bills it, else the token cost;
        then the discount and the margin."""
        if self.margin.error is not None:
            raise NotRecomputed("invalid-cost-margin-config", self.margin.error)
        if reported and which == "effective" and usage.reported_cost is not None and self.reported_cost_billed:
            raw = usage.reported_cost
            if self.provider in HEADER_COST_PROVIDERS and usage.streamed is not True:
                return raw  # whole responses: the cost arrives as a response header, billed as it is
        else:
            raw = self.plan(which).cost(usage, vertex_location=vertex_location, data_residency=data_residency)
            if self.unmapped:  # LiteLLM finds no price: $0 (or a rule it names), no discount or margin either
                return raw
        if self.discount:
            raw = raw * (1 - self.discount)
        return self.margin.apply(raw)


# Providers whose whole (not streamed) responses hand their `usage.cost` to LiteLLM as the
# `x-litellm-response-cost` header, which LiteLLM bills without discount or margin.
HEADER_COST_PROVIDERS = frozenset({"openrouter", "nadir", "edenai"})


def _own_cache_rule(entry: dict[str, Any], catalog_entry: Mapping[str, Any] | None) -> dict[str, Any]:
    """Fireworks AI's half-price cached reads apply only to entries listed under `fireworks_ai`
    itself (LiteLLM keys the rule on the entry's provider): others bill them at the input price."""
    listed = (catalog_entry or {}).get("litellm_provider")
    if isinstance(listed, str) and listed.startswith("fireworks_ai") and listed != "fireworks_ai" \
            and entry.get(CACHE_READ) is None and entry.get(INPUT) is not None:
        entry[CACHE_READ] = entry[INPUT]
    return entry


class ResponseModelUnknown(Exception):
    """A row LiteLLM priced by the response model's name, which the row does not record."""


class Pricer:
    """Joins spend-log rows to the config's deployments and prices them."""

    def __init__(self, config: Config, catalog: Catalog) -> None:
        self.catalog = catalog
        settings = config.litellm_settings or {}
        discounts = settings.get("cost_discount_config") if isinstance(settings, Mapping) else None
        self.discounts: Mapping[str, Any] = discounts if isinstance(discounts, Mapping) else {}
        self.margins: Any = settings.get("cost_margin_config") if isinstance(settings, Mapping) else None
        self.by_id: dict[str, Priced] = {}
        self.by_group_model: dict[tuple[str, str], Priced] = {}
        self.by_group: dict[str, list[Priced]] = defaultdict(list)
        self._fallback: dict[tuple[str, str, str], Priced] = {}
        for dep in config.deployments:
            ep = effective_prices(dep, catalog)
            priced = self._from_prices(ep)
            self.by_id.setdefault(dep.deployment_id, priced)
            bare = dep.model.split("/", 1)[1] if "/" in dep.model else dep.model
            for model in {dep.model, bare}:
                self.by_group_model.setdefault((dep.model_name, model), priced)
            self.by_group[dep.model_name].append(priced)

    def _from_prices(self, ep: EffectivePrices) -> Priced:
        dep = ep.deployment
        entry = ep.entry()
        default = None
        if ep.custom and ep.catalog.entry:
            default = dict(ep.catalog.entry)
        elif ep.catalog.entry and PROVIDER_SPECIFIC in ep.catalog.entry:
            entry[PROVIDER_SPECIFIC] = ep.catalog.entry[PROVIDER_SPECIFIC]
        if not ep.custom:
            entry = _own_cache_rule(entry, ep.catalog.entry)
        location = dep.params.get("vertex_location")
        return Priced(
            key=dep.deployment_id,
            model_group=dep.model_name,
            provider=ep.provider,
            entry=entry,
            default_entry=default,
            custom=ep.custom,
            unpriced=all(p.source == NONE for p in ep.prices.values()) and not dep.wildcard,
            discount=discount_for(self.discounts, ep.provider, dep.model),
            vertex_location=location if isinstance(location, str) else None,
            price_by_response_model=ep.provider == "azure" and not dep.base_model and not ep.custom,
            configured_models=(dep.model, dep.model.split("/", 1)[-1]),
            margin=margin_for(self.margins, ep.provider),
            unmapped=not ep.custom and ep.catalog.key is None and not dep.wildcard,
            reported_cost_billed=not (ep.custom or ep.ignored_custom or dep.base_model),
        )

    def catalog_priced(self, provider: str, model: str, group: str = "") -> Priced:
        """The catalog default for `provider/model` (a row no deployment claims, an Azure response
        model, a wildcard's matched model)."""
        cache_key = (provider, model, group)  # the group is part of the answer: never share it across groups
        found = self._fallback.get(cache_key)
        if found is None:
            res = resolve(model, self.catalog, provider or None)
            entry = _own_cache_rule(dict(res.entry), res.entry) if res.entry else {}
            found = Priced(
                key=f"catalog:{res.key}" if res.key else f"unpriced:{model}",
                model_group=group,
                provider=res.provider or provider or None,
                entry=entry,
                default_entry=None,
                custom=False,
                unpriced=res.key is None,
                discount=discount_for(self.discounts, res.provider or provider, model),
                margin=margin_for(self.margins, res.provider or provider or None),
                unmapped=res.key is None,
                vertex_location=None,
                price_by_response_model=False,
                configured_models=(model,),
            )
            self._fallback[cache_key] = found
        return found

    def join(self, model_id: str, group: str, model: str, provider: str) -> tuple[Priced, bool]:
        """(how the row is priced, True when its model_id names no deployment of this config)."""
        unknown = False
        if model_id:
            priced = self.by_id.get(model_id)
            if priced is not None:
                return self._refine(priced, model, provider), False
            unknown = True
        priced = self.by_group_model.get((group, model)) if group else None
        if priced is None and group and len(self.by_group.get(group, ())) == 1:
            priced = self.by_group[group][0]
        if priced is not None:
            return self._refine(priced, model, provider), unknown
        return self.catalog_priced(provider, model, group), unknown

    def _refine(self, priced: Priced, model: str, provider: str) -> Priced:
        """Azure without base_model, and wildcards without prices, are priced per response model."""
        if priced.price_by_response_model:
            if model and model not in priced.configured_models:
                return self.catalog_priced("azure", model, priced.model_group)
            # LiteLLM priced it by the model name Azure returned, which this log does not record
            # (1.110.2 writes the configured name). A deployment named like a catalog model
            # (azure/gpt-4o) is priced as that model; any other name cannot be recomputed.
            if priced.unpriced:
                raise ResponseModelUnknown(priced.configured_models[0])
            return priced
        if priced.key and not priced.entry and not priced.unpriced and model:
            return self.catalog_priced(provider or (priced.provider or ""), model, priced.model_group)
        return priced


def without_cache_discount(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry with cached reads billed at the full input price (for the cache-not-discounted cause)."""
    out = dict(entry)
    out[CACHE_READ] = entry.get(INPUT, ZERO)
    for key in list(out):
        if key.startswith(CACHE_READ + "_above_"):
            suffix = key[len(CACHE_READ):]
            out[key] = entry.get(INPUT + suffix, entry.get(INPUT, ZERO))
    return out
