"""One spend-log row in the shape every reader produces, and turning a raw row into it.

Raw rows come from CSV (every value a string; `metadata` and `request_tags` JSON text), JSONL
or JSON (native values). `to_record` either returns a SpendRow or a skip reason: no row is
dropped without one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from costctl.config.secrets import redact
from costctl.pricing import Usage

# The fields a row is read into; `--map field=column` renames a column to one of them.
FIELDS = ("request_id", "spend", "prompt_tokens", "completion_tokens", "model_id", "model_group", "model",
          "custom_llm_provider", "startTime", "cache_hit", "status", "metadata", "api_key", "user", "team_id",
          "request_tags", "end_user", "endTime", "completionStartTime")
REQUIRED = ("request_id", "spend", "prompt_tokens", "completion_tokens")
JOIN_COLUMNS = ("model_id", "model_group", "model")

# Usage fields most logs leave out or null: per-modality counts, geo and fast mode, reported
# costs, tool calls (usage_of reads them only when present; the DuckDB scan hands rows that set
# one to the reference parser).
RARE_FIELDS = ("text_tokens", "image_tokens", "video_tokens", "cached_tokens_details", "inference_geo", "speed",
               "cost", "cache_type", "server_tool_use", "server_side_tool_usage_details", "citation_tokens",
               "num_search_queries", "web_search_requests", "google_maps_grounding_requests", "query_count",
               "character_count", "image_count", "tool_usage_cost")

_decode = json.JSONDecoder().decode
_THOUSANDS = re.compile(r"^-?\$?\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass(slots=True)
class SpendRow:
    request_id: str
    file: str
    line: int
    start_time: datetime | None
    model_id: str
    model_group: str
    model: str
    provider: str
    spend: Decimal
    usage: Usage
    cache_hit: bool
    failed: bool
    api_key: str
    user: str
    team_id: str
    raw_tags: Any  # request_tags as read; parsed only when grouping by tag (see tags_of)
    vertex_location: str | None = None  # where LiteLLM says it served the request (cost_breakdown)
    data_residency: str | None = None


# `costctl verify --probe` tags its mocked requests so reconcile leaves them out by name
PROBE_TAG = "costctl-verify"
PROBE_SKIP = "verify-probe"


class Skip(Exception):
    """A row that cannot be reconciled, with the named reason it is counted under."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _shown(value: Any) -> str:
    """A log value quoted in a skip detail: secret-looking parts redacted (logs carry keys in
    odd columns), at most 40 characters, never a Python repr of a Decimal or bytes."""
    text = redact(value if isinstance(value, str) else str(value))
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# No request costs this much (LiteLLM's own column is a float, which cannot even hold 1e400): such
# a value is a broken export, and its digits would swamp every total.
MAX_SPEND = Decimal("1e15")


def parse_money(value: Any, name: str = "spend") -> Decimal:
    number = _money(value, name)
    if abs(number) >= MAX_SPEND:
        raise Skip(f"bad-{name}", f"{name} is {_shown(value)}, beyond any request's cost (at most 1e15)")
    return number


def _money(value: Any, name: str) -> Decimal:
    if type(value) is str and value and value[0] in "0123456789" and "," not in value:
        try:
            number = Decimal(value)
            if number.is_finite():
                return number
        except InvalidOperation:
            pass
    if value is None or value == "":
        raise Skip(f"missing-{name}", f"{name} is empty")
    if isinstance(value, bool):
        raise Skip(f"bad-{name}", f"{name} is {_shown(value)}, not a number")
    if isinstance(value, (float, int, Decimal)):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():  # JSON's NaN and Infinity
            raise Skip(f"bad-{name}", f"{name} is {_shown(value)}, not a number")
        return number
    text = str(value).strip()
    if _THOUSANDS.match(text):  # UI exports write 1,234.50
        text = text.replace(",", "")
    text = text.lstrip("$") if not text.startswith("-$") else "-" + text[2:]
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise Skip(f"bad-{name}", f"{name} is {_shown(value)}, not a number") from None
    if not number.is_finite():
        raise Skip(f"bad-{name}", f"{name} is {_shown(text)}")
    return number


def parse_tokens(value: Any, name: str) -> int:
    if type(value) is str and value.isdigit():  # the common case, first
        return int(value)
    if value is None or value == "":
        raise Skip("missing-tokens", f"{name} is empty")
    if isinstance(value, bool):
        raise Skip("bad-tokens", f"{name} is {_shown(value)}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            try:
                as_decimal = Decimal(text)
            except InvalidOperation:
                raise Skip("bad-tokens", f"{name} is {_shown(text)}, not an integer") from None
            if not as_decimal.is_finite() or as_decimal != as_decimal.to_integral_value():
                raise Skip("bad-tokens", f"{name} is {_shown(text)}, not an integer") from None
            number = int(as_decimal)
    if number < 0:
        raise Skip("bad-tokens", f"{name} is negative ({number})")
    return number


def parse_time(value: Any) -> datetime | None:
    """UTC datetime of an ISO-8601 timestamp (naive ones are UTC), or None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        if " " in text and "T" not in text:
            text = text.replace(" ", "T", 1)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise Skip("bad-timestamp", f"startTime is {_shown(value)}, not an ISO-8601 time") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _json_value(value: Any, name: str, expect: type) -> Any:
    if value is None or value == "" or value == "{}" or value == "[]":
        return expect()
    if isinstance(value, expect):
        return value
    if isinstance(value, str):
        try:
            parsed = _decode(value)
        except ValueError:
            raise Skip(f"bad-{name}", f"{name} is not valid JSON") from None
        if parsed is None:
            return expect()
        if isinstance(parsed, expect):
            return parsed
    raise Skip(f"bad-{name}", f"{name} is not a JSON {expect.__name__}")


def _count(value: Any) -> int:
    if value is None:
        return 0
    if type(value) is int:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return 0


def _n(value: Any) -> int:
    """A token count from a usage block: ints as they are, None as 0, anything else via _count."""
    return value if type(value) is int else (0 if value is None else _count(value))


_EMPTY: dict[str, Any] = {}


def usage_of(prompt: int, completion: int, metadata: Mapping[str, Any],
             breakdown: Mapping[str, Any] = _EMPTY) -> Usage:
    """Token counts from the row and `metadata.usage_object` (LiteLLM's full usage block); the
    service tier from the usage block or `metadata.cost_breakdown`."""
    if breakdown is _EMPTY and type(metadata) is dict:
        found = metadata.get("cost_breakdown")
        breakdown = found if type(found) is dict else _EMPTY
    uo = metadata.get("usage_object") if type(metadata) is dict else None
    if type(uo) is not dict:
        usage = Usage(prompt_tokens=prompt, completion_tokens=completion)
        tier = metadata.get("service_tier") or breakdown.get("service_tier") if type(metadata) is dict else None
        if isinstance(tier, str):
            usage.service_tier = tier
        return usage
    get = uo.get
    pd = get("prompt_tokens_details")
    cd = get("completion_tokens_details")
    if type(pd) is not dict:
        pd = _EMPTY
    if type(cd) is not dict:
        cd = _EMPTY
    cached = _n(pd.get("cached_tokens")) or _n(get("cache_read_input_tokens"))
    writes = _n(pd.get("cache_write_tokens")) or _n(pd.get("cache_creation_tokens")) \
        or _n(get("cache_creation_input_tokens"))
    usage = Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=cached,
        cache_creation_tokens=writes,
        reasoning_tokens=_n(cd.get("reasoning_tokens")),
        audio_input_tokens=_n(pd.get("audio_tokens")),
        audio_output_tokens=_n(cd.get("audio_tokens")),
    )
    ti, ii, vi, ctd = pd.get("text_tokens"), pd.get("image_tokens"), pd.get("video_tokens"), pd.get("cached_tokens_details")
    to, io, vo, kind = cd.get("text_tokens"), cd.get("image_tokens"), cd.get("video_tokens"), pd.get("cache_type")
    if ti or ii or vi or ctd or to or io or vo or kind:  # modality counts (a falsy one counts 0 anyway)
        usage.text_input_tokens, usage.image_input_tokens, usage.video_input_tokens = _n(ti), _n(ii), _n(vi)
        usage.text_output_tokens, usage.image_output_tokens, usage.video_output_tokens = _n(to), _n(io), _n(vo)
        if type(ctd) is dict:
            usage.cached_text_tokens = _n(ctd.get("text_tokens"))
            usage.cached_audio_tokens = _n(ctd.get("audio_tokens"))
            usage.cached_image_tokens = _n(ctd.get("image_tokens"))
        usage.explicit_cache = kind == "ephemeral"
    reported = get("cost")
    if reported is not None:
        usage.reported_cost = _reported(reported)
    if get("server_tool_use") or get("server_side_tool_usage_details") or get("citation_tokens") \
            or get("num_search_queries") or pd.get("web_search_requests") or pd.get("google_maps_grounding_requests") \
            or pd.get("query_count") or pd.get("character_count") or pd.get("image_count") \
            or breakdown.get("tool_usage_cost"):
        usage.unpriced_feature = _unpriced_feature(uo, pd, breakdown)
    if writes:
        ttl = pd.get("cache_creation_token_details") or get("cache_creation_token_details")
        if type(ttl) is dict:
            usage.cache_creation_1h_tokens = _n(ttl.get("ephemeral_1h_input_tokens"))
            usage.cache_creation_12h_tokens = _n(ttl.get("ephemeral_12h_input_tokens"))
            usage.cache_creation_short_tokens = _n(ttl.get("ephemeral_5m_input_tokens")) + _n(
                ttl.get("ephemeral_30m_input_tokens"))
    tier = get("service_tier") or metadata.get("service_tier") or breakdown.get("service_tier")
    if isinstance(tier, str):
        usage.service_tier = tier
    geo, speed = get("inference_geo"), get("speed")
    if isinstance(geo, str):
        usage.inference_geo = geo
    if isinstance(speed, str):
        usage.speed = speed
    return usage


def _unpriced_feature(uo: Mapping[str, Any], pd: Mapping[str, Any], breakdown: Mapping[str, Any]) -> str | None:
    """A charge LiteLLM adds to the token cost that costctl does not recompute, as the usage block
    (or the tool cost LiteLLM records beside it) shows it: web search and grounding calls, browser
    opens, Perplexity citations, per-query and per-character counts."""
    tools = uo.get("server_tool_use")
    if type(tools) is dict and any(_n(v) for v in tools.values() if not isinstance(v, bool)):
        return "built-in-tools"
    xai_tools = uo.get("server_side_tool_usage_details")
    if type(xai_tools) is dict and any(_n(v) for v in xai_tools.values() if not isinstance(v, bool)):
        return "built-in-tools"
    if _n(pd.get("web_search_requests")) or _n(pd.get("google_maps_grounding_requests")):
        return "grounding"
    if _n(uo.get("citation_tokens")) or _n(uo.get("num_search_queries")):
        return "perplexity-search"
    if _n(pd.get("query_count")) or _n(pd.get("character_count")) or _n(pd.get("image_count")):
        return "per-unit-usage"
    tool_cost = breakdown.get("tool_usage_cost")
    if isinstance(tool_cost, (int, float)) and not isinstance(tool_cost, bool) and tool_cost > 0:
        return "built-in-tools"
    return None


def _reported(value: Any) -> Decimal | None:
    """A provider's `usage.cost` as LiteLLM reads it (`_reported_cost_value`): a finite, non-negative
    JSON number, or a breakdown with one under `total_cost`; text is not a cost."""
    if type(value) is dict:
        value = value.get("total_cost")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return number if number.is_finite() and number >= 0 else None


def _field(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return value.strip() if type(value) is str else _text(value).strip()


def _is_probe(tags: Any) -> bool:
    if tags is None or PROBE_TAG not in (tags if isinstance(tags, str) else _text(tags)):
        return False
    try:
        return PROBE_TAG in _json_value(tags, "request_tags", list)
    except Skip:
        return False


def to_record(raw: Mapping[str, Any], file: str, line: int, need_time: bool = True) -> SpendRow:
    """A SpendRow, or Skip with the reason this row cannot be reconciled. With `need_time`
    False the timestamp is not read (nothing uses it), so it cannot make the row a skip."""
    request_id = _field(raw, "request_id")
    if not request_id:
        raise Skip("missing-request-id", "request_id is empty")
    if _is_probe(raw.get("request_tags")):
        raise Skip(PROBE_SKIP, f"a costctl verify probe (request tag {PROBE_TAG}): a mocked request, not traffic")
    spend = parse_money(raw.get("spend"))
    prompt = parse_tokens(raw.get("prompt_tokens"), "prompt_tokens")
    completion = parse_tokens(raw.get("completion_tokens"), "completion_tokens")
    metadata = _json_value(raw.get("metadata"), "metadata", dict)
    breakdown = metadata.get("cost_breakdown")
    if type(breakdown) is not dict:
        breakdown = _EMPTY
    location, residency = breakdown.get("vertex_location"), breakdown.get("data_residency")
    cache_hit = raw.get("cache_hit")
    return SpendRow(
        request_id=request_id,
        file=file,
        line=line,
        start_time=parse_time(raw.get("startTime")) if need_time else None,
        model_id=_field(raw, "model_id"),
        model_group=_field(raw, "model_group"),
        model=_field(raw, "model"),
        provider=_field(raw, "custom_llm_provider"),
        spend=spend,
        usage=_with_time(usage_of(prompt, completion, metadata, breakdown), raw),
        cache_hit=cache_hit is True or (cache_hit is not None and _text(cache_hit).strip().lower() == "true"),
        failed=_field(raw, "status").lower() == "failure",
        api_key=_text(raw.get("api_key")),
        user=_text(raw.get("user")),
        team_id=_text(raw.get("team_id")),
        raw_tags=raw.get("request_tags"),
        vertex_location=location if isinstance(location, str) else None,
        data_residency=residency if isinstance(residency, str) else None,
    )


def _with_time(usage: Usage, raw: Mapping[str, Any]) -> Usage:
    # parsed only by prices that depend on them (off-peak windows, per-second prices)
    usage.billed_at, usage.started_at = raw.get("endTime"), raw.get("startTime")
    first = raw.get("completionStartTime")
    if first not in (None, "") and usage.billed_at not in (None, ""):
        usage.streamed = first != usage.billed_at  # LiteLLM sets it to endTime for a whole response
    return usage


def tags_of(row: SpendRow) -> tuple[str, ...]:
    """The row's request_tags (raises Skip when they are not a JSON list)."""
    return tuple(str(t) for t in _json_value(row.raw_tags, "request_tags", list))
