"""Effective prices per field (value, source, origin) and the reference cost function."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from costctl.catalog.store import load_catalog
from costctl.config import load_config
from costctl.pricing import Usage, cost_of, effective_prices


@pytest.fixture(scope="module")
def catalog():
    return load_catalog("bundled")


@pytest.fixture
def prices_of(write, catalog):
    """prices_of(litellm_params_yaml, model_info_yaml=None) -> EffectivePrices of one deployment."""

    def _prices(params: str, info: str | None = None, env: dict | None = None):
        text = "model_list:\n  - model_name: m\n    litellm_params:\n"
        text += "".join(f"      {line}\n" for line in params.strip().splitlines())
        if info:
            text += "    model_info:\n" + "".join(f"      {line}\n" for line in info.strip().splitlines())
        cfg = load_config(write("c.yaml", text), environ=env or {})
        return effective_prices(cfg.deployments[0], catalog)

    return _prices


def summary(ep, name):
    p = ep.prices[name]
    return (None if p.value is None else str(p.value), p.source, p.origin)


def test_no_custom_price_takes_the_catalog_entry(prices_of):
    ep = prices_of("model: openai/gpt-4o")
    assert not ep.custom and ep.catalog_key == "gpt-4o"
    assert summary(ep, "input_cost_per_token") == ("0.0000025", "default", "gpt-4o")
    assert summary(ep, "output_cost_per_token") == ("0.00001", "default", "gpt-4o")
    assert summary(ep, "cache_read_input_token_cost") == ("0.00000125", "default", "gpt-4o")
    # no cache-write price: LiteLLM bills writes at the input price
    assert summary(ep, "cache_creation_input_token_cost") == ("0.0000025", "fallback", "input_cost_per_token")
    assert summary(ep, "input_cost_per_token_priority") == ("0.00000425", "default", "gpt-4o")


def test_custom_in_litellm_params_with_line(prices_of):
    ep = prices_of("model: openai/gpt-4o\ninput_cost_per_token: 0.000001\noutput_cost_per_token: 0.000004")
    p = ep.prices["input_cost_per_token"]
    assert (str(p.value), p.source, p.origin, p.line) == ("0.000001", "custom", "litellm_params", 5)
    # cache read inherited from the catalog (only because input is custom), priority too
    assert summary(ep, "cache_read_input_token_cost") == ("0.00000125", "default", "gpt-4o")
    assert summary(ep, "input_cost_per_token_priority") == ("0.00000425", "default", "gpt-4o")
    # batch prices are not inherited: a custom-priced deployment has none
    assert "input_cost_per_token_batches" not in ep.prices


def test_custom_in_model_info(prices_of):
    ep = prices_of("model: anthropic/claude-haiku-4-5", "input_cost_per_token: 0.0000008\noutput_cost_per_token: 0.000004")
    assert summary(ep, "input_cost_per_token") == ("8E-7", "custom", "model_info")
    assert summary(ep, "output_cost_per_token") == ("0.000004", "custom", "model_info")
    assert summary(ep, "cache_creation_input_token_cost")[1:] == ("default", "claude-haiku-4-5")


def test_litellm_params_beat_model_info(prices_of):
    ep = prices_of("model: openai/gpt-4.1\ninput_cost_per_token: 0.000002\noutput_cost_per_token: 0.000008",
                   "input_cost_per_token: 0.000003")
    assert summary(ep, "input_cost_per_token") == ("0.000002", "custom", "litellm_params")


def test_custom_input_only_bills_output_at_zero(prices_of):
    ep = prices_of("model: anthropic/claude-sonnet-4-5\ninput_cost_per_token: 0.0000025")
    assert summary(ep, "output_cost_per_token") == (None, "none", None)
    assert summary(ep, "cache_read_input_token_cost") == ("3E-7", "default", "claude-sonnet-4-5")
    assert any("output tokens at $0" in n for n in ep.notes)


def test_custom_output_only_bills_input_and_cache_at_zero(prices_of):
    ep = prices_of("model: anthropic/claude-haiku-4-5\noutput_cost_per_token: 0.000004")
    assert summary(ep, "input_cost_per_token")[1] == "none"
    assert summary(ep, "cache_read_input_token_cost")[1] == "none"
    assert summary(ep, "cache_creation_input_token_cost")[1] == "none"
    assert any("input and cached tokens at $0" in n for n in ep.notes)


def test_unmapped_without_custom_prices_is_billed_zero(prices_of):
    ep = prices_of("model: openai/llama-internal")
    assert ep.catalog_key is None
    assert {summary(ep, n)[1] for n in ("input_cost_per_token", "output_cost_per_token",
                                         "cache_read_input_token_cost", "cache_creation_input_token_cost")} == {"none"}
    assert any("not in the catalog" in n for n in ep.notes)


def test_unmapped_with_custom_prices_falls_back_to_input_for_cache(prices_of):
    ep = prices_of("model: openai/llama-internal\ninput_cost_per_token: 1e-7\noutput_cost_per_token: \"3e-7\"")
    assert summary(ep, "input_cost_per_token") == ("1E-7", "custom", "litellm_params")
    assert ep.prices["input_cost_per_token"].written_as == "string"
    assert ep.prices["output_cost_per_token"].written_as == "string"
    assert summary(ep, "cache_read_input_token_cost") == ("1E-7", "fallback", "input_cost_per_token")


def test_azure_with_and_without_base_model(prices_of):
    with_base = prices_of("model: azure/prod\napi_key: sk-x", "base_model: azure/gpt-4o")
    assert with_base.catalog_key == "azure/gpt-4o" and summary(with_base, "input_cost_per_token")[1] == "default"
    bare_base = prices_of("model: azure/prod", "base_model: gpt-4o")
    assert bare_base.catalog_key == "azure/gpt-4o"
    without = prices_of("model: azure/prod")
    assert without.catalog_key is None and summary(without, "input_cost_per_token")[1] == "none"
    assert any("without base_model" in n for n in without.notes)


def test_fireworks_caches_at_half_the_input_price(prices_of):
    ep = prices_of("model: fireworks_ai/accounts/fireworks/models/deepseek-r1")
    inp = ep.prices["input_cost_per_token"].value
    assert summary(ep, "cache_read_input_token_cost") == (str(inp / 2), "fallback", "input_cost_per_token / 2")


def test_env_price_set_and_unset(prices_of):
    ep = prices_of("model: openai/x\ninput_cost_per_token: os.environ/P_IN\noutput_cost_per_token: os.environ/P_OUT",
                   env={"P_IN": "0.000001"})
    assert summary(ep, "input_cost_per_token") == ("0.000001", "custom", "litellm_params")
    assert ep.prices["input_cost_per_token"].written_as == "env"
    assert summary(ep, "output_cost_per_token")[1] == "none"
    assert any("os.environ/P_OUT" in n for n in ep.notes)


def test_wildcard_is_priced_per_matched_model(prices_of):
    ep = prices_of("model: openai/*")
    assert summary(ep, "input_cost_per_token") == (None, "default", "catalog entry of each model the wildcard matches")


def test_custom_tier_table_inherits_flat_output(prices_of):
    ep = prices_of("model: openai/gpt-4o\ntiered_pricing:\n  - {range: [0, 1000], input_cost_per_token: 0.000001}")
    assert ep.prices["tiered_pricing"].structured[0]["range"] == [D(0), D(1000)]
    assert summary(ep, "output_cost_per_token") == ("0.00001", "default", "gpt-4o")


# -- cost_of: hand-computed --------------------------------------------------------------------

GENERIC = {
    "input_cost_per_token": D("0.000003"),
    "output_cost_per_token": D("0.000015"),
    "cache_read_input_token_cost": D("0.0000003"),
    "cache_creation_input_token_cost": D("0.00000375"),
    "cache_creation_input_token_cost_above_1hr": D("0.000006"),
    "input_cost_per_token_above_200k_tokens": D("0.000006"),
    "output_cost_per_token_above_200k_tokens": D("0.0000225"),
    "cache_read_input_token_cost_above_200k_tokens": D("0.0000006"),
    "output_cost_per_reasoning_token": D("0.00002"),
}


def test_plain_input_and_output():
    assert cost_of(Usage(prompt_tokens=1000, completion_tokens=500), GENERIC, "anthropic") == D("0.0105")


def test_cache_reads_are_inside_prompt_tokens():
    # 1000 prompt of which 400 cached: 600*3e-6 + 400*3e-7 = 0.0018 + 0.00012
    assert cost_of(Usage(prompt_tokens=1000, cached_tokens=400), GENERIC, "anthropic") == D("0.00192")


def test_cache_writes_five_minute_and_one_hour():
    # 1000 prompt: 100 text, 900 written of which 300 for 1 hour
    u = Usage(prompt_tokens=1000, cache_creation_tokens=900, cache_creation_1h_tokens=300)
    expected = 100 * D("0.000003") + 600 * D("0.00000375") + 300 * D("0.000006")
    assert cost_of(u, GENERIC, "anthropic") == expected == D("0.00435")


def test_context_tier_reprices_the_whole_request_strictly_above():
    at = Usage(prompt_tokens=200_000, completion_tokens=1000)
    above = Usage(prompt_tokens=200_001, completion_tokens=1000, cached_tokens=1)
    assert cost_of(at, GENERIC, "gemini") == 200_000 * D("0.000003") + 1000 * D("0.000015")
    assert cost_of(above, GENERIC, "gemini") == 200_000 * D("0.000006") + 1 * D("0.0000006") + 1000 * D("0.0000225")


def test_xai_tiers_start_at_the_threshold():
    at = Usage(prompt_tokens=200_000)
    assert cost_of(at, GENERIC, "xai") == 200_000 * D("0.000006")


def test_reasoning_tokens_at_their_own_price_else_output():
    u = Usage(prompt_tokens=0, completion_tokens=1000, reasoning_tokens=600)
    assert cost_of(u, GENERIC, "openai") == 400 * D("0.000015") + 600 * D("0.00002")
    no_reasoning_price = {k: v for k, v in GENERIC.items() if k != "output_cost_per_reasoning_token"}
    assert cost_of(u, no_reasoning_price, "openai") == 1000 * D("0.000015")


def test_missing_cache_prices_bill_at_the_input_price():
    entry = {"input_cost_per_token": D("0.000001"), "output_cost_per_token": D("0.000002")}
    u = Usage(prompt_tokens=1000, cached_tokens=200, cache_creation_tokens=300)
    assert cost_of(u, entry, "openai") == 1000 * D("0.000001")
    assert cost_of(u, entry, "fireworks_ai") == 800 * D("0.000001") + 200 * D("0.0000005")


def test_azure_uses_the_generic_calculator_in_1_110_2():
    """Checked against LiteLLM 1.110.2 (scripts/crosscheck_spendlogs.py): Azure bills cache writes
    at the write price and reasoning at its own price, like every other provider."""
    u = Usage(prompt_tokens=1000, completion_tokens=1000, cached_tokens=400, cache_creation_tokens=100,
              reasoning_tokens=600)
    assert cost_of(u, GENERIC, "azure") == cost_of(u, GENERIC, "openai") == (
        500 * D("0.000003") + 400 * D("0.0000003") + 100 * D("0.00000375")
        + 400 * D("0.000015") + 600 * D("0.00002"))


def test_service_tier_prices_fall_back_to_the_base_key():
    entry = {"input_cost_per_token": D("0.000002"), "output_cost_per_token": D("0.000008"),
             "input_cost_per_token_priority": D("0.0000035")}
    u = Usage(prompt_tokens=1000, completion_tokens=100, service_tier="priority")
    assert cost_of(u, entry, "openai") == 1000 * D("0.0000035") + 100 * D("0.000008")


def test_tier_table_prices_the_whole_request_at_one_row():
    entry = {"tiered_pricing": [
        {"range": [0, 32000], "input_cost_per_token": D("1e-7"), "output_cost_per_token": D("2e-7")},
        {"range": [32000, 128000], "input_cost_per_token": D("3e-7")},
    ], "output_cost_per_token": D("9e-7")}
    assert cost_of(Usage(prompt_tokens=32000, completion_tokens=10), entry, "dashscope") == 32000 * D("1e-7") + 10 * D("2e-7")
    # second row has no output price: the flat output rate stands in
    assert cost_of(Usage(prompt_tokens=32001, completion_tokens=10), entry, "dashscope") == 32001 * D("3e-7") + 10 * D("9e-7")


def test_vertex_regional_uplift_unless_global():
    entry = {"input_cost_per_token": D("0.000001"), "regional_endpoint_uplift_multiplier": D("1.1")}
    u = Usage(prompt_tokens=1000)
    assert cost_of(u, entry, "vertex_ai", vertex_location="global") == D("0.001")
    assert cost_of(u, entry, "vertex_ai", vertex_location="us-central1") == D("0.0011")
    assert cost_of(u, entry, "vertex_ai") == D("0.0011")


def test_unpriced_entry_costs_nothing():
    assert cost_of(Usage(prompt_tokens=1000, completion_tokens=1000), {}, "openai") == 0


def test_cost_of_on_effective_prices_of_the_example(catalog):
    from conftest import EXAMPLES

    cfg = load_config(EXAMPLES / "config.yaml")
    by_name = {d.model_name + "|" + d.model: effective_prices(d, catalog) for d in cfg.deployments}
    ep = by_name["claude-sonnet|anthropic/claude-sonnet-4-5"]
    u = Usage(prompt_tokens=10_000, completion_tokens=2_000, cached_tokens=4_000)
    # custom input 2.5e-6, output billed $0, cache read inherited 3e-7
    assert cost_of(u, ep.entry(), ep.provider) == 6000 * D("0.0000025") + 4000 * D("0.0000003")


def test_custom_prices_without_any_token_rate_are_ignored(prices_of):
    """LiteLLM 1.110.2 skips a deployment entry with no per-token rate and bills the catalog
    default (checked with scripts/crosscheck_litellm.py)."""
    ep = prices_of("model: openai/gpt-4o\ncache_read_input_token_cost: 0.000001")
    assert not ep.custom and ep.ignored_custom == ["cache_read_input_token_cost"]
    assert summary(ep, "cache_read_input_token_cost") == ("0.00000125", "default", "gpt-4o")
    assert summary(ep, "input_cost_per_token") == ("0.0000025", "default", "gpt-4o")
    # a service-tier rate is a per-token rate: that entry is used, and bills standard tokens at $0
    tier = prices_of("model: openai/gpt-4o", "input_cost_per_token_priority: 0.000005")
    assert tier.custom and summary(tier, "input_cost_per_token")[1] == "none"


def test_cache_writes_by_lifetime_as_litellm_bills_them():
    entry = {**GENERIC, "cache_creation_input_token_cost_above_12hr": D("0.000009")}
    # 3000 written: 2000 for 5 minutes (base), 500 for 1 hour, 500 for 12 hours
    u = Usage(prompt_tokens=5000, cache_creation_tokens=3000, cache_creation_short_tokens=2000,
              cache_creation_1h_tokens=500, cache_creation_12h_tokens=500)
    writes = 2000 * D("0.00000375") + 500 * D("0.000006") + 500 * D("0.000009")
    assert cost_of(u, entry, "anthropic") == 2000 * D("0.000003") + writes
    # no 12-hour price: those writes bill at the base write price
    assert cost_of(u, GENERIC, "anthropic") == 2000 * D("0.000003") + 2500 * D("0.00000375") + 500 * D("0.000006")
    # lifetimes covering only part of the writes: the rest bills at the base write price
    part = Usage(prompt_tokens=5000, cache_creation_tokens=3000, cache_creation_1h_tokens=1000)
    assert cost_of(part, GENERIC, "anthropic") == 2000 * D("0.000003") + 2000 * D("0.00000375") + 1000 * D("0.000006")


def test_usage_read_from_a_litellm_usage_object():
    from costctl.usage.record import usage_of

    uo = {"prompt_tokens": 1000, "completion_tokens": 10,
          "prompt_tokens_details": {"cached_tokens": 200, "cache_write_tokens": 300, "cache_creation_tokens": 300,
                                    "cache_creation_token_details": {"ephemeral_5m_input_tokens": 200,
                                                                     "ephemeral_1h_input_tokens": 100}},
          "completion_tokens_details": {"reasoning_tokens": 4, "audio_tokens": 2},
          "cache_creation_input_tokens": 300, "cache_read_input_tokens": 200}
    u = usage_of(1000, 10, {"usage_object": uo})
    assert (u.cached_tokens, u.cache_creation_tokens, u.cache_creation_short_tokens, u.cache_creation_1h_tokens,
            u.reasoning_tokens, u.audio_output_tokens) == (200, 300, 200, 100, 4, 2)
    anthropic_style = usage_of(1000, 10, {"usage_object": {"cache_creation_input_tokens": 50,
                                                            "cache_read_input_tokens": 30}})
    assert (anthropic_style.cached_tokens, anthropic_style.cache_creation_tokens) == (30, 50)


def test_service_tier_is_read_from_the_cost_breakdown():
    """LiteLLM 1.110.2 records the request's service tier in metadata.cost_breakdown, and prices by it
    (crosscheck_spendlogs: 21 of 90 rows mismatch when it is ignored)."""
    from costctl.usage.record import usage_of

    u = usage_of(10, 5, {"usage_object": {}, "cost_breakdown": {"service_tier": "priority"}})
    assert u.service_tier == "priority"


def test_openai_data_residency_uplifts():
    entry = {"input_cost_per_token": D("0.000001"), "regional_processing_uplift_multiplier_eu": D("1.1"),
             "fedramp_uplift_multiplier": D("1.2")}
    u = Usage(prompt_tokens=1000)
    assert cost_of(u, entry, "openai") == D("0.001")
    assert cost_of(u, entry, "openai", data_residency="eu") == D("0.0011")
    assert cost_of(u, entry, "openai", data_residency="us") == D("0.001")  # no us multiplier here
    assert cost_of(u, entry, "openai", data_residency="fedramp") == D("0.0012")
