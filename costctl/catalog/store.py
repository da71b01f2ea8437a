"""The default price catalog: LiteLLM's model price map, from the bundled snapshot, a file, or an
installed litellm package, with the provenance every report stamps on its output."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, cached_property
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from costctl.errors import CostctlError

BUNDLED = "bundled"
INSTALLED = "litellm"
LITELLM_MAP_FILE = "model_prices_and_context_window_backup.json"
# The documentation entry at the top of LiteLLM's map: not a model.
NOT_MODELS = frozenset({"sample_spec"})
# Not a model either: provider-inference rules for names the map does not list.
GENERALIZATIONS = "fallback_generalizations"


@dataclass
class Catalog:
    """A LiteLLM-format price map: model key -> entry, every number an exact Decimal."""

    entries: dict[str, dict[str, Any]]
    version: str | None
    sha256: str
    source: str
    taken: str | None = None
    name: str = "litellm"
    url: str | None = None  # fetched from this URL (`--catalog https://…`)
    # alias key -> the key it is served as (LiteLLM's `alias_of` rows and `aliases` lists)
    aliases: dict[str, str] = field(default_factory=dict)
    # (regex, provider) rules LiteLLM uses to infer the provider of an unlisted bare name
    provider_rules: list[tuple[Any, str]] = field(default_factory=list)
    # what lookups work out from the entries, kept per catalog (nothing changes a Catalog after
    # loading): deployments of one model ask the same questions thousands of times
    memo: dict[str, dict[Any, Any]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def count(self) -> int:
        return len(self.entries)

    def stamp(self) -> dict[str, Any]:
        """The `catalog` object of every JSON report."""
        return {
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "entries": self.count,
            "source": self.source,
            "url": self.url,
            "fetched": self.taken if self.url else None,
        }

    def stamp_line(self) -> str:
        version = self.version or "unknown version"
        return f"catalog: {self.name} {version} ({self.source}, {self.count:,} entries, sha256 {self.sha256[:12]})"

    @cached_property
    def lowercase_keys(self) -> dict[str, str]:
        """Lower-cased key -> key (LiteLLM matches catalog keys in any case after an exact miss)."""
        out: dict[str, str] = {}
        for key in self.entries:
            out.setdefault(key.lower(), key)
        return out

    @cached_property
    def providers(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.entries.values():
            provider = entry.get("litellm_provider")
            if isinstance(provider, str):
                counts[provider] = counts.get(provider, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _parse(data: bytes, shown: str) -> tuple[dict[str, dict[str, Any]], dict[str, str], list[tuple[Any, str]]]:
    try:
        raw = json.loads(data, parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        msg = getattr(exc, "msg", "not valid JSON")
        raise CostctlError(f"catalog is not valid JSON: {msg}", shown, line, col) from None
    if not isinstance(raw, dict):
        raise CostctlError("catalog must be a JSON object of model name -> entry (LiteLLM's format)", shown, 1, 1)
    rules = _provider_rules(raw.pop(GENERALIZATIONS, None))
    entries = {k: v for k, v in raw.items() if k not in NOT_MODELS and isinstance(v, dict)}
    return (*_expand_aliases(entries), rules)


def _expand_aliases(entries: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Serve every alias as the entry it names, as LiteLLM does when it loads the map: a row
    `{"alias_of": target}` and each name in a row's `aliases` list; an alias that collides with a
    real entry or names nothing is dropped."""
    pointers = {k: v["alias_of"] for k, v in entries.items() if isinstance(v.get("alias_of"), str)}
    owners: dict[str, str] = {}
    for key, entry in entries.items():
        names = entry.get("aliases")
        if key in pointers or not isinstance(names, list):
            continue
        for alias in names:
            if isinstance(alias, str) and (alias not in entries or alias in pointers) and alias not in owners:
                owners[alias] = key
    for alias, target in pointers.items():
        if target in entries and target not in pointers and alias not in owners:
            owners[alias] = target
    for key in pointers:
        if key not in owners:
            del entries[key]
    for entry in entries.values():
        entry.pop("aliases", None)
    for alias, target in owners.items():
        entries[alias] = entries[target]
    return entries, owners


def _provider_rules(raw: Any) -> list[tuple[Any, str]]:
    import re

    rules = []
    for rule in (raw or {}).get("rules", []) if isinstance(raw, dict) else []:
        info = rule.get("model_info") if isinstance(rule, dict) else None
        if not isinstance(info, dict) or rule.get("fill_missing_for_providers"):
            continue
        provider = info.get("litellm_provider")
        if isinstance(provider, str) and isinstance(rule.get("pattern"), str):
            try:
                rules.append((re.compile(rule["pattern"], re.IGNORECASE), provider))
            except re.error:
                continue
    return rules


def bundled_provenance() -> dict[str, Any]:
    text = resources.files("costctl.data").joinpath("catalog_provenance.json").read_text("utf-8")
    return json.loads(text)


def load_catalog(spec: str = BUNDLED) -> Catalog:
    """`bundled` (the snapshot shipped with costctl), `litellm` (the map inside the installed
    litellm package, found without importing it), a path to a LiteLLM-format JSON file, or an
    http(s) URL of one (fetched, cached for an hour)."""
    if spec == BUNDLED:
        return _bundled()
    if spec == INSTALLED:
        path, version = _installed_litellm_map()
        data = path.read_bytes()
        return _catalog(data, str(path), version, INSTALLED)
    from costctl.catalog import remote

    if remote.is_url(spec):
        from costctl.config.secrets import shown_url

        data, fetched = remote.fetch(spec)
        catalog = _catalog(data, shown_url(spec), None, shown_url(spec), fetched)
        catalog.url = shown_url(spec)
        return catalog
    path = Path(spec)
    if not path.is_file():
        raise CostctlError("catalog file not found (expected 'bundled', 'litellm', a JSON file or an http(s) URL)",
                           spec)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CostctlError(f"cannot read catalog: {exc.strerror}", spec) from None
    return _catalog(data, spec, None, str(path))


@cache
def _bundled() -> Catalog:
    """The bundled snapshot, parsed once a process (nothing changes a Catalog after loading)."""
    prov = bundled_provenance()
    data = resources.files("costctl.data").joinpath(prov["file"]).read_bytes()
    return _catalog(data, "bundled catalog", prov["litellm_version"], BUNDLED, prov.get("taken"))


def _catalog(data: bytes, shown: str, version: str | None, source: str, taken: str | None = None) -> Catalog:
    entries, aliases, rules = _parse(data, shown)
    return Catalog(entries, version, hashlib.sha256(data).hexdigest(), source, taken,
                   aliases=aliases, provider_rules=rules)


def _installed_litellm_map() -> tuple[Path, str | None]:
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise CostctlError("--catalog litellm: no litellm package is installed in this Python environment")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / LITELLM_MAP_FILE
        if candidate.is_file():
            try:
                version: str | None = metadata.version("litellm")
            except metadata.PackageNotFoundError:
                version = None
            return candidate, version
    raise CostctlError(f"--catalog litellm: the installed litellm package has no {LITELLM_MAP_FILE}")
