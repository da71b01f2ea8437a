"""The JSON contract: every JSON report validates against the pydantic models, and the published
JSON Schema files are the ones the models generate."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, run_cli

from costctl.pricing import MAIN_FIELDS
from costctl.report.schema import DOCUMENTS, ShowDocument


def _shape(schema: dict) -> dict:
    """Definitions -> (properties, required): what the contract is, without the formatting
    details that vary between pydantic releases."""
    defs = {name: d for name, d in schema.get("$defs", {}).items()}
    defs["<root>"] = schema
    return {name: (sorted(d.get("properties", {})), sorted(d.get("required", []))) for name, d in defs.items()}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_published_schema_is_current(name, request):
    path = ROOT / "schemas" / f"{name}.schema.json"
    generated = DOCUMENTS[name].model_json_schema()
    if request.config.getoption("--update-golden"):
        path.write_text(json.dumps(generated, indent=2) + "\n", encoding="utf-8")
    assert _shape(json.loads(path.read_text(encoding="utf-8"))) == _shape(generated)


@pytest.mark.parametrize("config", ["examples/config.yaml", "tests/data/crosscheck_models.yaml",
                                    "tests/data/crosscheck_providers.yaml",
                                    "tests/data/corpus/proxy_server_config.yaml"])
def test_show_json_validates(config):
    doc = ShowDocument.model_validate_json(run_cli("show", config, "--format", "json").stdout)
    assert doc.deployments
    for dep in doc.deployments:
        assert set(MAIN_FIELDS) <= set(dep.prices)


@pytest.mark.parametrize("config", ["examples/broken.yaml", "examples/clean.yaml", "examples/config.yaml"])
def test_validate_json_validates(config):
    from costctl.report.schema import ValidateDocument

    doc = ValidateDocument.model_validate_json(run_cli("validate", config, "--format", "json").stdout)
    assert doc.summary.error == sum(1 for f in doc.findings if f.severity == "error")


def test_reconcile_json_validates():
    from costctl.report.schema import ReconcileDocument

    out = run_cli("reconcile", "examples/config.yaml", "examples/spend_logs.csv", "--format", "json").stdout
    doc = ReconcileDocument.model_validate_json(out)
    assert doc.summary.rows_read == doc.summary.rows_reconciled + doc.summary.rows_skipped
