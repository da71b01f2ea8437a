"""The command line as a user meets it: help, version, exit codes, one-line errors, the corpus."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS, EXAMPLES, run_cli

CORPUS_FILES = sorted(CORPUS.glob("*.yaml"))
UNLOADABLE = {p.name for p in CORPUS_FILES if p.name.endswith("langfuse_config.yaml")}


def test_version_names_costctl_and_the_catalog():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("costctl 0.") and "litellm 1.110.2" in result.stdout


@pytest.mark.parametrize("command", [[], ["show"], ["validate"], ["reconcile"], ["rules"], ["catalog"], ["catalog", "info"],
                                     ["catalog", "lookup"]])
def test_every_help_has_an_example(command):
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "Example:" in result.stdout


def test_readme_quick_start_example_runs():
    result = run_cli("show", "examples/config.yaml")
    assert result.returncode == 0 and "Effective prices" in result.stdout and result.stderr == ""


def test_output_file(tmp_path):
    out = tmp_path / "prices.json"
    result = run_cli("show", str(EXAMPLES / "config.yaml"), "--format", "json", "--output", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert json.loads(out.read_text())["command"] == "show"


def test_unknown_option_is_exit_2():
    result = run_cli("show", "examples/config.yaml", "--format", "yaml")
    assert result.returncode == 2


@pytest.mark.parametrize("content, where", [
    (b"model_list:\n  - model_name: a\n    litellm_params: {model: [\n", ":4:1: YAML syntax error"),
    (b"model_list:\n  - model_name: a\n", ":2: model_list[0]: deployment has no litellm_params"),
    (b"\xff\xfe\x00garbage", ":1:1: not UTF-8"),
    (b"just text\n", ":1:1: expected a mapping"),
])
def test_bad_input_is_one_line_exit_2(write, content, where):
    path = write("bad.yaml", content)
    result = run_cli("show", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"costctl: error: {path}") and where in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_config_file():
    result = run_cli("show", "does/not/exist.yaml")
    assert result.returncode == 2 and result.stderr.strip() == "costctl: error: does/not/exist.yaml: file not found"


def test_bad_catalog_option():
    result = run_cli("show", "examples/config.yaml", "--catalog", "nope.json")
    assert result.returncode == 2 and "catalog file not found" in result.stderr


def test_empty_model_list_is_an_empty_report(write):
    path = write("empty.yaml", "model_list: []\n")
    result = run_cli("show", str(path), "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout)["deployments"] == []
    assert "No deployments" in run_cli("show", str(path)).stdout


def test_catalog_info_and_lookup():
    info = run_cli("catalog", "info", "--json")
    assert info.returncode == 0 and json.loads(info.stdout)["entries"] > 4000
    found = run_cli("catalog", "lookup", "gpt-4o", "--provider", "azure", "--json")
    assert found.returncode == 0 and json.loads(found.stdout)["key"] == "azure/gpt-4o"
    missing = run_cli("catalog", "lookup", "openai/gpt-4o-mnii")
    assert missing.returncode == 1 and "closest keys:" in missing.stdout and "gpt-4o-mini" in missing.stdout


def test_corpus_has_all_61_configs():
    assert len(CORPUS_FILES) == 61 and len(UNLOADABLE) == 3


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_corpus(path, fmt):
    result = run_cli("show", str(path), "--format", fmt)
    assert "Traceback" not in result.stderr
    if path.name in UNLOADABLE:
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and f"{path}:2:" in lines[0] and "litellm_params" in lines[0]
    else:
        assert result.returncode == 0, result.stderr
        if fmt == "json":
            assert json.loads(result.stdout)["schema_version"] == 1


def _secret_values(value, key=""):
    from costctl.config.secrets import is_secret_key

    if isinstance(value, dict):
        for k, v in value.items():
            yield from _secret_values(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _secret_values(v, key)
    elif isinstance(value, str) and is_secret_key(key) and len(value) >= 6 and not value.startswith("os.environ/"):
        yield value


def _with_secrets() -> list:
    import yaml

    found = []
    for path in CORPUS_FILES:
        if path.name not in UNLOADABLE:
            secrets = set(_secret_values(yaml.safe_load(path.read_text(encoding="utf-8"))))
            if secrets:
                found.append((path, secrets))
    return found


WITH_SECRETS = _with_secrets()


def test_the_corpus_has_literal_secrets_to_check():
    assert len(WITH_SECRETS) >= 10


@pytest.mark.parametrize("path, secrets", WITH_SECRETS, ids=[p.name for p, _ in WITH_SECRETS])
def test_corpus_secrets_never_appear(path, secrets):
    for args in (["show", str(path), "--format", "json", "--all-fields"], ["validate", str(path), "--format", "json"],
                 ["show", str(path)]):
        result = run_cli(*args)
        for secret in secrets:
            assert secret not in result.stdout + result.stderr, (args, secret)


def test_cli_choices_are_the_core_registries():
    from costctl import cli
    from costctl.choices import ENGINES, GROUP_KEYS, LOG_FORMATS, SEVERITIES
    from costctl.reconcile.reference import GROUP_KEY_FUNCTIONS
    from costctl.usage.readers import READERS

    assert set(READERS) == {*LOG_FORMATS, "postgres"}  # --input-format names file formats; a database is read as a table
    assert set(GROUP_KEY_FUNCTIONS) == set(GROUP_KEYS)
    # one rule per key, in model.py, for both engines: from the join, a row's own column, or day/tag
    from costctl.reconcile import sql
    from costctl.reconcile.model import JOIN_GROUP_KEYS, ROW_GROUP_KEYS

    assert set(JOIN_GROUP_KEYS) | set(ROW_GROUP_KEYS) | {"day", "tag"} == set(GROUP_KEYS)
    assert set(sql.ROW_KEY_COLUMNS) == set(ROW_GROUP_KEYS)
    for enum_, values in ((cli.Engine, ENGINES), (cli.GroupBy, GROUP_KEYS), (cli.InputFormat, LOG_FORMATS),
                          (cli.Level, SEVERITIES)):
        assert [e.value for e in enum_] == list(values)
