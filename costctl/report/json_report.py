"""JSON output: the stable, versioned contract documented in README.md (prices per single token)."""

from __future__ import annotations

import json
from typing import Any

from costctl.api import ShowResult, ValidateResult
from costctl.pricing import EffectivePrices, Price
from costctl.report.common import RenderOptions, number, plain_structure, safe

SCHEMA_VERSION = 1


def price_json(price: Price) -> dict[str, Any]:
    out: dict[str, Any] = {
        "value": plain_structure(price.structured) if price.structured is not None else (
            None if price.value is None else number(price.value)),
        "source": price.source,
        "origin": safe(price.origin) if price.origin is not None else None,
    }
    if price.source == "custom":
        out["file"] = price.file
        out["line"] = price.line
    if price.written_as:
        out["written_as"] = price.written_as
    return out


def deployment_json(ep: EffectivePrices) -> dict[str, Any]:
    d = ep.deployment
    return {
        "model_name": safe(d.model_name),
        "model": safe(d.model),
        "provider": ep.provider,
        "deployment_id": safe(d.deployment_id),
        "id_source": d.id_source,
        "catalog_key": safe(ep.catalog_key) if ep.catalog_key else None,
        "backend_model": safe(ep.backend_model),
        "custom_pricing": ep.custom,
        "file": d.file,
        "line": d.line,
        "wildcard": d.wildcard,
        "prices": {name: price_json(ep.prices[name]) for name in _ordered(ep)},
        "notes": [safe(n) for n in ep.notes],
    }


def _ordered(ep: EffectivePrices) -> list[str]:
    from costctl.pricing import MAIN_FIELDS

    return list(MAIN_FIELDS) + sorted(n for n in ep.prices if n not in MAIN_FIELDS)


class JsonFormatter:
    name = "json"

    def show(self, result: ShowResult, opts: RenderOptions) -> str:
        doc = {
            "schema_version": SCHEMA_VERSION,
            "command": "show",
            "catalog": result.catalog.stamp(),
            "config": result.config.path,
            "files": result.config.files,
            "deployments": [deployment_json(ep) for ep in result.deployments],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    def validate(self, result: ValidateResult, opts: RenderOptions) -> str:
        doc = {
            "schema_version": SCHEMA_VERSION,
            "command": "validate",
            "catalog": result.catalog.stamp(),
            "files": result.files,
            "settings": result.settings_files,
            "fail_on": result.fail_on,
            "findings": [
                {"code": f.code, "name": f.name, "severity": f.severity, "message": safe(f.message),
                 "file": f.file, "line": f.line, "column": f.column, "path": f.path,
                 "deployment": safe(f.deployment) if f.deployment is not None else None}
                for f in result.findings
            ],
            "summary": result.summary,
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
