"""The YAML reader: exact Decimals, YAML strings kept as strings, positions, duplicates, limits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costctl.config import yaml_source
from costctl.config.yaml_source import YamlList, YamlMap, load_yaml
from costctl.errors import CostctlError


def test_numbers_are_exact_decimals_and_1e6_stays_a_string(write):
    root, _ = load_yaml(write("c.yaml", """
        a: 0.0000025
        b: 1.0e-6
        c: 1e-6
        d: "0.000002"
        e: 300
        f: 1_000.5
        g: .inf
        h: true
        i: null
    """))
    assert root["a"] == Decimal("0.0000025") and isinstance(root["a"], Decimal)
    assert str(root["b"]) == "0.0000010"  # from the source text, not via float
    assert root["c"] == "1e-6"  # PyYAML (YAML 1.1) reads this as a string
    assert root["d"] == "0.000002"
    assert root["e"] == Decimal(300)
    assert root["f"] == Decimal("1000.5")
    assert root["g"] == Decimal("Infinity")
    assert root["h"] is True and root["i"] is None


def test_positions_of_keys_values_and_items(write):
    root, _ = load_yaml(write("c.yaml", """
        model_list:
          - model_name: a
            litellm_params:
              model: openai/gpt-4o
    """))
    assert isinstance(root, YamlMap) and root.key_pos["model_list"] == (1, 1)
    items = root["model_list"]
    assert isinstance(items, YamlList) and items.item_pos == [(2, 5)]
    entry = items[0]
    assert entry.key_pos["litellm_params"] == (3, 5)
    assert entry["litellm_params"].key_pos["model"] == (4, 7)
    assert entry["litellm_params"].value_pos["model"] == (4, 14)


def test_duplicate_keys_are_recorded_and_last_value_wins(write):
    root, _ = load_yaml(write("c.yaml", """
        a: 1
        b: 2
        a: 3
    """))
    assert root["a"] == Decimal(3)
    (dup,) = root.duplicates
    assert (dup.key, dup.line, dup.column, dup.first_line) == ("a", 3, 1, 1)


def test_merge_keys_apply_and_explicit_keys_win(write):
    root, _ = load_yaml(write("c.yaml", """
        base: &base
          model: openai/gpt-4o
          rpm: 10
        x:
          <<: *base
          rpm: 20
    """))
    assert dict(root["x"]) == {"model": "openai/gpt-4o", "rpm": Decimal(20)}
    assert root["x"].duplicates == []


def test_native_view_matches_pyyaml(write):
    import yaml

    path = write("c.yaml", "p: {a: 1.0e-6, b: 1e-6, c: 5, d: true}\n")
    root, builder = load_yaml(path)
    assert builder.native(root["p"].node) == yaml.safe_load(path.read_text())["p"]


@pytest.mark.parametrize("text, line, message", [
    ("a: [1, 2\n", 2, "YAML syntax error"),
    ("a: b\n  c: d\n", 2, "YAML syntax error"),
    ("a: 1\n---\nb: 2\n", 2, "YAML syntax error"),
])
def test_syntax_errors_name_file_and_line(write, text, line, message):
    path = write("bad.yaml", text)
    with pytest.raises(CostctlError) as err:
        load_yaml(path)
    assert err.value.file == str(path) and err.value.line == line
    assert message in str(err.value)


def test_non_utf8_names_the_byte_position(write):
    path = write("latin1.yaml", "a: 1\nb: caf\xe9\n".encode("latin-1"))
    with pytest.raises(CostctlError) as err:
        load_yaml(path)
    assert (err.value.line, err.value.column) == (2, 7)
    assert "UTF-8" in err.value.message


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CostctlError, match="file not found"):
        load_yaml(tmp_path / "nope.yaml")
    with pytest.raises(CostctlError, match="is a directory"):
        load_yaml(tmp_path)


def test_oversized_file_is_refused_without_reading(write, monkeypatch):
    path = write("big.yaml", "a: " + "x" * 2000 + "\n")
    monkeypatch.setattr(yaml_source, "MAX_FILE_BYTES", 1000)
    with pytest.raises(CostctlError, match="refused"):
        load_yaml(path)


def test_alias_bomb_is_refused_quickly(write):
    import time

    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 12):
        prev = f"*a{i-1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    path = write("bomb.yaml", "\n".join(lines) + "\n")
    start = time.perf_counter()
    with pytest.raises(CostctlError, match="alias bomb"):
        load_yaml(path)
    assert time.perf_counter() - start < 20
