"""Use cases behind the commands: each returns a plain result object; nothing here prints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from costctl.catalog.resolve import Resolution, closest_keys, resolve
from costctl.catalog.store import Catalog, load_catalog
from costctl.config import Config, load_config
from costctl.pricing import EffectivePrices, effective_prices


@dataclass
class ShowResult:
    config: Config
    catalog: Catalog
    deployments: list[EffectivePrices]


def show(config_path: str | Path, catalog: str = "bundled", include_root: str | Path | None = None) -> ShowResult:
    """Effective prices of every deployment in the config at `config_path`."""
    cfg = load_config(config_path, include_root=include_root)
    cat = load_catalog(catalog)
    return ShowResult(cfg, cat, [effective_prices(d, cat) for d in cfg.deployments])


@dataclass
class LookupResult:
    catalog: Catalog
    resolution: Resolution
    suggestions: list[str]
    alias_of: str | None


def catalog_info(catalog: str = "bundled") -> Catalog:
    return load_catalog(catalog)


def catalog_lookup(model: str, provider: str | None = None, catalog: str = "bundled") -> LookupResult:
    """Which catalog key prices `model` (as LiteLLM resolves it), or the closest keys."""
    cat = load_catalog(catalog)
    res = resolve(model, cat, provider)
    suggestions = [] if res.key else closest_keys(model, cat)
    return LookupResult(cat, res, suggestions, cat.aliases.get(res.key) if res.key else None)
