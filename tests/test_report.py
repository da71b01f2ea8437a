"""Every output format: golden files on the bundled example, CSV safety, and secret redaction."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import ROOT, run_cli

from costctl.report import FORMATS

GOLDEN = ROOT / "tests" / "golden"
CASES = [
    ("show.table.txt", ["show", "examples/config.yaml"]),
    ("show.json", ["show", "examples/config.yaml", "--format", "json"]),
    ("show.csv", ["show", "examples/config.yaml", "--format", "csv"]),
    ("show.md", ["show", "examples/config.yaml", "--format", "markdown"]),
    ("show.all-fields.md", ["show", "examples/config.yaml", "--format", "markdown", "--all-fields", "--unit", "token"]),
    ("show.all-fields.table.txt", ["show", "examples/config.yaml", "--all-fields", "--unit", "1k"]),
    ("show.all-fields.csv", ["show", "examples/config.yaml", "--format", "csv", "--all-fields"]),
    ("show.html", ["show", "examples/config.yaml", "--format", "html"]),
]


@pytest.mark.parametrize("name, args", CASES, ids=[c[0] for c in CASES])
def test_golden(name, args, request):
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == path.read_text(encoding="utf-8"), f"golden {name} differs (pytest --update-golden)"


def test_every_declared_format_is_wired_and_golden_tested():
    formats_tested = {args[args.index("--format") + 1] if "--format" in args else "table" for _, args in CASES}
    assert formats_tested == set(FORMATS["show"])


def test_json_is_valid_and_complete():
    doc = json.loads(run_cli("show", "examples/config.yaml", "--format", "json").stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "show" and doc["catalog"]["source"] == "bundled"
    for dep in doc["deployments"]:
        for field in ("input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost",
                      "cache_creation_input_token_cost"):
            price = dep["prices"][field]
            assert price["source"] in {"custom", "default", "fallback", "none"}
            assert price["value"] is None or isinstance(price["value"], str)
            if price["source"] == "none":
                assert price["value"] is None


def test_csv_neutralises_formula_cells(write):
    path = write("c.yaml", """
        model_list:
          - model_name: "=HYPERLINK(\\"http://evil\\")"
            litellm_params:
              model: "@openai/x"
              input_cost_per_token: 0.000001
              output_cost_per_token: 0.000002
    """)
    result = run_cli("show", str(path), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and all(r["model_name"].startswith("'=") for r in rows)
    assert all(r["model"].startswith("'@") for r in rows)
    assert rows[0]["value"] == "1"  # numbers stay numbers


SECRETS = [
    "sk-live-9f8e7d6c5b4a39281726354",
    "AKIAIOSFODNN7EXAMPLE1234",
    "wJalrXUtnFEMI0K7MDENG0bPxRfiCYEXAMPLEKEY",
    "s3cr3t-Passw0rd",
    "ya29.a0AfH6SMBx-vertex-token-value",
    "hunter2hunter2",
]


@pytest.fixture
def secret_config(write):
    return write("secret.yaml", f"""
        model_list:
          - model_name: gpt-4o
            litellm_params:
              model: openai/gpt-4o
              api_key: {SECRETS[0]}
              api_base: https://user:{SECRETS[3]}@proxy.example.com/v1
              input_cost_per_token: 0.000001
          - model_name: bedrock
            litellm_params:
              model: bedrock/anthropic.claude-haiku-4-5-20251001-v1:0
              aws_access_key_id: {SECRETS[1]}
              aws_secret_access_key: {SECRETS[2]}
          - model_name: vertex
            litellm_params:
              model: vertex_ai/gemini-2.5-flash
              vertex_credentials: '{{"type": "service_account", "private_key": "{SECRETS[4]}"}}'
          - model_name: env-key
            litellm_params:
              model: openai/gpt-4o-mini
              api_key: os.environ/COSTCTL_SECRET_KEY
            model_info:
              id: {SECRETS[0]}
        general_settings:
          master_key: {SECRETS[5]}
          database_url: postgresql://llm:{SECRETS[3]}@db:5432/litellm
    """)


@pytest.mark.parametrize("fmt", sorted(FORMATS["show"]))
@pytest.mark.parametrize("all_fields", [False, True])
def test_no_secret_in_any_format(secret_config, fmt, all_fields):
    args = ["show", str(secret_config), "--format", fmt] + (["--all-fields"] if all_fields else [])
    result = run_cli(*args, env={"COSTCTL_SECRET_KEY": "sk-from-env-abcdef0123456789"})
    assert result.returncode == 0, result.stderr
    out = result.stdout + result.stderr
    for secret in SECRETS + ["sk-from-env-abcdef0123456789"]:
        assert secret not in out
    assert "gpt-4o" in out  # the report itself is there


def test_no_secret_in_errors(write):
    path = write("bad.yaml", f"model_list:\n  - model_name: a\n    litellm_params: {{api_key: {SECRETS[0]}, model: [\n")
    result = run_cli("show", str(path))
    assert result.returncode == 2 and SECRETS[0] not in result.stderr + result.stdout
    path = write("bad2.yaml", f"model_list:\n  - model_name: a\n    litellm_params:\n      api_key: {SECRETS[0]}\n")
    result = run_cli("show", str(path))
    assert result.returncode == 2 and SECRETS[0] not in result.stderr + result.stdout
    assert "expected a 'model' string" in result.stderr


def test_every_declared_format_is_wired():
    from costctl.report import formatter

    for command, formats in FORMATS.items():
        for name in formats:
            assert callable(getattr(formatter(command, name), command)), (command, name)
