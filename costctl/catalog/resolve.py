"""Which catalog entry prices a model: LiteLLM's provider detection and key resolution.

Order tried (litellm-pricing.md §2): `provider/region/model` for Bedrock deployments with a
region, `provider/model`, `model`, then the model with its first path segment stripped. An
entry only counts when its `litellm_provider` is the deployment's provider (the vertex_ai*,
bedrock* and fireworks_ai* families match each other).
"""

from __future__ import annotations

import difflib
import json
import re
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
    """The catalog entry LiteLLM prices `model` with, or a Resolution with key None (worked out
    once per catalog and arguments; a Resolution is immutable)."""
    known = catalog.memo.setdefault("resolve", {})
    args = (model, custom_llm_provider, region)
    found = known.get(args)
    if found is None:
        found = known[args] = _resolve(model, catalog, custom_llm_provider, region)
    return found


def _resolve(model: str, catalog: Catalog, custom_llm_provider: str | None, region: str | None) -> Resolution:
    provider, bare = split_provider(model, custom_llm_provider, catalog)
    written = bare
    while provider and bare.startswith(provider + "/"):  # `openai/openai/x` is looked up as `openai/x` first
        bare = bare[len(provider) + 1:]
    if provider == "together_ai" and (found := _together(model, bare, catalog)) is not None:
        return found
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
    version_free = strip_version(bare, provider)
    if version_free != bare:
        if provider:
            candidates.append(f"{provider}/{version_free}")
        candidates.append(version_free)
    if written != bare:  # then as written (LiteLLM's provider-prefixed lookup)
        candidates.append(f"{provider}/{written}")
    tried: list[str] = []
    lower = catalog.lowercase_keys
    for candidate in candidates:
        if candidate in tried:
            continue
        tried.append(candidate)
        key = candidate if candidate in catalog.entries else lower.get(candidate.lower())  # exact, then any case
        entry = catalog.entries.get(key) if key is not None else None
        if entry is not None and provider_matches(entry.get("litellm_provider"), provider):
            return Resolution(model, provider, key, entry, tuple(tried))
    bucket = size_bucket(bare, provider)
    if bucket is not None and bucket in catalog.entries:
        tried.append(bucket)
        return Resolution(model, provider, bucket, catalog.entries[bucket], tuple(tried))
    return Resolution(model, provider, None, None, tuple(tried))


def _together(model: str, bare: str, catalog: Catalog) -> Resolution | None:
    """Together AI: its own entry only when `together_ai/<model>` is listed, exactly, with an input
    price; otherwise the size bucket the name states (cost_calculator.py `completion_cost`)."""
    key = f"together_ai/{bare}"
    entry = catalog.entries.get(key)
    if entry is not None and "input_cost_per_token" in entry:
        return Resolution(model, "together_ai", key, entry, (key,))
    bucket = size_bucket(bare, "together_ai")
    if bucket is not None and bucket in catalog.entries:
        return Resolution(model, "together_ai", bucket, catalog.entries[bucket], (key, bucket))
    return None


def strip_version(model: str, provider: str | None) -> str:
    """The name LiteLLM looks up when a versioned one is not in the catalog (utils.py
    `_strip_model_name`): Vertex AI, Gemini and Databricks drop a trailing `-<digits>` (`-001`);
    fine-tunes (`ft:`) drop their last three `:` fields; others drop an ISO date (`-2024-08-06`).
    Bedrock names are resolved by their own rules and are left as they are."""
    if provider in ("bedrock", "bedrock_converse"):
        return model
    if provider in ("vertex_ai", "gemini", "databricks"):
        return re.sub(r"-\d+$", "", model)
    if "ft:" in model:
        return re.sub(r"(:[^:]*){3}$", "", model)
    return re.sub(r"-\d{4}-\d{2}-\d{2}$", "", model)


# Parameter-count buckets (billions, upper bounds inclusive) LiteLLM prices unlisted models of
# these providers by (together_ai/cost_calculator.py, fireworks_ai/cost_calculator.py).
_TOGETHER_BUCKETS = ((4, "together-ai-up-to-4b"), (8, "together-ai-4.1b-8b"), (21, "together-ai-8.1b-21b"),
                     (41, "together-ai-21.1b-41b"), (80, "together-ai-41.1b-80b"), (110, "together-ai-81.1b-110b"))
_FIREWORKS_BUCKETS = ((4, "fireworks-ai-up-to-4b"), (16, "fireworks-ai-4.1b-to-16b"))


def size_bucket(model: str, provider: str | None) -> str | None:
    """The catalog key of the size bucket an unlisted Together AI or Fireworks AI model is priced
    by, from the parameter count in its name (`70b`; Fireworks also `8x7b` and `1p5b`); None when
    the provider has no buckets or (Together) the name states no size it covers."""
    name = model.lower()
    if provider == "together_ai":
        found = re.search(r"(\d+b)", name)
        if found is None:
            return None
        size = float(found.group(1)[:-1])
        return next((key for bound, key in _TOGETHER_BUCKETS if size <= bound), None)
    if provider is not None and provider.startswith("fireworks_ai"):
        moe = re.search(r"(\d+)x(\d+)b", name)
        if moe:
            total = int(moe.group(1)) * int(moe.group(2))
            if total <= 56:
                return "fireworks-ai-moe-up-to-56b"
            if total <= 176:
                return "fireworks-ai-56b-to-176b"
        found = re.search(r"(\d+(?:p\d+)?)b", name)
        if found is None:
            return "fireworks-ai-default"
        size = float(found.group(1).replace("p", "."))
        return next((key for bound, key in _FIREWORKS_BUCKETS if size <= bound), "fireworks-ai-above-16b")
    return None


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
