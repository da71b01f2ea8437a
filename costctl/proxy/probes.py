"""Probes: one mocked request per deployment, twice in two orders, and what each was charged.

A probe is a chat request addressed to the deployment id with a `mock_response` carrying a
fixed usage block, so no provider is called and LiteLLM prices known token counts on the same
path as a real request. Probes are tagged (`costctl-verify` in request tags and metadata) so
`reconcile` recognises them in spend logs.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

from costctl.errors import CostctlError
from costctl.pricing import Usage
from costctl.proxy.client import Client
from costctl.proxy.state import shown_number
from costctl.usage.record import PROBE_TAG

PROBE_REPLY = "costctl verify probe"
PROMPT_TOKENS, CACHED_TOKENS, COMPLETION_TOKENS = 1000, 200, 500
COST_HEADER = "x-litellm-response-cost"
# cost parts LiteLLM 1.110.2 adds (before any discount), shown when a charge differs
PART_HEADERS = ("input", "output", "cache-read", "cache-creation", "original", "discount-amount", "margin-amount")

ALLOW_MOCK_HINT = (
    "LiteLLM 1.110.2 strips mock_response unless the key's or team's metadata has "
    "allow_client_mock_response: true (e.g. POST /key/generate with "
    '{"metadata": {"allow_client_mock_response": true}}); verify without --probe checks the API and Model Hub only')


def probe_usage(at: datetime | None = None) -> Usage:
    """The token counts every probe reports, as costctl prices them."""
    moment = (at or datetime.now(timezone.utc)).isoformat()
    return Usage(prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS, cached_tokens=CACHED_TOKENS,
                 billed_at=moment, started_at=moment)


def probe_body(target: str) -> dict:
    usage = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS,
             "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS, "prompt_tokens_details": {"cached_tokens": CACHED_TOKENS}}
    return {
        "model": target,
        "messages": [{"role": "user", "content": "costctl verify: a mocked request, no provider is called"}],
        "max_tokens": 1,
        "mock_response": {"choices": [{"message": {"role": "assistant", "content": PROBE_REPLY}}], "usage": usage},
        "metadata": {"tags": [PROBE_TAG], "costctl_probe": True},
        "user": PROBE_TAG,
    }


@dataclass
class Probe:
    deployment_id: str  # the proxy's id the request was addressed to
    round: int
    status: int
    mocked: bool  # the reply is the mock's: no provider was called
    served_by: str | None  # x-litellm-model-id
    charged: Decimal | None  # x-litellm-response-cost (None: the header is absent)
    parts: dict[str, Decimal] = field(default_factory=dict)
    version: str | None = None
    error: str = ""
    at: datetime | None = None


def send(client: Client, target: str, round_: int) -> Probe:
    response = client.post("/chat/completions", probe_body(target))
    at = datetime.now(timezone.utc)
    body = response.json()
    content = None
    if isinstance(body, dict) and isinstance(body.get("choices"), list) and body["choices"]:
        message = body["choices"][0].get("message") if isinstance(body["choices"][0], dict) else None
        content = message.get("content") if isinstance(message, dict) else None
    error = ""
    if response.status != 200:
        detail = body.get("error") if isinstance(body, dict) else None
        error = str(detail.get("message") if isinstance(detail, dict) else detail or response.text)[:200]
    h = response.headers
    return Probe(target, round_, response.status, response.status == 200 and content == PROBE_REPLY,
                 h.get("x-litellm-model-id"), shown_number(h.get(COST_HEADER)),
                 {p: v for p in PART_HEADERS if (v := shown_number(h.get(f"{COST_HEADER}-{p}"))) is not None},
                 h.get("x-litellm-version"), error, at)


def run(client: Client, targets: list[str], *, concurrency: int = 8,
        on_probe: Callable[[Probe], None] | None = None) -> list[Probe]:
    """Probe every target, then all again in reverse order (a price that leaks from one
    deployment to another shows as a changed charge). The first probe goes alone: when the
    proxy refuses mock responses, nothing else is sent."""
    if not targets:
        return []
    first = send(client, targets[0], 1)
    if not first.mocked:
        if first.status in (401, 403):
            raise CostctlError(f"the LiteLLM proxy at {client.shown} refused the key for a probe (HTTP {first.status})")
        why = f"HTTP {first.status}: {first.error}" if first.status != 200 else "the reply is not the mock's"
        raise CostctlError(f"the LiteLLM proxy at {client.shown} did not answer the probe of {targets[0]} with its "
                           f"mock response ({why}); {ALLOW_MOCK_HINT}")
    done = [first]
    if on_probe:
        on_probe(first)
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for round_, order in ((1, targets[1:]), (2, targets[::-1])):
            for probe in pool.map(lambda t, r=round_: send(client, t, r), order):
                done.append(probe)
                if on_probe:
                    on_probe(probe)
    return done
