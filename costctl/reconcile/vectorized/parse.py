"""How a raw spend-log row becomes a parsed row in SQL, exactly as the reference's
`to_record` would parse it, or is left to that reference code (the row is not "fast").

The metadata's usage block is read by one json_extract of every path `record.usage_of` reads;
counts must be plain JSON integers and strings free of escapes for the SQL to take the row.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from costctl.reconcile import sql
from costctl.reconcile.vectorized.limits import Unsupported
from costctl.reconcile.vectorized.load import quote_text
from costctl.usage.record import PROBE_TAG, RARE_FIELDS, SpendRow

SPEND = r"[0-9]{1,14}(\.[0-9]{1,24})?|[0-9](\.[0-9]{1,16})?e-0?[1-8]"
TOKENS = "[0-9]{1,15}"
TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3}|\.[0-9]{6})?(Z|\+00:00)?"
# metadata paths the usage block is read from (record.usage_of)
_UO = "$.usage_object"
_PD = _UO + ".prompt_tokens_details"
_CD = _UO + ".completion_tokens_details"
_TTL = ("ephemeral_1h_input_tokens", "ephemeral_12h_input_tokens", "ephemeral_5m_input_tokens",
        "ephemeral_30m_input_tokens")
PATHS = {
    "pd_cached": _PD + ".cached_tokens", "uo_cached": _UO + ".cache_read_input_tokens",
    "pd_write": _PD + ".cache_write_tokens", "pd_creation": _PD + ".cache_creation_tokens",
    "uo_creation": _UO + ".cache_creation_input_tokens", "reasoning": _CD + ".reasoning_tokens",
    "audio_in": _PD + ".audio_tokens", "audio_out": _CD + ".audio_tokens",
    "pd_ttl": _PD + ".cache_creation_token_details", "uo_ttl": _UO + ".cache_creation_token_details",
    **{f"pd_{k}": f"{_PD}.cache_creation_token_details.{k}" for k in _TTL},
    **{f"uo_{k}": f"{_UO}.cache_creation_token_details.{k}" for k in _TTL},
    "uo_tier": _UO + ".service_tier", "meta_tier": "$.service_tier", "bd_tier": "$.cost_breakdown.service_tier",
    "vloc": "$.cost_breakdown.vertex_location", "resid": "$.cost_breakdown.data_residency",
}
# A row whose metadata gives one of the usage fields most logs leave out a value is parsed by the
# reference code (record.usage_of), so the scan does not extract them from every row.
RARE = '"(' + "|".join(RARE_FIELDS) + ')"\\s*:\\s*[^n\\s]'
INDEX = {name: i + 1 for i, name in enumerate(PATHS)}  # SQL lists are 1-based
TEXT_PATHS = ("uo_tier", "meta_tier", "bd_tier", "vloc", "resid")
INT_PATHS = [n for n in PATHS if n not in ("pd_ttl", "uo_ttl", *TEXT_PATHS)]
PARSED = ("rid VARCHAR, spend DECIMAL(38,24), pt BIGINT, ct BIGINT, cached BIGINT, writes BIGINT, w_short BIGINT, "
          "w1h BIGINT, w12h BIGINT, reasoning BIGINT, audio_in BIGINT, audio_out BIGINT, tier VARCHAR, "
          "vloc VARCHAR, resid VARCHAR, hit BOOLEAN, failed BOOLEAN, mid VARCHAR, mg VARCHAR, mdl VARCHAR, "
          "prov VARCHAR, akey VARCHAR, usr VARCHAR, team VARCHAR, tags VARCHAR, ts TIMESTAMP")
# request_tags the SQL reads as the reference does (record.tags_of): a JSON list of strings
# without escapes or control characters (kept as that JSON text), or no tags at all ('' kept)
_WS = r"[ \t\n\r]*"
_STRING = r'"[^"\\\x00-\x1f]*"'
TAG_LIST = rf"{_WS}\[{_WS}{_STRING}({_WS},{_WS}{_STRING})*{_WS}\]{_WS}"
NO_TAGS = rf"|\{{\}}|{_WS}(null|\[{_WS}\]){_WS}"
PARSED_NAMES = tuple(part.split()[0] for part in PARSED.split(", "))
# Columns only the reference-parsed rows carry (the scan sends rows with these fields there: RARE)
RARE_COLUMNS = (*sql.MODALITY_COLUMNS, "geo", "speed")
RARE_PARSED = ", ".join(f"{c} {'VARCHAR' if c in ('geo', 'speed') else 'BIGINT'}" for c in RARE_COLUMNS)



def writes_of(n: Callable[[str], str]) -> str:
    """SQL: the cache-write count, as record.usage_of reads it (`n(path name)`: a count, 0 if absent)."""
    return f"coalesce(nullif({n('pd_write')}, 0), nullif({n('pd_creation')}, 0), {n('uo_creation')})"


def usage_columns(n: Callable[[str], str], text: Callable[[str], str], use_pd: str, writes: str) -> dict[str, str]:
    """record.usage_of, term by term, in any dialect: the parsed columns taken from the usage
    block, given the dialect's `n(path name)` (a count, 0 if absent), `text(path name)` (a
    string, NULL if absent), `use_pd` (the TTL counts come from prompt_tokens_details) and
    the cache-write count `writes`."""
    def ttl(*keys: str) -> str:  # cache-write lifetimes count only when there are writes
        pd = " + ".join(n(f"pd_{k}") for k in keys)
        uo = " + ".join(n(f"uo_{k}") for k in keys)
        return f"CASE WHEN ({writes}) = 0 THEN 0 WHEN {use_pd} THEN {pd} ELSE {uo} END"

    return {
        "cached": f"coalesce(nullif({n('pd_cached')}, 0), {n('uo_cached')})",
        "writes": writes,
        "w_short": ttl("ephemeral_5m_input_tokens", "ephemeral_30m_input_tokens"),
        "w1h": ttl("ephemeral_1h_input_tokens"),
        "w12h": ttl("ephemeral_12h_input_tokens"),
        "reasoning": n("reasoning"),
        "audio_in": n("audio_in"),
        "audio_out": n("audio_out"),
        "tier": (f"coalesce(CASE WHEN ({text('uo_tier')}) <> '' THEN {text('uo_tier')} WHEN ({text('meta_tier')}) "
                 f"<> '' THEN {text('meta_tier')} ELSE {text('bd_tier')} END, '')"),
        "vloc": f"coalesce({text('vloc')}, '')",
        "resid": f"coalesce({text('resid')}, '')",
    }


def paths_list() -> str:
    """SQL: the list of every usage path, for one json_extract."""
    return "[" + ", ".join(quote_text(p) for p in PATHS.values()) + "]"


def select(relation: str, f: dict[str, str], dialect: sql.Dialect, need_time: bool, group_by: tuple[str, ...]) -> str:
    """The fast flag, the parsed columns (PARSED) and the raw row (NULL if fast), from
    `relation` (aliased x) whose raw text expressions for each field are `f`; the row
    gets a timestamp only with `need_time`, and the api key, user, team and tags only when grouped by."""
    d = dialect
    meta0 = f["metadata"]
    meta_text = f"coalesce(x.__inner, {meta0})" if "mt" in f else meta0  # JSONL: a string's text unescaped
    if "mt" in f:  # JSONL: metadata already parsed with the line
        meta_empty, shape_ok, mt = f["meta_empty"], f["shape_ok"], f["mt"]
    else:
        # DuckDB's JSON reader accepts trailing commas, Python's does not: such text goes to Python
        meta_empty = f"({meta0} IS NULL OR {meta0} IN ('', '{{}}', '[]', 'null'))"
        shape_ok = f"({meta_empty} OR ({meta0} LIKE '{{%' AND NOT regexp_matches({meta0}, ',\\s*[}}\\]]')))"
        # one parse of the metadata: every value the usage block is read from, as JSON text
        # (the whole list is NULL when the text is not valid JSON)
        mt = f"CASE WHEN NOT {meta_empty} THEN TRY(json_extract({meta0}, {paths_list()}))::VARCHAR[] END"

    def raw(name: str) -> str:
        return f"x.__mt[{INDEX[name]}]"

    def n(name: str) -> str:
        return f"coalesce(TRY_CAST({raw(name)} AS BIGINT), 0)"

    def text(name: str) -> str:  # a JSON string's value (checked below: no escapes)
        return f"CASE WHEN {raw(name)} LIKE '\"%' THEN {raw(name)}[2:-2] END"

    # counts: JSON integers >= 0 (or null / absent); strings: no escapes; TTL blocks: objects
    ints_ok = (f"regexp_full_match(concat_ws(',', {', '.join(raw(p) for p in INT_PATHS)}), "
               f"'((null|{TOKENS})(,(null|{TOKENS}))*)?')")
    texts_ok = " AND ".join(f"coalesce({raw(p)} = 'null' OR regexp_full_match({raw(p)}, '\"[^\"\\\\]*\"'), true)"
                           for p in TEXT_PATHS)
    ttl_ok = " AND ".join(f"coalesce({raw(p)} = 'null' OR {raw(p)} LIKE '{{%', true)" for p in ("pd_ttl", "uo_ttl"))
    rid, spend = f["request_id"], f["spend"]
    ok = [f["row_ok"], f"regexp_full_match(coalesce({rid}, ''), '[!-~]+')",
          f"regexp_full_match(coalesce({spend}, ''), '{SPEND}')",
          f"regexp_full_match(coalesce({f['prompt_tokens']}, ''), '{TOKENS}')",
          f"regexp_full_match(coalesce({f['completion_tokens']}, ''), '{TOKENS}')",
          "x.__shape_ok", "(x.__meta_empty OR x.__mt IS NOT NULL)", ints_ok, texts_ok, ttl_ok,
          f"NOT regexp_matches(coalesce({meta_text}, ''), '{RARE}')",
          f"coalesce({f['request_tags']}, '') NOT LIKE '%{PROBE_TAG}%'"]  # verify probes: skipped by name
    ts = "NULL"
    if need_time:
        t = f["startTime"]
        ts_value = f"TRY_CAST(replace(regexp_replace({t}, '(Z|\\+00:00)$', ''), 'T', ' ') AS TIMESTAMP)"
        ok.append(f"(coalesce({t}, '') = '' OR (regexp_full_match({t}, '{TIMESTAMP}') AND {ts_value} IS NOT NULL))")
        ts = f"CASE WHEN regexp_full_match(coalesce({t}, ''), '{TIMESTAMP}') THEN {ts_value} END"
    use_pd = f"coalesce({raw('pd_ttl')} LIKE '{{%' AND {raw('pd_ttl')} <> '{{}}', false)"
    columns = {
        "rid": f"coalesce({rid}, '')",
        "spend": f"TRY_CAST({spend} AS {d.money})",
        "pt": f"TRY_CAST({f['prompt_tokens']} AS BIGINT)",
        "ct": f"TRY_CAST({f['completion_tokens']} AS BIGINT)",
        **usage_columns(n, text, use_pd, writes_of(n)),
        "hit": f"coalesce(regexp_full_match({f['cache_hit']}, '\\s*true\\s*', 'i'), false)",
        "failed": f"coalesce(regexp_full_match({f['status']}, '\\s*failure\\s*', 'i'), false)",
        "mid": f"coalesce({f['model_id']}, '')",
        "mg": f"coalesce({f['model_group']}, '')",
        "mdl": f"coalesce({f['model']}, '')",
        "prov": f"coalesce({f['custom_llm_provider']}, '')",
        # kept only when a --group-by needs them (they are much of a row's bytes)
        "akey": f"coalesce({f['api_key']}, '')" if "api_key" in group_by else "''",
        "usr": f"coalesce({f['user']}, '')" if "user" in group_by else "''",
        "team": f"coalesce({f['team_id']}, '')" if "team" in group_by else "''",
        "tags": "''",
        "ts": ts,
    }
    if "tag" in group_by:
        tags = f"coalesce({f['request_tags']}, '')"
        ok.append(f"({f.get('tags_ok', 'true')} AND (regexp_full_match({tags}, '{NO_TAGS}') OR "
                  f"regexp_full_match({tags}, '{TAG_LIST}')))")
        columns["tags"] = f"CASE WHEN regexp_full_match({tags}, '{NO_TAGS}') THEN '' ELSE {tags} END"
    fast = " AND ".join(f"coalesce({c}, false)" for c in ok)
    if "blank" in f:  # a blank JSONL line: a row of r (it takes a line) but not an input row
        fast = f"CASE WHEN {f['blank']} THEN NULL ELSE {fast} END"
    named = ", ".join(f"{columns[name]} AS {name}" for name in PARSED_NAMES)
    return (f"SELECT __fast, {named}, CASE WHEN __fast THEN NULL ELSE {f['raw']} END AS raw FROM ("
            f"SELECT x.*, {fast} AS __fast FROM ("
            f"SELECT x.*, {mt} AS __mt, {meta_empty} AS __meta_empty, {shape_ok} AS __shape_ok "
            f"FROM ({relation}) x) x) x")


def columns_of(row: SpendRow, dialect: sql.Dialect, tags: str = "") -> tuple[Any, ...]:
    """A reference-parsed row as a row of the table s (PARSED, then RARE_COLUMNS); `tags`: its
    request tags as a JSON list ('' for none)."""
    spend = row.spend
    if abs(spend) >= Decimal("1e13") or spend != spend.quantize(Decimal(1).scaleb(-dialect.scale)):
        raise Unsupported(f"{row.file}:{row.line}: spend {spend} has more digits than DECIMAL(38,24)")
    u = row.usage
    if u.reported_cost is not None:
        raise Unsupported(f"{row.file}:{row.line}: a provider-reported cost (usage.cost)")
    if u.explicit_cache and u.cached_tokens:
        raise Unsupported(f"{row.file}:{row.line}: cached reads of an explicit cache")
    ts = row.start_time.replace(tzinfo=None) if row.start_time is not None else None
    return (row.request_id, spend, u.prompt_tokens, u.completion_tokens, u.cached_tokens,
            u.cache_creation_tokens, u.cache_creation_short_tokens, u.cache_creation_1h_tokens,
            u.cache_creation_12h_tokens, u.reasoning_tokens, u.audio_input_tokens, u.audio_output_tokens,
            u.service_tier or "", row.vertex_location or "", row.data_residency or "", row.cache_hit, row.failed,
            row.model_id, row.model_group, row.model, row.provider, row.api_key, row.user, row.team_id, tags, ts,
            u.text_input_tokens, u.image_input_tokens, u.video_input_tokens, u.cached_text_tokens,
            u.cached_audio_tokens, u.cached_image_tokens, u.text_output_tokens, u.image_output_tokens,
            u.video_output_tokens, u.inference_geo or "", u.speed or "")
