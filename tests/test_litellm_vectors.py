"""Costs LiteLLM 1.110.2 itself computed (tests/data/litellm_vectors.jsonl), recomputed by costctl.

Each line is one request LiteLLM priced — through `completion_cost` or a Router with the
deployment's custom prices — with the deployment, the usage block, the moment it was priced and
LiteLLM's cost. costctl must give the same cost (LiteLLM computes in float: relative 1e-9), or,
where a line says `not_recomputed`, refuse with that feature named.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import yaml

from costctl.catalog.store import load_catalog
from costctl.config import load_config
from costctl.pricing import NotRecomputed
from costctl.reconcile.pricer import Pricer
from costctl.usage.record import usage_of
from tests.conftest import DATA

CASES = [json.loads(line) for line in (DATA / "litellm_vectors.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog("bundled")


def expected_by_costctl(case: dict, catalog, tmp_path) -> Decimal:
    deployment = {"model_name": "m", "litellm_params": case["litellm_params"]}
    if case.get("model_info"):
        deployment["model_info"] = case["model_info"]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"model_list": [deployment], "litellm_settings": case.get("litellm_settings", {})}))
    cfg = load_config(path)
    dep = cfg.deployments[0]
    u = case["usage"]
    usage = usage_of(u.get("prompt_tokens", 0), u.get("completion_tokens", 0), {"usage_object": u})
    usage.billed_at = case.get("billed_at")
    usage.service_tier = case.get("service_tier", usage.service_tier)
    priced, _unknown = Pricer(cfg, catalog).join(dep.deployment_id, "m", dep.model.split("/", 1)[-1], "")
    return priced.cost(usage, vertex_location=case.get("vertex_location"))


@pytest.mark.parametrize("case", CASES, ids=[f"{c['feature']}-{i}" for i, c in enumerate(CASES)])
def test_costctl_matches_litellm(case, catalog, tmp_path):
    if "not_recomputed" in case:
        with pytest.raises(NotRecomputed) as raised:
            expected_by_costctl(case, catalog, tmp_path)
        assert raised.value.feature == case["not_recomputed"]
        return
    ours = expected_by_costctl(case, catalog, tmp_path)
    theirs = Decimal(case["litellm_cost"])
    assert abs(ours - theirs) <= max(Decimal("1e-15"), abs(theirs) * Decimal("1e-9")), (ours, theirs, case.get("note"))


def test_every_feature_has_cases():
    features = {c["feature"] for c in CASES}
    assert {"off_peak", "modality_tokens", "together_size_buckets", "catalog_key_resolution",
            "above_128k_vertex_gemini", "tiered_pricing_cache_1hr"} <= features
