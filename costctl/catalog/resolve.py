"""Which catalog entry prices a model: LiteLLM's provider detection and key resolution.

Order tried (litellm-pricing.md §2): `provider/region/model` for Bedrock deployments with a
region, `provider/model`, `model`, then the model with its first path segment stripped. An
entry only counts when its `litellm_provider` is the deployment's provider (the vertex_ai*,
bedrock* and fireworks_ai* families match each other).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from costctl.catalog.store import Catalog

LOOSE_FAMILIES = ("vertex_ai", "bedrock", "fireworks_ai")


@lru_cache(maxsize=1)
def litellm_fields() -> dict[str, Any]:
    """Price keys and provider names of the LiteLLM release the bundled catalog came from."""
    return json.loads(resources.files("costctl.data").joinpath("litellm_fields.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def known_providers() -> frozenset[str]:
    return frozenset(litellm_fields()["providers"])


@dataclass(frozen=True)
class Resolution:
    """The outcome of looking a model up: the key that matched (or None) and what was tried."""

    model: str
    provider: str | None
    key: str | None
    entry: dict[str, Any] | None
    tried: tuple[str, ...]


def _family(provider: str | None) -> str | None:
    if provider is None:
        return None
    for family in LOOSE_FAMILIES:
        if provider.startswith(family):
            return family
    return provider


def provider_matches(entry_provider: object, provider: str | None) -> bool:
    if provider is None:
        return True
    return isinstance(entry_provider, str) and _family(entry_provider) == _family(provider)


def split_provider(model: str, custom_llm_provider: str | None, catalog: Catalog) -> tuple[str | None, str]:
    """(provider, model without the provider prefix), as LiteLLM's get_llm_provider decides it."""
    if custom_llm_provider:
        prefix = custom_llm_provider + "/"
        bare = model[len(prefix):] if model.startswith(prefix) else model
        return custom_llm_provider, bare
    head, sep, rest = model.partition("/")
    if sep and head in known_providers():
        return head, rest
    entry = catalog.entries.get(model)
    if entry is not None and isinstance(entry.get("litellm_provider"), str):
        return entry["litellm_provider"], model
    for pattern, provider in catalog.provider_rules:
        if pattern.search(model):
            return provider, model
    return None, model


def resolve(
    model: str,
    catalog: Catalog,
    custom_llm_provider: str | None = None,
    region: str | None = None,
) -> Resolution:
    """The catalog entry LiteLLM prices `model` with, or a Resolution with key None."""
    provider, bare = split_provider(model, custom_llm_provider, catalog)
    candidates: list[str] = []
    if region and provider and provider.startswith("bedrock"):
        candidates.append(f"bedrock/{region}/{bare}")
    if provider:
        candidates.append(f"{provider}/{bare}")
    candidates.append(bare)
    if "/" in bare:
        stripped = bare.split("/", 1)[1]
        if provider:
            candidates.append(f"{provider}/{stripped}")
        candidates.append(stripped)
    tried: list[str] = []
    for key in candidates:
        if key in tried:
            continue
        tried.append(key)
        entry = catalog.entries.get(key)
        if entry is not None and provider_matches(entry.get("litellm_provider"), provider):
            return Resolution(model, provider, key, entry, tuple(tried))
    return Resolution(model, provider, None, None, tuple(tried))


def closest_keys(model: str, catalog: Catalog, limit: int = 5) -> list[str]:
    """Catalog keys that look like `model`, for "did you mean" messages."""
    keys = list(catalog.entries)
    close = difflib.get_close_matches(model, keys, n=limit, cutoff=0.6)
    if len(close) < limit:
        tail = model.rsplit("/", 1)[-1]
        for key in difflib.get_close_matches(tail, [k.rsplit("/", 1)[-1] for k in keys], n=limit, cutoff=0.75):
            for full in keys:
                if full.rsplit("/", 1)[-1] == key and full not in close:
                    close.append(full)
                    break
    return close[:limit]
