"""verify against real LiteLLM proxies started on 127.0.0.1 from scratch virtualenvs
(tests/proxies.py; `.ci/run` prepares them, a bare machine skips these tests with the reason):
1.110.2 shows and charges examples/config.yaml as costctl expects; 1.65.0 shows the Model Hub's
catalog defaults and charges one deployment another's price, and verify says so."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import DATA, EXAMPLES, invoke
from proxies import provider_env, start_proxy


@pytest.fixture(scope="module")
def proxy_110(tmp_path_factory):
    proxy = start_proxy("1.110.2", EXAMPLES / "config.yaml", tmp_path_factory.mktemp("litellm-1.110.2"))
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def proxy_165(tmp_path_factory):
    proxy = start_proxy("1.65.0", DATA / "verify" / "leak_165.yaml", tmp_path_factory.mktemp("litellm-1.65.0"))
    yield proxy
    proxy.stop()


def verify(proxy, config: Path, *extra: str):
    return invoke("verify", str(config), "--proxy", proxy.url, "-f", "json", *extra,
                  env={**provider_env(), "LITELLM_MASTER_KEY": proxy.key})


def by_code(doc: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in doc["findings"]:
        out.setdefault(f["code"], []).append(f)
    return out


def test_litellm_1_110_2_shows_and_charges_the_example_config(proxy_110):
    result = verify(proxy_110, EXAMPLES / "config.yaml", "--probe")
    doc = json.loads(result.stdout)
    assert result.returncode == 0, [f["message"] for f in doc["findings"] if f["severity"] == "error"]
    assert doc["proxy"]["litellm_version"] == "1.110.2"
    found = by_code(doc)
    # every deployment served under the config's ids; every probe charged what costctl expects
    assert not {"CST301", "CST302", "CST303", "CST310", "CST320", "CST330", "CST331", "CST340"} & set(found), found
    not_verified = [f["deployment"] for f in found.get("CST332", [])]
    assert not_verified == ["openai/*"]  # only the wildcard: priced by the model each request names
    assert doc["probes"] == {"sent": 20, "charges_verified": 10}
    # what 1.110.2 shows differently from what it charges, named as such
    assert [f["deployment"] for f in found["CST312"]] == ["claude-sonnet"]
    assert found["CST312"][0]["message"].startswith("/model/info shows the catalog's output $15 per 1M")
    assert doc["proxy"]["public_model_hub"] == "2 public groups"
    hub = found["CST321"][0]["message"]
    assert found["CST321"][0]["deployment"] == "claude-sonnet" and "/public/model_hub shows group claude-sonnet" in hub
    assert doc["catalog_comparison"]["compared"] > 100 and doc["catalog_comparison"]["differing"] == 0
    assert proxy_110.key not in result.stdout + result.stderr


def test_litellm_1_110_2_refuses_a_wrong_key(proxy_110):
    result = invoke("verify", str(EXAMPLES / "config.yaml"), "--proxy", proxy_110.url,
                    env={**provider_env(), "LITELLM_MASTER_KEY": "sk-not-the-key-0000"})
    assert result.returncode == 2 and "refused the key" in result.stderr and "sk-not-the-key" not in result.stderr


def test_litellm_1_65_0_hub_defaults_and_leaking_charges(proxy_165):
    config = DATA / "verify" / "leak_165.yaml"
    result = verify(proxy_165, config, "--probe", "--concurrency", "1")
    doc = json.loads(result.stdout)
    assert result.returncode == 1
    assert doc["proxy"]["litellm_version"] == "1.65.0"
    found = by_code(doc)
    # the Model Hub showed catalog defaults (or nothing) for the litellm_params prices
    assert sorted(f["deployment"] for f in found["CST320"]) == ["gpt-4o-negotiated", "gpt-4o-premium", "internal-llm"]
    assert "input $2.5 per 1M" in next(f["message"] for f in found["CST320"] if f["deployment"] == "gpt-4o-premium")
    # the second round charged a deployment another deployment's price
    leaked = [f for f in found["CST331"] if "that is the charge expected for" in f["message"]]
    assert leaked and {f["deployment"] for f in leaked} <= {"gpt-4o-plain", "gpt-4o-negotiated", "gpt-4o-premium"}
    assert any(f["deployment"] == "gpt-4o-plain" for f in found["CST330"])
    assert {f["about"] for f in found["CST330"]} == {"charge"}
    # the release and its known bugs
    assert found["CST340"][0]["actual"] == "1.65.0"
    assert {f["deployment"] for f in found["CST118"]} >= {"gpt-4o-plain", "gpt-4o-negotiated"}


def test_litellm_1_65_0_version_is_read_without_a_key(proxy_165):
    from costctl.proxy.client import Client
    from costctl.proxy.state import detect_version

    assert detect_version(Client(proxy_165.url, None)) == ("1.65.0", "/health/readiness litellm_version")
    assert os.environ.get("LITELLM_MASTER_KEY") != proxy_165.key  # the test never exported it
