"""JSON output: the stable, versioned contract documented in README.md (prices per single token)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costctl.money import rounded
from costctl.pricing import EffectivePrices, Price
from costctl.report import jsontext
from costctl.report.common import RenderOptions, number, plain_structure, safe
from costctl.results import DiffResult, ReconcileResult, ShowResult, ValidateResult, VerifyResult

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


def show_document(result: ShowResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "show",
        "catalog": result.catalog.stamp(),
        "config": result.config.path,
        "files": result.config.files,
        "deployments": [deployment_json(ep) for ep in result.deployments],
    }


def validate_document(result: ValidateResult) -> dict[str, Any]:
    return {
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


def verify_document(result: VerifyResult) -> dict[str, Any]:
    from costctl.advisories import IMPLEMENTED_VERSION

    compared, differing, examples = result.catalog_compared
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "verify",
        "catalog": result.catalog.stamp(),
        "files": result.files,
        "proxy": {"url": result.proxy, "litellm_version": result.version, "version_source": result.version_source,
                  "implemented_version": IMPLEMENTED_VERSION, "public_model_hub": result.public_hub},
        "probes": {"sent": result.probes_sent, "charges_verified": result.charges_verified},
        "catalog_comparison": {"compared": compared, "differing": differing, "examples": examples},
        "fail_on": result.fail_on,
        "findings": [
            {"code": f.code, "name": f.name, "severity": f.severity, "about": f.about,
             "deployment": safe(f.deployment) if f.deployment is not None else None,
             "deployment_id": f.deployment_id, "expected": f.expected, "actual": f.actual,
             "message": safe(f.message), "file": f.file, "line": f.line, "column": f.column, "path": f.path}
            for f in result.findings
        ],
        "summary": result.summary,
    }


def reconcile_document(result: ReconcileResult) -> dict[str, Any]:
    from costctl.report.reconcile_common import money, pct, summary_data

    o = result.outcome
    names = result.options.group_by
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "reconcile",
        "catalog": result.catalog.stamp(),
        "config": result.config,
        "inputs": result.inputs,
        "options": {
            "tolerance_usd": money(result.options.tolerance_usd),
            "tolerance_pct": money(result.options.tolerance_pct),
            "since": result.options.since.isoformat() if result.options.since else None,
            "until": result.options.until.isoformat() if result.options.until else None,
            "group_by": list(names),
        },
        "summary": summary_data(result),
        "groups": [
            {"key": {n: safe(v) for n, v in zip(names, g.key, strict=True)}, "rows": g.rows,
             "prompt_tokens": g.prompt_tokens, "completion_tokens": g.completion_tokens,
             "recorded_usd": money(g.recorded), "expected_usd": money(g.expected), "delta_usd": money(g.delta),
             "delta_pct": None if (p := pct(g.delta, g.expected)) is None else money(rounded(p, Decimal("0.000001"))),
             "mismatched_rows": g.mismatched, "unpriced_rows": g.unpriced_rows}
            for g in o.groups
        ],
        "mismatches": [
            {"request_id": m.request_id, "file": m.file, "line": m.line, "model_group": safe(m.model_group),
             "deployment_id": safe(m.deployment_id), "model": safe(m.model), "prompt_tokens": m.prompt_tokens,
             "completion_tokens": m.completion_tokens, "recorded_usd": money(m.recorded),
             "expected_usd": money(m.expected), "delta_usd": money(m.delta), "cause": m.cause}
            for m in o.top
        ],
        "failures": result.failures,
    }


def _text(doc: dict[str, Any]) -> str:
    return jsontext.dumps(doc, ensure_ascii=False) + "\n"


class JsonFormatter:
    name = "json"

    def show(self, result: ShowResult, opts: RenderOptions) -> str:
        return _text(show_document(result))

    def validate(self, result: ValidateResult, opts: RenderOptions) -> str:
        return _text(validate_document(result))

    def verify(self, result: VerifyResult, opts: RenderOptions) -> str:
        return _text(verify_document(result))

    def reconcile(self, result: ReconcileResult, opts: RenderOptions) -> str:
        return _text(reconcile_document(result))

    def diff(self, result: DiffResult, opts: RenderOptions) -> str:
        from costctl.report.diff_common import document

        return _text(document(result))
