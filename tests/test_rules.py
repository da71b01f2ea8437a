"""Every rule against its YAML cases (tests/rules/CODE.yaml: where it must fire, where it must
not), plus the meta-test that keeps the registry honest."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from costctl import api
from costctl.rules import RULES

CASES_DIR = Path(__file__).parent / "rules"


def load_cases() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(CASES_DIR.glob("CST*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            out.append((path.stem, case))
    return out


CASES = load_cases()


@pytest.mark.parametrize("code, case", CASES, ids=[f"{c}-{case['name']}" for c, case in CASES])
def test_rule_case(code, case, tmp_path, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text(case["config"], encoding="utf-8")
    for name, value in (case.get("env") or {}).items():
        monkeypatch.setenv(name, value)
    catalog = "bundled"
    if case.get("catalog"):
        catalog_path = tmp_path / "catalog.json"
        catalog_path.write_text(json.dumps(case["catalog"]), encoding="utf-8")
        catalog = str(catalog_path)
    max_deviation = Decimal(str(case["max_deviation"])) if "max_deviation" in case else None
    result = api.validate([config], catalog=catalog, select=[code], max_deviation=max_deviation,
                          litellm_version=case.get("litellm_version"))
    found = sorted(f.line for f in result.findings if f.code == code)
    assert found == sorted(case["expect"]), [f"{f.line}: {f.message}" for f in result.findings]
    assert all(f.code == code for f in result.findings)


def test_every_rule_has_cases_that_fire_and_cases_that_do_not():
    by_code: dict[str, list[dict]] = {}
    for code, case in CASES:
        by_code.setdefault(code, []).append(case)
    assert set(by_code) == set(RULES), "a rule without a case file, or a case file without a rule"
    for code, cases in by_code.items():
        assert any(c["expect"] for c in cases), f"{code}: no case where it fires"
        assert any(not c["expect"] for c in cases), f"{code}: no case where it must not fire"


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_is_documented(code):
    rule = RULES[code]
    assert rule.summary and rule.summary.endswith("."), f"{code}: first docstring line is the summary"
    assert "Example" in rule.doc and "Fix:" in rule.doc, f"{code}: docstring needs an example and a fix"
    assert rule.severity in ("error", "warning", "info")


def test_codes_and_names_are_unique_and_well_formed():
    names = [r.name for r in RULES.values()]
    assert len(names) == len(set(names))
    assert all(len(code) == 6 and code.startswith("CST") and code[3:].isdigit() for code in RULES)


def test_case_files_do_not_leak_env():
    assert "COSTCTL_T_UNSET" not in os.environ
