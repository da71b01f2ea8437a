"""The catalog: bundled snapshot and provenance, aliases, key resolution, other sources."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import pytest

from costctl.catalog.resolve import closest_keys, resolve
from costctl.catalog.store import bundled_provenance, load_catalog
from costctl.errors import CostctlError


@pytest.fixture(scope="module")
def catalog():
    return load_catalog("bundled")


def test_provenance_matches_the_bundled_file(catalog):
    prov = bundled_provenance()
    data = resources.files("costctl.data").joinpath(prov["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == prov["sha256"] == catalog.sha256
    assert prov["litellm_version"] == catalog.version == "1.110.2"
    assert prov["entries"] == catalog.count
    assert catalog.stamp() == {"name": "litellm", "version": "1.110.2", "sha256": prov["sha256"],
                               "entries": prov["entries"], "source": "bundled", "url": None, "fetched": None}


def test_sample_spec_and_generalizations_are_not_models(catalog):
    assert "sample_spec" not in catalog.entries
    assert "fallback_generalizations" not in catalog.entries


def test_aliases_are_served_as_their_target(catalog):
    assert catalog.aliases["claude-opus-latest"] == "claude-opus-5-5"
    assert catalog.entries["claude-opus-latest"] is catalog.entries["claude-opus-5-5"]


@pytest.mark.parametrize("model, provider, key", [
    ("openai/gpt-4o", None, "gpt-4o"),
    ("gpt-4o", None, "gpt-4o"),
    ("azure/gpt-4o", None, "azure/gpt-4o"),
    ("gpt-4o", "azure", "azure/gpt-4o"),
    ("azure/my-deploy", None, None),  # an Azure deployment name is not a catalog key
    ("anthropic/claude-sonnet-4-5", None, "claude-sonnet-4-5"),
    ("bedrock/us-gov-west-1/anthropic.claude-haiku-4-5-20251001-v1:0", None,
     "bedrock/us-gov-west-1/anthropic.claude-haiku-4-5-20251001-v1:0"),  # regional key
    ("bedrock/anthropic.claude-haiku-4-5-20251001-v1:0", None, "anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("fireworks_ai/accounts/fireworks/models/deepseek-r1", None,
     "fireworks_ai/accounts/fireworks/models/deepseek-r1"),
    ("openai/llama-3.1-70b-internal", None, None),  # unmapped
    ("ai21/jamba-1.5-large", None, "jamba-1.5-large"),  # priced by the Router's cost path (observed)
    ("together_ai/not-a-model", None, None),
])
def test_resolution(catalog, model, provider, key):
    assert resolve(model, catalog, provider).key == key


def test_provider_must_match(catalog):
    # "gpt-4o" exists but is an openai entry: an anthropic deployment of that name is unmapped
    res = resolve("anthropic/gpt-4o", catalog)
    assert res.key is None and res.provider == "anthropic"


def test_closest_keys_for_a_typo(catalog):
    assert "gpt-4o-mini" in closest_keys("gpt-4o-mnii", catalog)


def test_catalog_from_a_path(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"sample_spec": {}, "my-model": {"input_cost_per_token": 1e-6,
                                                                "litellm_provider": "openai"}}))
    cat = load_catalog(str(path))
    assert cat.count == 1 and cat.version is None and cat.source == str(path)
    assert str(cat.entries["my-model"]["input_cost_per_token"]) == "0.000001"


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
])
def test_bad_catalog_files(tmp_path, content, fragment):
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(CostctlError, match=fragment):
        load_catalog(str(path))


def test_missing_catalog_file(tmp_path):
    with pytest.raises(CostctlError, match="catalog file not found"):
        load_catalog(str(tmp_path / "nope.json"))


def test_installed_litellm_is_found_without_importing_it(tmp_path, monkeypatch):
    pkg = tmp_path / "litellm"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    (pkg / "model_prices_and_context_window_backup.json").write_text(
        json.dumps({"x": {"input_cost_per_token": 2e-6, "litellm_provider": "openai"}}))
    dist = tmp_path / "litellm-9.9.9.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: litellm\nVersion: 9.9.9\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cat = load_catalog("litellm")
    assert (cat.source, cat.version, cat.count) == ("litellm", "9.9.9", 1)


def test_no_installed_litellm(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(CostctlError, match="no litellm package"):
        load_catalog("litellm")
