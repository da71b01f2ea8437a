"""verify against a stand-in proxy (tests/fake_proxy.py): what it reports when the proxy shows
and charges the config's prices, and when it does not; errors, secrets, formats. The same
against real LiteLLM proxies: test_verify_proxies.py."""

from __future__ import annotations

import json
import socket
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest
from conftest import invoke
from fake_proxy import FakeProxy, mock_reply

from costctl import api
from costctl.pricing import FALLBACK, NONE
from costctl.proxy.checks import VERIFY_CHECKS
from costctl.rules import RULES

CONFIG = """
model_list:
  - model_name: negotiated
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000004
    model_info: {id: negotiated-1}
  - model_name: plain
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
  - model_name: internal
    litellm_params: {model: openai/internal-x, input_cost_per_token: 0.0000002, output_cost_per_token: 0.0000004}
    model_info: {id: internal-1}
"""
ENV = {"OPENAI_API_KEY": "sk-provider-secret-1"}


def faithful(fake: FakeProxy, config, version: str = "1.110.2") -> dict[str, Decimal]:
    """Make `fake` show and charge exactly what costctl expects of `config`; returns the
    expected charge by deployment id."""
    shown = api.show(config)
    rows, groups = [], {}
    for ep in shown.deployments:
        dep = ep.deployment
        info = {"id": dep.deployment_id, "key": ep.catalog_key}
        for name, price in ep.prices.items():
            if price.source not in (FALLBACK, NONE) and price.value is not None:
                info[name] = float(price.value)
        rows.append({"model_name": dep.model_name, "litellm_params": {"model": dep.model}, "model_info": info})
        costs = {k: v for k, v in info.items() if k.endswith(("_token", "_cost"))}
        group = groups.setdefault(dep.model_name, {"model_group": dep.model_name, **costs, "deployment_pricing": []})
        group["deployment_pricing"].append({"provider": ep.provider, "costs": costs, "tiered_pricing": []})
    fake.get.update({
        "/model/info": (200, {}, {"data": rows}),
        "/model_group/info": (200, {}, {"data": list(groups.values())}),
        "/public/model_hub": (200, {}, []),
        "/public/model_hub/info": (200, {}, {"litellm_version": version}),
    })
    expected = {c.link.proxy_id: c.expected
                for c in api._expected_charges(shown.config, shown.catalog, _links(shown))}
    fake.chat = lambda body: mock_reply(str(expected[body["model"]]), body["model"], version)
    return expected


def _links(shown):
    from costctl.proxy.checks import Link

    return [Link(ep, ep.deployment.deployment_id, "id") for ep in shown.deployments]


@pytest.fixture
def config(write):
    return write("config.yaml", CONFIG)


def run(fake: FakeProxy, config, *extra: str, env: dict[str, str] | None = None):
    return invoke("verify", str(config), "--proxy", fake.url, *extra,
                  env={**ENV, "LITELLM_MASTER_KEY": fake.key, **(env or {})})


def codes(result) -> list[str]:
    return [line.split(": ")[1].split(" ")[0] for line in result.stdout.splitlines() if ": CST" in line]


def test_a_proxy_that_shows_and_charges_the_config_passes(config, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", ENV["OPENAI_API_KEY"])
    with FakeProxy() as fake:
        faithful(fake, config)
        result = run(fake, config, "--probe", "-f", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "verify" and doc["catalog"]["entries"] > 1000
    assert doc["proxy"] == {"url": fake.url, "litellm_version": "1.110.2", "version_source":
                            "/public/model_hub/info litellm_version", "implemented_version": "1.110.2",
                            "public_model_hub": "no public groups"}
    assert doc["probes"] == {"sent": 6, "charges_verified": 3}
    from costctl.report.schema import VerifyDocument

    VerifyDocument.model_validate(doc)  # the published schema (schemas/verify.schema.json)
    assert not [f for f in doc["findings"] if f["severity"] != "info"], doc["findings"]
    everything = result.stdout + result.stderr + json.dumps(fake.requests)
    assert fake.key not in result.stdout + result.stderr and ENV["OPENAI_API_KEY"] not in everything


def test_probes_are_mocked_tagged_and_sent_twice_in_two_orders(config, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", ENV["OPENAI_API_KEY"])
    bodies = []
    with FakeProxy() as fake:
        faithful(fake, config)
        answer = fake.chat
        fake.chat = lambda body: (bodies.append(body), answer(body))[1]
        run(fake, config, "--probe", "--concurrency", "1")
    order = [b["model"] for b in bodies]
    assert order[:3] == order[3:][::-1] and len(set(order)) == 3
    assert all(b["mock_response"]["usage"]["prompt_tokens"] == 1000 and b["metadata"]["tags"] == ["costctl-verify"]
               for b in bodies)


def test_the_v165_hub_failure_is_an_error(config, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", ENV["OPENAI_API_KEY"])
    with FakeProxy() as fake:
        faithful(fake, config)
        status, headers, body = fake.get["/model_group/info"]
        for group in body["data"]:
            if group["model_group"] == "negotiated":  # the catalog default instead of the custom price
                group["input_cost_per_token"], group["output_cost_per_token"] = 2.5e-06, 1e-05
                group["deployment_pricing"][0]["costs"].update(input_cost_per_token=2.5e-06)
        result = run(fake, config)
    assert result.returncode == 1
    hub = [line for line in result.stdout.splitlines() if "CST320" in line]
    assert len(hub) == 1 and hub[0].endswith("(negotiated)"), result.stdout
    assert "shows group negotiated: input $2.5 per 1M" in hub[0] and "deployment_pricing" in hub[0]


def test_a_price_leaking_between_deployments_is_caught_by_the_second_round(config, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", ENV["OPENAI_API_KEY"])
    with FakeProxy() as fake:
        expected = faithful(fake, config)
        plain = next(k for k in expected if k not in ("negotiated-1", "internal-1"))
        calls: dict[str, int] = {}

        def leaky(body):
            calls[body["model"]] = calls.get(body["model"], 0) + 1
            target = "negotiated-1" if body["model"] == plain and calls[plain] == 2 else body["model"]
            return mock_reply(str(expected[target]), body["model"])

        fake.chat = leaky
        result = run(fake, config, "--probe")
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if "CST330" in line or "CST331" in line]
    assert len(lines) == 2 and all(line.endswith("(plain)") and "expected for negotiated" in line for line in lines), \
        result.stdout


def test_a_refused_mock_stops_after_one_probe_and_says_how_to_allow_it(config, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", ENV["OPENAI_API_KEY"])
    with FakeProxy() as fake:
        faithful(fake, config)
        fake.chat = lambda body: (200, {}, {"choices": [{"message": {"content": "a real answer"}}]})
        result = run(fake, config, "--probe")
        posts = [r for r in fake.requests if r[0] == "POST"]
    assert result.returncode == 2 and result.stdout == ""
    assert len(posts) == 1
    assert result.stderr.count("\n") == 1 and "allow_client_mock_response" in result.stderr


def test_unreachable_proxy_and_refused_key_exit_2_in_one_line_without_the_key(config):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = invoke("verify", str(config), "--proxy", f"http://admin:hunter2@127.0.0.1:{port}", "--retries", "0",
                    env={"LITELLM_MASTER_KEY": "sk-secret-777"})
    assert result.returncode == 2 and "cannot reach the LiteLLM proxy" in result.stderr
    assert "hunter2" not in result.stderr and "sk-secret-777" not in result.stderr and "Traceback" not in result.stderr
    with FakeProxy() as fake:
        faithful(fake, config)
        result = invoke("verify", str(config), "--proxy", fake.url, "--key-env", "MY_KEY",
                        env={"MY_KEY": "sk-wrong-key-555"})
    assert result.returncode == 2 and "refused the key" in result.stderr and "--key-env" in result.stderr
    assert "sk-wrong-key-555" not in result.stderr + result.stdout


def test_missing_unexpected_and_environment_dependent_ids(config, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # the proxy has a key: its generated id differs
    with FakeProxy() as fake:
        monkeypatch.setenv("OPENAI_API_KEY", ENV["OPENAI_API_KEY"])
        faithful(fake, config)
        monkeypatch.delenv("OPENAI_API_KEY")
        status, headers, body = fake.get["/model/info"]
        body["data"] = [r for r in body["data"] if r["model_info"]["id"] != "internal-1"]
        body["data"].append({"model_name": "extra", "litellm_params": {"model": "openai/gpt-4o-mini"},
                             "model_info": {"id": "added-in-ui", "db_model": True}})
        result = invoke("verify", str(config), "--proxy", fake.url, env={"LITELLM_MASTER_KEY": fake.key})
    found = [c for c in codes(result) if c != "CST311"]
    assert result.returncode == 1
    assert sorted(found) == ["CST301", "CST302", "CST303"], result.stdout
    assert "OPENAI_API_KEY" in next(line for line in result.stdout.splitlines() if "CST303" in line)
    assert "db_model" in next(line for line in result.stdout.splitlines() if "CST302" in line)


def test_an_older_release_is_named_with_its_known_bugs(config, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", ENV["OPENAI_API_KEY"])
    with FakeProxy() as fake:
        faithful(fake, config, version="1.65.0")
        del fake.get["/public/model_hub/info"]
        fake.get["/health/readiness"] = (200, {}, {"status": "healthy", "litellm_version": "1.65.0"})
        result = run(fake, config, "-f", "json")
    doc = json.loads(result.stdout)
    assert doc["proxy"]["litellm_version"] == "1.65.0"
    by_code = {f["code"]: f for f in doc["findings"]}
    assert by_code["CST340"]["actual"] == "1.65.0" and by_code["CST340"]["about"] == "version"
    assert "LITELLM-HUB-DEFAULTS" in by_code["CST118"]["message"] and "issues/9769" in by_code["CST118"]["message"]
    assert result.returncode == 1


@pytest.mark.parametrize("fmt", ["text", "markdown", "junit", "github"])
def test_every_format_renders_a_finding(config, monkeypatch, fmt):
    monkeypatch.setenv("OPENAI_API_KEY", ENV["OPENAI_API_KEY"])
    with FakeProxy() as fake:
        faithful(fake, config, version="1.65.0")
        result = run(fake, config, "-f", fmt)
    assert result.returncode == 1 and "CST118" in result.stdout
    if fmt == "junit":
        root = ET.fromstring(result.stdout)
        assert root.get("name") == "costctl verify" and int(root.get("failures")) >= 1


def test_unknown_check_selector_is_bad_input(config):
    result = invoke("verify", str(config), "--proxy", "http://127.0.0.1:9", "--select", "CST399")
    assert result.returncode == 2 and "CST399" in result.stderr


def test_verify_checks_are_documented_and_distinct_from_validate_rules():
    assert not set(VERIFY_CHECKS) & set(RULES)
    assert all(code.startswith("CST3") for code in VERIFY_CHECKS)
    listing = invoke("rules")
    for code, check in VERIFY_CHECKS.items():
        assert check.doc and check.summary and f"{code}  {check.name}" in listing.stdout
    assert "charge" in invoke("rules", "CST330").stdout


@pytest.mark.parametrize("engine", ["python", "vectorized"])
def test_reconcile_leaves_probes_out_by_name(write, engine):
    pytest.importorskip("duckdb") if engine == "vectorized" else None
    header = "request_id,model_id,model_group,model,custom_llm_provider,spend,prompt_tokens,completion_tokens,request_tags\n"
    logs = write("logs.csv", header
                 + 'r1,internal-1,internal,internal-x,openai,0.0004,1000,500,"[]"\n'
                 + 'p1,internal-1,internal,internal-x,openai,0.0004,1000,500,"[""costctl-verify""]"\n')
    config = write("config.yaml", CONFIG)
    result = invoke("reconcile", str(config), str(logs), "--engine", engine, "-f", "json")
    summary = json.loads(result.stdout)["summary"]
    assert summary["rows_read"] == 2 and summary["rows_reconciled"] == 1
    assert summary["skipped_by_reason"] == {"verify-probe": 1}


def test_litellm_version_from_the_settings_file_and_its_bad_values(write):
    config = write("config.yaml", CONFIG)
    write(".costctl.toml", 'litellm-version = "1.65.0"\n')
    result = invoke("validate", str(config), "--select", "CST118")
    assert result.returncode == 1 and "LITELLM-HUB-DEFAULTS" in result.stdout
    assert invoke("validate", str(config), "--select", "CST118", "--litellm-version", "1.110.2").returncode == 0
    write(".costctl.toml", 'litellm-version = "latest"\n')
    result = invoke("validate", str(config))
    assert result.returncode == 2 and "litellm-version" in result.stderr and "latest" in result.stderr


def test_readme_documents_every_verify_check():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, check in VERIFY_CHECKS.items():
        assert f"| {code} | `{check.name}` | {check.severity} | {check.summary} |" in readme, code


def test_a_proxy_on_another_price_map_is_named_not_blamed_on_the_config(config, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", ENV["OPENAI_API_KEY"])
    with FakeProxy() as fake:
        faithful(fake, config)
        status, headers, body = fake.get["/model/info"]
        plain = next(r for r in body["data"] if r["model_name"] == "plain")
        plain["model_info"]["input_cost_per_token"] = 3e-06  # the downloaded map's gpt-4o price
        negotiated = next(r for r in body["data"] if r["model_name"] == "negotiated")
        negotiated["model_info"]["output_cost_per_token"] = 1e-05  # a custom price that did not take effect
        result = run(fake, config, "-f", "json")
    found = {f["code"]: f for f in json.loads(result.stdout)["findings"]}
    assert found["CST350"]["severity"] == "warning" and "1 of 2 default-priced" in found["CST350"]["message"]
    assert "gpt-4o input $3 per 1M (costctl: $2.5 per 1M)" in found["CST350"]["message"]
    assert found["CST310"]["deployment"] == "negotiated" and found["CST310"]["actual"] == "output=$10 per 1M"
    assert found["CST310"]["expected"] == "output=$4 per 1M (custom)" and result.returncode == 1
