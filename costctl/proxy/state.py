"""What a running proxy shows: its LiteLLM version, the API's per-deployment prices
(/model/info) and the Model Hub's per-group prices (/model_group/info, /public/model_hub)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from costctl.proxy.client import Client

# Where each LiteLLM release states its version, most specific first (no auth needed).
VERSION_SOURCES = (
    ("/public/model_hub/info", "litellm_version"),  # 1.110.2
    ("/health/readiness", "litellm_version"),  # 1.65, 1.66
    ("/openapi.json", "info.version"),  # all
)


@dataclass
class ProxyState:
    version: str | None = None
    version_source: str | None = None
    # deployment id -> its /model/info rows (a wildcard deployment has one row per model it serves)
    deployments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # model_group -> /model_group/info row
    public_hub: dict[str, dict[str, Any]] = field(default_factory=dict)  # the same, from /public/model_hub
    public_hub_status: str = "not read"


def shown_number(value: Any) -> Decimal | None:
    """A number as the proxy gives it (a JSON float or text, a response header), exactly as
    written; None when absent, not a number or not finite."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number_ = Decimal(str(value))
    except InvalidOperation:
        return None
    return number_ if number_.is_finite() else None


def mapping(row: dict[str, Any], key: str) -> dict[str, Any]:
    """`row[key]` when it is a JSON object, else {} (proxies differ in what they leave out)."""
    value = row.get(key)
    return value if isinstance(value, dict) else {}


def _dig(body: Any, path: str) -> Any:
    for part in path.split("."):
        body = body.get(part) if isinstance(body, dict) else None
    return body


def detect_version(client: Client) -> tuple[str | None, str | None]:
    """(version, where it was read) or (None, None) when no endpoint states it."""
    for path, key in VERSION_SOURCES:
        response = client.get(path, auth=False)
        value = _dig(response.json(), key) if response.status == 200 else None
        if isinstance(value, str) and value.strip():
            return value.strip(), f"{path} {key}"
    return None, None


def _rows(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else body
    return [row for row in data if isinstance(row, dict)] if isinstance(data, list) else []


def read_state(client: Client) -> ProxyState:
    """Everything verify compares before any probe (probes can change what the proxy shows)."""
    state = ProxyState()
    state.version, state.version_source = detect_version(client)
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _rows(client.require(client.get("/model/info"), "GET /model/info")):
        info = mapping(row, "model_info")
        if info.get("id") is not None:
            by_id[str(info["id"])].append(row)
    state.deployments = dict(by_id)
    groups = client.get("/model_group/info")
    if groups.status == 200:
        state.groups = {str(r.get("model_group")): r for r in _rows(groups.json())}
    else:
        client.require(groups, "GET /model_group/info")  # auth failures end here; other statuses too
    public = client.get("/public/model_hub")
    rows = _rows(public.json()) if public.status == 200 else []
    state.public_hub = {str(r.get("model_group")): r for r in rows if r.get("model_group") is not None}
    state.public_hub_status = (f"{len(state.public_hub)} public groups" if public.status == 200 and state.public_hub
                               else "no public groups" if public.status == 200 else f"HTTP {public.status}")
    return state
