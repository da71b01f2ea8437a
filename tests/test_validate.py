"""`costctl validate`: exit codes, settings, selection, suppression, and every output format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from conftest import ROOT, run_cli

from costctl.report import FORMATS
from costctl.rules import RULES

GOLDEN = ROOT / "tests" / "golden"
FORMAT_CASES = [(fmt, f"validate.broken.{fmt}") for fmt in sorted(FORMATS["validate"])]

PARTIAL = """
model_list:
  - model_name: a
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      input_cost_per_token: 0.0000025
  - model_name: b
    litellm_params:
      model: azure/my-deployment
"""


def codes(result) -> list[str]:
    return [f["code"] for f in json.loads(result.stdout)["findings"]]


def test_exit_codes_of_the_examples():
    clean = run_cli("validate", "examples/clean.yaml")
    assert clean.returncode == 0 and clean.stdout == ""
    assert "0 errors, 0 warnings, 0 info" in clean.stderr
    broken = run_cli("validate", "examples/broken.yaml")
    assert broken.returncode == 1 and "CST103" in broken.stdout
    langfuse = "tests/data/corpus/tests_local_testing_example_config_yaml_langfuse_config.yaml"
    unreadable = run_cli("validate", "examples/clean.yaml", langfuse)
    assert unreadable.returncode == 2 and unreadable.stdout == ""
    assert len(unreadable.stderr.strip().splitlines()) == 1


def test_every_broken_example_rule_fires():
    found = set(codes(run_cli("validate", "examples/broken.yaml", "--format", "json")))
    assert {"CST001", "CST002", "CST003", "CST101", "CST102", "CST103", "CST104", "CST105", "CST109",
            "CST112", "CST114"} <= found


@pytest.mark.parametrize("fmt, name", FORMAT_CASES, ids=[n for _, n in FORMAT_CASES])
def test_golden(fmt, name, request):
    result = run_cli("validate", "examples/broken.yaml", "--format", fmt)
    assert result.returncode == 1, result.stderr
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == path.read_text(encoding="utf-8"), f"golden {name} differs (pytest --update-golden)"


def test_fail_on_levels(write):
    path = write("c.yaml", PARTIAL)
    assert run_cli("validate", str(path), "--select", "CST109").returncode == 0  # a warning only
    assert run_cli("validate", str(path), "--select", "CST109", "--fail-on", "warning").returncode == 1
    assert run_cli("validate", str(path), "--select", "CST105").returncode == 1


def test_select_and_ignore_by_code_prefix_and_name(write):
    path = write("c.yaml", PARTIAL)
    assert codes(run_cli("validate", str(path), "-f", "json", "--select", "partial-custom-price")) == ["CST105"]
    assert set(codes(run_cli("validate", str(path), "-f", "json", "--select", "CST1", "--ignore", "CST105,CST107"))) == {
        "CST109"}
    assert "CST105" not in codes(run_cli("validate", str(path), "-f", "json", "--ignore", "CST10"))
    bad = run_cli("validate", str(path), "--select", "CST999")
    assert bad.returncode == 2 and "no rule has that code" in bad.stderr


def test_settings_file_and_command_line_precedence(write):
    path = write("proj/c.yaml", PARTIAL)
    write("proj/pyproject.toml", """
        [project]
        name = "x"
        [tool.costctl]
        ignore = ["CST105"]
        fail-on = "warning"
        [tool.costctl.severity]
        CST109 = "error"
    """)
    result = run_cli("validate", str(path), "-f", "json")
    doc = json.loads(result.stdout)
    assert [(f["code"], f["severity"]) for f in doc["findings"]] == [("CST109", "error")]
    assert result.returncode == 1 and doc["settings"][0].endswith("pyproject.toml")
    # the command line wins
    assert codes(run_cli("validate", str(path), "-f", "json", "--ignore", "CST109")) == ["CST105"]


def test_dot_costctl_toml_wins_over_pyproject_and_bad_settings_are_exit_2(write):
    path = write("proj/c.yaml", PARTIAL)
    write("proj/pyproject.toml", '[tool.costctl]\nselect = ["CST105"]\n')
    write("proj/.costctl.toml", 'select = ["CST109"]\n')
    assert codes(run_cli("validate", str(path), "-f", "json")) == ["CST109"]
    write("proj/.costctl.toml", 'selekt = ["CST109"]\n')
    bad = run_cli("validate", str(path))
    assert bad.returncode == 2 and "unknown costctl setting(s) selekt" in bad.stderr


def test_inline_suppression_on_a_line_and_on_a_mapping(write):
    path = write("c.yaml", """
        model_list:
          - model_name: a
            litellm_params:
              model: anthropic/claude-sonnet-4-5
              input_cost_per_token: 0.0000025  # costctl: ignore[CST105]
          - model_name: b   # costctl: ignore[azure-without-base-model]
            litellm_params:
              model: azure/my-deployment
          - model_name: c
            litellm_params:   # costctl: ignore
              model: azure/other
          - model_name: d
            litellm_params:
              model: azure/third
    """)
    found = json.loads(run_cli("validate", str(path), "-f", "json").stdout)["findings"]
    assert [(f["code"], f["line"]) for f in found] == [("CST109", 14)]


def test_github_format_is_chosen_in_github_actions(write):
    path = write("c.yaml", PARTIAL)
    result = run_cli("validate", str(path), env={"GITHUB_ACTIONS": "true"})
    assert result.stdout.startswith("::error file=")
    assert "::warning file=" in result.stdout


def test_sarif_has_what_code_scanning_requires():
    doc = json.loads(run_cli("validate", "examples/broken.yaml", "--format", "sarif").stdout)
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "costctl" and driver["version"]
    assert [r["id"] for r in driver["rules"]] == sorted(RULES)
    for r in driver["rules"]:
        assert r["shortDescription"]["text"] and r["help"]["text"] and r["defaultConfiguration"]["level"]
    assert run["results"]
    for res in run["results"]:
        assert res["ruleId"] == driver["rules"][res["ruleIndex"]]["id"]
        assert res["level"] in ("error", "warning", "note") and res["message"]["text"]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "examples/broken.yaml"
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1


def test_junit_parses_back_one_testcase_per_deployment():
    result = run_cli("validate", "examples/broken.yaml", "--format", "junit")
    root = ET.fromstring(result.stdout)
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    deployment_cases = [c for c in cases if c.get("name") != "config file"]
    assert len(deployment_cases) == 7  # the seven deployments of examples/broken.yaml
    failures = [f for c in cases for f in c.findall("failure")]
    assert {f.get("type") for f in failures} >= {"CST103", "CST104", "CST105", "CST114"}
    assert int(root.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)


def test_json_contract():
    result = run_cli("validate", "examples/broken.yaml", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "validate" and doc["catalog"]["source"] == "bundled"
    keys = [(f["file"], f["line"], f["code"]) for f in doc["findings"]]
    assert keys == sorted(keys)
    assert doc["summary"] == {s: sum(1 for f in doc["findings"] if f["severity"] == s) for s in ("error", "warning", "info")}
    first = doc["findings"][0]
    assert set(first) == {"code", "name", "severity", "message", "file", "line", "column", "path", "deployment"}


def test_several_configs_at_once():
    result = run_cli("validate", "examples/clean.yaml", "examples/broken.yaml", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["files"] == ["examples/clean.yaml", "examples/broken.yaml"]
    assert {f["file"] for f in doc["findings"]} == {"examples/broken.yaml"}


@pytest.mark.parametrize("path", sorted((ROOT / "tests" / "data" / "corpus").glob("*.yaml")), ids=lambda p: p.name)
def test_corpus(path):
    result = run_cli("validate", str(path))
    assert "Traceback" not in result.stderr
    expected = {2} if path.name.endswith("langfuse_config.yaml") else {0, 1}
    assert result.returncode in expected, result.stderr


def test_rules_command_and_readme_document_every_rule():
    listing = run_cli("rules")
    assert listing.returncode == 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, rule in RULES.items():
        assert code in listing.stdout and rule.name in listing.stdout
        row = f"| {code} | `{rule.name}` | {rule.severity} | {rule.summary.replace('|', chr(92) + '|')} |"
        assert row in readme, f"README's rule table is out of date for {code}: expected {row}"
    one = run_cli("rules", "CST104")
    assert one.returncode == 0 and "Fix:" in one.stdout
    assert run_cli("rules", "CST999").returncode == 2


@pytest.mark.parametrize("fmt", sorted(FORMATS["validate"]))
def test_no_secret_in_any_validate_format(write, fmt):
    secret = "sk-live-9f8e7d6c5b4a39281726354"
    path = write("secret.yaml", f"""
        model_list:
          - model_name: a
            litellm_params:
              model: openai/gpt-4o
              api_key: {secret}
              input_cost_per_token: {secret}
              api_base: https://user:hunter2hunter2@proxy.example.com
          - model_name: b
            litellm_params:
              model: azure/x
              api_key: os.environ/COSTCTL_SECRET_KEY
        litellm_settings:
          cost_discount_config: {{openai: {secret}}}
    """)
    result = run_cli("validate", str(path), "--format", fmt, env={"COSTCTL_SECRET_KEY": "sk-env-0123456789abcdef"})
    assert result.returncode == 1
    out = result.stdout + result.stderr
    for value in (secret, "hunter2hunter2", "sk-env-0123456789abcdef"):
        assert value not in out
    assert "CST101" in out or "price-not-a-number" in out
