"""Billing features in `reconcile` and `diff`: margins, provider-reported costs, off-peak and
per-second prices from the row's times, and the rows costctl names instead of recomputing.

Expected amounts are worked out by hand from the config below (LiteLLM 1.110.2's rules; the
per-feature rules themselves are held to LiteLLM in test_litellm_vectors.py and the CI
crosscheck)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from costctl import api
from costctl.reconcile import Options

CONFIG = """
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
  - model_name: custom
    litellm_params: {model: openai/my-model, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  - model_name: offpeak
    litellm_params: {model: openai/my-offpeak, input_cost_per_token: 0.000002, output_cost_per_token: 0.000008}
    model_info:
      off_peak_pricing: {hours_utc: "00:00-08:00", input_cost_per_token: 0.000001, output_cost_per_token: 0.000004}
  - model_name: per-second
    litellm_params: {model: sagemaker/my-endpoint, input_cost_per_second: 0.01}
litellm_settings:
  cost_discount_config: {openai: 0.2}
  cost_margin_config:
    openai: {percentage: 0.1, fixed_amount: 0.001}
"""
# gpt-4o: 1000 prompt x 2.5e-6 + 500 completion x 1e-5 = 0.0075; x 0.8 x 1.1 + 0.001 = 0.0076
GPT4O = Decimal("0.0076")


def row(request_id: str, group: str, spend: str, usage: dict | None = None, **extra: str) -> dict:
    usage = {"prompt_tokens": 1000, "completion_tokens": 500, **(usage or {})}
    return {"request_id": request_id, "model_group": group, "spend": spend, "prompt_tokens": usage["prompt_tokens"],
            "completion_tokens": usage["completion_tokens"], "startTime": "2026-11-30T10:00:00Z",
            "endTime": "2026-11-30T10:00:02Z", "metadata": {"usage_object": usage}, **extra}


@pytest.fixture
def reconcile(write):
    config = write("config.yaml", CONFIG)

    def _run(*rows: dict, engine: str = "python"):
        log = write("log.json", json.dumps(list(rows)))
        return api.reconcile(str(config), [str(log)], engine=engine, options=Options(group_by=("model_group",)))

    return _run


def test_discount_then_margin(reconcile):
    t = reconcile(row("a", "gpt-4o", str(GPT4O))).outcome.totals
    assert (t.rows_reconciled, t.mismatched_rows, t.expected) == (1, 0, GPT4O)


def test_provider_reported_cost_of_a_whole_response(reconcile):
    # completionStartTime = endTime: not streamed, so usage.cost is the provider's: 0.02 x 0.8 x 1.1 + 0.001
    r = row("a", "gpt-4o", "0.0186", {"cost": 0.02}, completionStartTime="2026-11-30T10:00:02Z")
    t = reconcile(r).outcome.totals
    assert (t.mismatched_rows, t.expected) == (0, Decimal("0.0186"))


def test_a_custom_price_is_never_replaced_by_a_reported_cost(reconcile):
    # custom: 1000 x 1e-6 + 500 x 2e-6 = 0.002; x 0.8 x 1.1 + 0.001 = 0.00276
    r = row("a", "custom", "0.0186", {"cost": 0.02}, completionStartTime="2026-11-30T10:00:02Z")
    t = reconcile(r).outcome.totals
    assert (t.mismatched_rows, t.expected) == (1, Decimal("0.00276"))


def test_a_reported_cost_equal_to_the_spend_of_a_stream_proves_nothing(reconcile):
    # streamed: LiteLLM wrote its own bill into usage.cost; the token cost (0.0076) disagrees -> named
    streamed = row("s", "gpt-4o", "0.03", {"cost": 0.03}, completionStartTime="2026-11-30T10:00:01Z")
    # the same with a token cost that agrees: reconciled at the token cost
    agrees = row("t", "gpt-4o", str(GPT4O), {"cost": float(GPT4O)}, completionStartTime="2026-11-30T10:00:01Z")
    t = reconcile(streamed, agrees).outcome.totals
    assert t.skipped_by_reason == {"not recomputed: provider-reported-cost": 1}
    assert (t.rows_reconciled, t.mismatched_rows, t.expected) == (1, 0, GPT4O)


def test_off_peak_prices_apply_at_the_end_time(reconcile):
    inside = row("in", "offpeak", "0", endTime="2026-11-30T07:59:59Z")
    outside = row("out", "offpeak", "0", endTime="2026-11-30T08:00:00Z")
    result = reconcile(inside, outside)
    expected = {m.request_id: m.expected for m in result.outcome.top}
    # outside: 1000 x 2e-6 + 500 x 8e-6 = 0.006 -> x 0.8 x 1.1 + 0.001 = 0.00628
    assert expected["out"] == Decimal("0.00628")
    # inside: 1000 x 1e-6 + 500 x 4e-6 = 0.003 -> x 0.8 x 1.1 + 0.001 = 0.00364
    assert expected["in"] == Decimal("0.00364")


def test_off_peak_without_an_end_time_is_named(reconcile):
    r = row("a", "offpeak", "0.00364")
    del r["endTime"]
    t = reconcile(r).outcome.totals
    assert t.skipped_by_reason == {"not recomputed: off-peak-without-time": 1}


def test_per_second_prices_bill_the_logged_duration(reconcile):
    t = reconcile(row("a", "per-second", "0.02")).outcome.totals  # 2 s x $0.01, no margin for sagemaker
    assert (t.mismatched_rows, t.expected) == (0, Decimal("0.02"))


@pytest.mark.parametrize("usage, feature", [
    ({"server_tool_use": {"web_search_requests": 2}}, "built-in-tools"),
    ({"prompt_tokens_details": {"web_search_requests": 1}}, "grounding"),
    ({"citation_tokens": 300}, "perplexity-search"),
])
def test_charges_costctl_does_not_recompute_are_skipped_by_name(reconcile, usage, feature):
    t = reconcile(row("a", "gpt-4o", "0.05", usage)).outcome.totals
    assert t.skipped_by_reason == {f"not recomputed: {feature}": 1}
    assert t.rows_read == t.rows_reconciled + t.rows_skipped


def test_engines_agree_on_margins_and_hand_the_rest_to_the_reference(reconcile):
    rows = [row(f"r{i}", "gpt-4o", str(GPT4O)) for i in range(3)] + [row("x", "custom", "0.00276")]
    python = reconcile(*rows).outcome.totals
    auto = reconcile(*rows, engine="auto").outcome.totals
    assert (python.expected, python.mismatched_rows) == (auto.expected, auto.mismatched_rows) == (
        3 * GPT4O + Decimal("0.00276"), 0)


def test_diff_names_what_it_cannot_project(write):
    base = write("base.yaml", CONFIG)
    head = write("head.yaml", CONFIG.replace("percentage: 0.1", "percentage: 0.2"))
    log = write("log.json", json.dumps([row("a", "gpt-4o", "0"), row("b", "gpt-4o", "0", {"citation_tokens": 5})]))
    projection = api.diff(str(base), str(head), usage=[str(log)]).projection
    assert projection.skipped_by_reason == {"not recomputed: perplexity-search": 1}
    # margin 10 % -> 20 %: 0.006 x 1.2 + 0.001 against 0.006 x 1.1 + 0.001
    assert (projection.base, projection.head) == (GPT4O, Decimal("0.0082"))


def test_an_unlisted_model_billed_by_a_rule_costctl_does_not_recompute_is_named_not_zero(write):
    config = write("c.yaml", """
        model_list:
          - model_name: rep
            litellm_params: {model: replicate/acme/custom-model}
          - model_name: router
            litellm_params: {model: azure_ai/my-model-router}
        """)
    log = write("log.json", json.dumps([row("a", "rep", "0.0028"), row("b", "router", "0.01")]))
    t = api.reconcile(str(config), [str(log)], engine="python").outcome.totals
    assert t.skipped_by_reason == {"not recomputed: replicate-per-second": 1,
                                   "not recomputed: azure-model-router-fee": 1}
