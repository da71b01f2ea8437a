"""`costctl catalog info` and `costctl catalog lookup`: text and JSON."""

from __future__ import annotations

import json

from costctl.pricing import is_price_field
from costctl.report.common import RenderOptions, number, plain_structure
from costctl.results import CatalogInfoResult, LookupResult


def _info(result: CatalogInfoResult) -> dict:
    cat = result.catalog
    return {**cat.stamp(), "taken": result.taken, "aliases": len(cat.aliases), "providers": cat.providers}


def _prices(result: LookupResult) -> dict:
    return {k: v for k, v in (result.resolution.entry or {}).items() if is_price_field(k)}


class CatalogText:
    """Provenance and providers; a model's key and prices, or the keys tried and the closest."""

    name = "text"

    def catalog_info(self, result: CatalogInfoResult, opts: RenderOptions) -> str:
        cat, info = result.catalog, _info(result)
        lines = [cat.stamp_line(),
                 f"taken: {info['taken'] or 'unknown'}   aliases: {info['aliases']}   providers: {len(cat.providers)}"]
        lines += [f"  {name:<32} {count:>5}" for name, count in cat.providers.items()]
        return "\n".join(lines) + "\n"

    def catalog_lookup(self, result: LookupResult, opts: RenderOptions) -> str:
        r = result.resolution
        if r.key is None:
            lines = [f"{result.model}: not in the catalog (provider {r.provider or 'unknown'}); LiteLLM bills it $0 "
                     "unless the deployment sets custom prices", "tried: " + ", ".join(r.tried)]
            if result.suggestions:
                lines.append("closest keys: " + ", ".join(result.suggestions))
            return "\n".join(lines) + "\n"
        alias = f" (alias of {result.alias_of})" if result.alias_of else ""
        lines = [f"{result.model} -> {r.key}{alias}  provider {r.entry.get('litellm_provider') if r.entry else ''}"]
        for key, value in sorted(_prices(result).items()):
            shown = number(value) if not isinstance(value, (list, dict)) else json.dumps(value, default=str)
            lines.append(f"  {key:<48} {shown}")
        return "\n".join(lines) + "\n"


class CatalogJson:
    name = "json"

    def catalog_info(self, result: CatalogInfoResult, opts: RenderOptions) -> str:
        doc = {"schema_version": 1, "command": "catalog info", "catalog": result.catalog.stamp(), **_info(result)}
        return json.dumps(doc, indent=2) + "\n"

    def catalog_lookup(self, result: LookupResult, opts: RenderOptions) -> str:
        r = result.resolution
        return json.dumps({
            "schema_version": 1, "command": "catalog lookup", "catalog": result.catalog.stamp(),
            "model": result.model, "provider": r.provider, "key": r.key, "alias_of": result.alias_of,
            "tried": list(r.tried), "prices": plain_structure(_prices(result)), "suggestions": result.suggestions,
        }, indent=2) + "\n"
