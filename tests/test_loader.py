"""Config loading: includes, env references, deployment ids, wildcards, and every bad input."""

from __future__ import annotations

import pytest
from conftest import DATA

from costctl.config import litellm_deployment_id, load_config
from costctl.errors import CostctlError

MINIMAL = """
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
"""


def test_minimal_config(write):
    cfg = load_config(write("c.yaml", MINIMAL))
    (dep,) = cfg.deployments
    assert (dep.model_name, dep.model, dep.line, dep.column) == ("gpt-4o", "openai/gpt-4o", 2, 5)
    assert dep.id_source == "generated" and len(dep.deployment_id) == 64
    assert not dep.wildcard


def test_zero_deployments_is_valid(write):
    assert load_config(write("c.yaml", "model_list: []\n")).deployments == []


def test_ids_match_litellm_1_110_2():
    """Expected ids were produced by LiteLLM 1.110.2's Router for tests/data/litellm_ids.yaml,
    with COSTCTL_TEST_KEY=sk-test-123 and COSTCTL_SURELY_UNSET unset."""
    cfg = load_config(DATA / "litellm_ids.yaml", environ={"COSTCTL_TEST_KEY": "sk-test-123"})
    assert [d.deployment_id for d in cfg.deployments] == [
        "13138e21d985a5ccf033e956131dab1e327a563ff8809fe6b338fa050a21733c",
        "09f042323d560cdb455fc9f9f4d29b7116f54e0c728e78149a39afc3a86f5531",
        "a21ea6d0d028addf33a9c0bbbb4b71acebbd617e4c675373174bce5124dd01d9",
        "de9ec7599ce18b81ffcbd90d8ada1bd9b4aed9eddf2cd8ba2a2d154d6f82a7e8",
    ]
    assert [d.id_source for d in cfg.deployments] == ["generated", "generated", "generated-env-unset", "generated"]


def test_id_depends_on_env_values():
    a = load_config(DATA / "litellm_ids.yaml", environ={"COSTCTL_TEST_KEY": "one"}).deployments[1]
    b = load_config(DATA / "litellm_ids.yaml", environ={"COSTCTL_TEST_KEY": "two"}).deployments[1]
    assert a.deployment_id != b.deployment_id


def test_declared_id_wins(write):
    cfg = load_config(write("c.yaml", MINIMAL + "    model_info:\n      id: my-id\n"))
    assert (cfg.deployments[0].deployment_id, cfg.deployments[0].id_source) == ("my-id", "model_info")


def test_id_algorithm_by_hand():
    import hashlib

    expected = hashlib.sha256(b'gmodelopenai/xrpm100extra{"a": 1}flagTrue').hexdigest()
    assert litellm_deployment_id("g", {"model": "openai/x", "rpm": 100, "extra": {"a": 1}, "flag": True}) == expected


def test_env_references_resolved_and_recorded(write):
    cfg = load_config(write("c.yaml", """
        model_list:
          - model_name: a
            litellm_params:
              model: openai/x
              api_key: os.environ/KEY_SET
              input_cost_per_token: os.environ/PRICE_UNSET
    """), environ={"KEY_SET": "sk-abc"})
    dep = cfg.deployments[0]
    assert dep.params["api_key"] == "sk-abc"
    assert dep.params["input_cost_per_token"] is None
    refs = {r.name: r for r in dep.env_refs}
    assert refs["KEY_SET"].resolved and not refs["PRICE_UNSET"].resolved
    assert refs["PRICE_UNSET"].line == 6 and refs["PRICE_UNSET"].path == "model_list[0].litellm_params.input_cost_per_token"


def test_wildcards_are_kept_and_marked(write):
    cfg = load_config(write("c.yaml", """
        model_list:
          - model_name: "*"
            litellm_params: {model: "*"}
          - model_name: "openai/*"
            litellm_params: {model: "openai/*"}
          - model_name: plain
            litellm_params: {model: openai/gpt-4o}
    """))
    assert [d.wildcard for d in cfg.deployments] == [True, True, False]


def test_duplicates_reported_with_path(write):
    cfg = load_config(write("c.yaml", """
        model_list:
          - model_name: a
            litellm_params:
              model: openai/x
              input_cost_per_token: 0.000001
              input_cost_per_token: 0.000002
    """))
    ((file, path, dup),) = cfg.duplicates
    assert path == "model_list[0].litellm_params.input_cost_per_token" and dup.line == 6 and dup.first_line == 5
    assert str(cfg.deployments[0].params["input_cost_per_token"]) == "0.000002"


# -- include: -------------------------------------------------------------------------------


def test_include_appends_lists_and_replaces_other_keys(write):
    write("inc.yaml", """
        model_list:
          - model_name: b
            litellm_params: {model: openai/b}
        litellm_settings: {drop_params: true}
        general_settings: {x: 1}
    """)
    cfg = load_config(write("main.yaml", """
        include: [inc.yaml]
        model_list:
          - model_name: a
            litellm_params: {model: openai/a}
        litellm_settings: {set_verbose: true}
    """))
    assert [d.model_name for d in cfg.deployments] == ["a", "b"]
    assert cfg.deployments[1].file.endswith("inc.yaml") and cfg.deployments[1].line == 2
    assert dict(cfg.data["litellm_settings"]) == {"drop_params": True}
    assert "include" not in cfg.data and cfg.files[1].endswith("inc.yaml")


def test_include_only_file_provides_model_list(write):
    write("models.yaml", "model_list:\n  - model_name: b\n    litellm_params: {model: openai/b}\n")
    cfg = load_config(write("main.yaml", "include: [models.yaml]\n"))
    assert [d.model_name for d in cfg.deployments] == ["b"]


def test_nested_includes_follow_litellm_1_110_2(write):
    """1.110.2 follows includes of included files (relative to the declaring file), once each."""
    write("sub/second.yaml", "include: [third.yaml]\nmodel_list:\n  - model_name: b\n    litellm_params: {model: openai/b}\n")
    write("sub/third.yaml", "include: [../main.yaml]\nmodel_list:\n  - model_name: c\n    litellm_params: {model: openai/c}\n")
    main = "include: [sub/second.yaml]\nmodel_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n"
    cfg = load_config(write("main.yaml", main))
    assert [d.model_name for d in cfg.deployments] == ["a", "b", "c"]


def test_missing_include_is_an_error_naming_the_line(write):
    path = write("main.yaml", "model_list: []\ninclude:\n  - gone.yaml\n")
    with pytest.raises(CostctlError) as err:
        load_config(path)
    assert err.value.line == 3 and "gone.yaml" in err.value.message


def test_include_outside_root_is_refused_unless_allowed(write, tmp_path):
    write("shared/models.yaml", "model_list:\n  - model_name: b\n    litellm_params: {model: openai/b}\n")
    path = write("proj/main.yaml", "include: [../shared/models.yaml]\nmodel_list: []\n")
    with pytest.raises(CostctlError, match="outside the allowed folder"):
        load_config(path)
    assert len(load_config(path, include_root=tmp_path).deployments) == 1


def test_include_must_be_a_list_of_paths(write):
    with pytest.raises(CostctlError, match="must be a list of file paths"):
        load_config(write("main.yaml", "include: models.yaml\nmodel_list: []\n"))


def test_included_file_must_be_a_mapping(write):
    write("inc.yaml", "- a\n- b\n")
    with pytest.raises(CostctlError, match="must be a YAML mapping"):
        load_config(write("main.yaml", "include: [inc.yaml]\nmodel_list: []\n"))


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("text, line, fragment", [
    ("- a\n- b\n", 1, "expected a mapping"),
    ("", 1, "found empty"),
    ("general_settings: {}\n", 1, "no model_list"),
    ("model_list: {a: 1}\n", 1, "must be a list"),
    ("model_list:\n  - just-a-string\n", 2, "expected a mapping"),
    ("model_list:\n  - litellm_params: {model: openai/x}\n", 2, "no model_name"),
    ("model_list:\n  - model_name: a\n", 2, "has no litellm_params"),
    ("model_list:\n  - model_name: a\n    litellm_params: openai/x\n", 3, "must be a mapping"),
    ("model_list:\n  - model_name: a\n    litellm_params: {api_key: k}\n", 3, "expected a 'model' string"),
    ("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n    model_info: [1]\n", 4,
     "model_info must be a mapping"),
])
def test_bad_configs_name_file_and_line(write, text, line, fragment):
    path = write("bad.yaml", text)
    with pytest.raises(CostctlError) as err:
        load_config(path)
    assert err.value.file == str(path) and err.value.line == line
    assert fragment in err.value.message
