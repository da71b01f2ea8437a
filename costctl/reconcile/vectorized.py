"""The vectorized reconcile engine: DuckDB reads the logs and prices every row in SQL.

Same result as the reference engine (engine.py), which stays the definition of correct:

1. Each log is scanned once, in parallel, into a table of parsed rows kept in file order (an
   ordered INSERT: rowid = position, which gives lines, first occurrences and tie-breaks). A row
   whose values all have the plain shapes the SQL parses exactly (digits for tokens, a decimal
   for spend, JSON integers in the usage block, ...) is parsed there; any other row keeps its raw
   text and is handed to the reference code (`to_record`), which skips it with its reason or
   parses it. Those rows are rare, so the reference's rules for bad input apply unchanged.
2. The distinct (model_id, model_group, model, provider) keys are joined to deployments in Python
   by the reference `Pricer`; for each priced plan, service tier, location and residency, the rates
   of every prompt-size interval where context tiers or tier tables change them go in a price
   table, already multiplied by uplift and discount.
3. One aggregate pass prices each row (sql.py: the formula and the causes) and sums it per group
   and cause, keeping each mismatched row on its own. Money is DECIMAL(38,24) throughout: sums are
   exact, like the reference's Decimal sums (which use 60 digits).

Anything this engine cannot reproduce exactly raises `Unsupported` before a result is produced,
and `--engine auto` then runs the reference engine instead.

One known difference, not detected: a JSON object that repeats a key (`{"spend": 1, "spend": 2}`,
in a JSONL line or in `metadata`) is read with the first value here and the last by Python's json
(the reference). JSON writers (LiteLLM's included) never repeat a key; checking every object for
repeats would cost a parse per object per row.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from costctl.errors import CostctlError
from costctl.pricing import Usage, tier_thresholds
from costctl.reconcile import sql
from costctl.reconcile.engine import SKIP_EXAMPLES, Group, Mismatch, Options, Outcome, Totals
from costctl.reconcile.pricer import Priced, Pricer, ResponseModelUnknown
from costctl.usage.readers import Source, check_columns, read_rows, renamer
from costctl.usage.record import FIELDS, PROBE_TAG, RARE_FIELDS, Skip, SpendRow, to_record

FORMATS = ("csv", "jsonl", "parquet")
MEMORY_LIMIT = os.environ.get("COSTCTL_DUCKDB_MEMORY", "500MB")  # beyond it DuckDB spills to a temp folder
SPEND = r"[0-9]{1,14}(\.[0-9]{1,24})?|[0-9](\.[0-9]{1,16})?e-0?[1-8]"
TOKENS = "[0-9]{1,15}"
TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3}|\.[0-9]{6})?(Z|\+00:00)?"
RATE_KEYS = ", ".join(f"v.{k}" for k in sql.RATE_KEYS)
AZURE_DETAIL = ("{} has no base_model: LiteLLM priced it by the model Azure returned, which the log's model "
                "column does not record; set model_info.base_model")

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
_INDEX = {name: i + 1 for i, name in enumerate(PATHS)}  # SQL lists are 1-based
TEXT_PATHS = ("uo_tier", "meta_tier", "bd_tier", "vloc", "resid")
INT_PATHS = [n for n in PATHS if n not in ("pd_ttl", "uo_ttl", *TEXT_PATHS)]
PARSED = ("rid VARCHAR, spend DECIMAL(38,24), pt BIGINT, ct BIGINT, cached BIGINT, writes BIGINT, w_short BIGINT, "
          "w1h BIGINT, w12h BIGINT, reasoning BIGINT, audio_in BIGINT, audio_out BIGINT, tier VARCHAR, "
          "vloc VARCHAR, resid VARCHAR, hit BOOLEAN, failed BOOLEAN, mid VARCHAR, mg VARCHAR, mdl VARCHAR, "
          "prov VARCHAR, akey VARCHAR, usr VARCHAR, team VARCHAR, ts TIMESTAMP")
PARSED_NAMES = tuple(part.split()[0] for part in PARSED.split(", "))
# Columns only the reference-parsed rows carry (the scan sends rows with these fields there: RARE)
RARE_COLUMNS = (*sql.MODALITY_COLUMNS, "geo", "speed")
RARE_PARSED = ", ".join(f"{c} {'VARCHAR' if c in ('geo', 'speed') else 'BIGINT'}" for c in RARE_COLUMNS)

T = TypeVar("T")


class Unsupported(Exception):
    """The vectorized engine cannot reproduce the reference result for this input."""


def available() -> bool:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


def unsupported_reason(sources: list[Source], options: Options) -> str | None:
    """Why these inputs need the reference engine, or None."""
    for source in sources:
        if source.size is None:
            return f"{source.name} is a stream (stdin or a pipe)"
        if source.format not in FORMATS:
            return f"{source.name} is {source.format.upper()} (the vectorized engine reads CSV, JSONL and Parquet)"
    if "tag" in options.group_by:
        return "--group-by tag"
    if options.tolerance_pct > 100 or options.tolerance_pct < 0 or options.tolerance_usd < 0:
        return "a tolerance outside 0..100 %"
    return None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _s(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class VectorizedReconciler:
    """Reconciles whole sources at once; `run` returns the reference engine's Outcome."""

    def __init__(self, pricer: Pricer, options: Options, on_mismatch: Callable[[Mismatch], None] | None = None,
                 dialect: sql.Dialect = sql.DUCKDB) -> None:
        self.pricer = pricer
        self.options = options
        self.on_mismatch = on_mismatch
        self.dialect = dialect
        self.need_time = options.since is not None or options.until is not None or "day" in options.group_by
        self.window = options.since is not None or options.until is not None
        self.totals = Totals()
        self.skips: list[tuple[int, int, str, str]] = []  # (source index, line, reason, detail), first ones
        self._lines: dict[int, Callable[[int], int]] = {}  # source index -> ordinal -> line
        self.sources: list[Source] = []
        self._offsets: dict[int, int] = {}  # source index -> rowid of its first row in r
        self._tmp = ""
        self._plan_ids: dict[int, int] = {}  # id(Priced) -> pid
        self._plans: dict[int, Priced] = {}

    # -- driving ---------------------------------------------------------------------------

    def run(self, sources: list[Source], mapping: dict[str, str] | None,
            on_read: Callable[[int, int], None] | None = None) -> Outcome:
        return self.with_rows(sources, mapping, on_read, self._reconcile)

    def with_rows(self, sources: list[Source], mapping: dict[str, str] | None,
                  on_read: Callable[[int, int], None] | None, finish: Callable[[Any], T]) -> T:
        """Scan `sources` into the parsed-row tables, then return `finish(connection)`."""
        reason = unsupported_reason(sources, self.options)
        if reason:
            raise Unsupported(reason)
        import duckdb

        major = int(duckdb.__version__.split(".")[0])
        if major < 2 and any(s.gzipped for s in sources):
            # DuckDB 1.x reads a truncated gzip file without an error: a partial result
            raise Unsupported("gzip input needs DuckDB 2 or later (1.x does not report a truncated file)")
        self.sources = sources
        tmp = self._tmp = tempfile.mkdtemp(prefix="costctl-duckdb-")
        con = duckdb.connect(":memory:", config={"temp_directory": tmp, "memory_limit": MEMORY_LIMIT,
                                                 "preserve_insertion_order": True})
        # progress is tracked (for query_progress) but never printed by DuckDB itself
        con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
        try:
            # r: one row per input row, in file order (rowid = order read; fast is NULL for a blank line)
            con.execute(f"CREATE TABLE r0 (src INTEGER, fast BOOLEAN, {PARSED}, raw VARCHAR)")
            con.execute("CREATE VIEW r AS SELECT rowid AS ord, * FROM r0")
            con.execute(f"CREATE TABLE s (src INTEGER, ord BIGINT, {PARSED}, {RARE_PARSED})")
            for index, source in enumerate(sources, start=1):
                self._scan(con, index, source, mapping or {}, on_read)
                self._slow_rows(con, index, source, mapping or {})
            return finish(con)
        except duckdb.Error as exc:
            raise Unsupported(str(exc).splitlines()[0]) from None
        finally:
            con.close()
            shutil.rmtree(tmp, ignore_errors=True)

    def _skip(self, src: int, line: int, reason: str, detail: str) -> None:
        t = self.totals
        t.rows_skipped += 1
        t.skipped_by_reason[reason] = t.skipped_by_reason.get(reason, 0) + 1
        self.skips.append((src, line, reason, detail))
        if len(self.skips) > 4 * SKIP_EXAMPLES:
            self.skips = sorted(self.skips)[:SKIP_EXAMPLES]

    # -- 1. scanning -----------------------------------------------------------------------

    def _scan(self, con: Any, index: int, source: Source, mapping: dict[str, str],
              on_read: Callable[[int, int], None] | None) -> None:
        if source.format == "csv":
            relation, fields = self._csv(con, index, source, mapping)
        elif source.format == "jsonl":
            relation, fields = self._jsonl(index, source, mapping)
        else:
            relation, fields = self._parquet(con, index, source, mapping)
        offset = con.execute("SELECT count(*) FROM r0").fetchone()[0]
        query = f"INSERT INTO r0 SELECT {index}, * FROM ({self._select(relation, fields)})"
        self._execute_with_progress(con, query, source, on_read)
        if source.format == "csv":
            self._rejects(con, index, source, offset)
        else:  # JSONL: blank lines are rows of r too, so line = ordinal; Parquet: the row number
            self._lines[index] = lambda ord: ord - offset + 1
        self._offsets[index] = offset

    def _execute_with_progress(self, con: Any, query: str, source: Source,
                               on_read: Callable[[int, int], None] | None) -> None:
        if on_read is None or not source.size:
            con.execute(query)
            return
        failure: list[BaseException] = []

        def work() -> None:
            try:
                con.execute(query)
            except BaseException as exc:  # re-raised in the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        reported = 0
        while worker.is_alive():
            worker.join(0.2)
            try:
                done = con.query_progress()
            except Exception:  # noqa: BLE001 - progress is best effort
                done = -1
            if done and done > 0:
                now = int(source.size * min(done, 100) / 100)
                if now > reported:
                    on_read(now - reported, self.totals.rows_read)
                    reported = now
        if failure:
            raise failure[0]
        if source.size > reported:
            on_read(source.size - reported, self.totals.rows_read)

    def _csv(self, con: Any, index: int, source: Source, mapping: dict[str, str]) -> tuple[str, dict[str, str]]:
        _reference_checks(source, mapping)
        with source.open_bytes() as raw:
            first = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="").readline()
        try:
            header = next(csv.reader([first]), None)
        except csv.Error:
            header = None
        if header is None or first.count('"') % 2:
            raise Unsupported("the CSV header row is empty or spans lines")
        if any("\x00" in h for h in header):
            raise CostctlError("binary data, not a CSV spend log", source.name, 1)
        header = [h.strip() for h in header]
        check_columns(header, source, mapping)
        if len(set(header)) != len(header):
            raise Unsupported("the CSV header repeats a column name")
        columns = "{" + ", ".join(f"{_s(h)}: 'VARCHAR'" for h in header) + "}"
        self._width = len(header)
        relation = (f"SELECT * FROM read_csv({_s(source.name)}, header=true, auto_detect=false, "
                    f"columns={columns}, delim=',', quote='\"', escape='\"', store_rejects=true, "
                    f"rejects_table='rejects_{index}', rejects_scan='scans_{index}', "
                    f"compression={_s('gzip' if source.gzipped else 'none')}, encoding='utf-8')")
        fields = {}
        for field in FIELDS:
            column = mapping.get(field)
            name = column if column in header else field if field in header else None
            fields[field] = f"x.{_q(name)}" if name is not None else "NULL"
        fields["raw"] = "to_json({" + ", ".join(f"{_s(f)}: {fields[f]}" for f in FIELDS) + "})"
        fields["row_ok"] = "true"
        return relation, fields

    def _rejects(self, con: Any, index: int, source: Source, offset: int) -> None:
        """Rows DuckDB's CSV reader refused. Python's csv module (the reference reader) decides:
        a wrong number of fields is a malformed-row skip; anything else is beyond this engine."""
        rows = con.execute(f"SELECT DISTINCT line, error_type, csv_line FROM rejects_{index} ORDER BY line").fetchall()
        lines = []
        for line, error_type, text in rows:
            if error_type not in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
                raise Unsupported(f"{source.name}:{line}: {error_type.lower()}")
            try:
                values = next(csv.reader([text.lstrip("\r\n")]), [])
            except csv.Error:
                raise Unsupported(f"{source.name}:{line}: unparsable row") from None
            if len(values) == self._width:
                raise Unsupported(f"{source.name}:{line}: a row the CSV readers disagree on")
            lines.append(int(line))
            self.totals.rows_read += 1
            self._skip(index, int(line), "malformed-row", f"{len(values)} fields, header has {self._width}")
        in_file = _csv_lines(lines)
        self._lines[index] = lambda ord: in_file(ord - offset)

    def _jsonl(self, index: int, source: Source, mapping: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Each line is parsed once: one json_extract gives the JSON text of every field and of
        every usage path inside an object `metadata` (a string `metadata` is parsed again, alone)."""
        _reference_checks(source, mapping)
        lines = (f"SELECT __j FROM read_csv({_s(source.name)}, header=false, auto_detect=false, "
                 f"columns={{'__j': 'VARCHAR'}}, delim='\\x01', quote='', escape='', "
                 f"compression={_s('gzip' if source.gzipped else 'none')}, encoding='utf-8')")
        renamed = {field: mapping.get(field, field) for field in FIELDS}
        paths = [f"$.{json.dumps(renamed[f])}" for f in FIELDS]
        meta_path = paths[FIELDS.index("metadata")]
        listed = "[" + ", ".join(_s(p) for p in paths + [meta_path + p[1:] for p in PATHS.values()]) + "]"

        def v(field: str) -> str:
            return f"x.__v[{FIELDS.index(field) + 1}]"

        meta = v("metadata")
        # DuckDB's JSON reader accepts trailing commas, Python's does not: such lines go to Python
        bare = meta.replace("x.", "")
        relation = (f"SELECT __j, __v, CASE WHEN {bare} LIKE '\"%' THEN json_extract_string({bare}, '$') END "
                    f"AS __inner FROM ("
                    f"SELECT __j, CASE WHEN __j LIKE '{{%' AND NOT regexp_matches(__j, ',\\s*[}}\\]]') "
                    f"THEN TRY(json_extract(__j, {listed}))::VARCHAR[] END AS __v FROM ({lines}))")
        # a field's value as the reference reads it: a string's content (strings with escapes are
        # refused below), a number's or boolean's text; JSON null is NULL
        fields = {f: f"CASE WHEN {v(f)} LIKE '\"%' THEN {v(f)}[2:-2] WHEN {v(f)} <> 'null' THEN {v(f)} END"
                  for f in FIELDS}
        # the JSON kinds each field may have for the SQL to read it as the reference does, in one match
        kinds = {"request_id": "si", "spend": "sin", "prompt_tokens": "si", "completion_tokens": "si",
                 "cache_hit": "sb", "startTime": "s", **{f: "si" for f in ("model_id", "model_group", "model",
                                                                          "custom_llm_provider", "status", "api_key",
                                                                          "user", "team_id")}}
        regex = {"s": '"[^"\\\\]*"', "i": "-?[0-9]+", "n": "-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?",
                 "b": "true|false"}
        pattern = "\\x01".join("(null|" + "|".join(regex[k] for k in ks) + ")" for ks in kinds.values())
        values = ", ".join(f"coalesce({v(f)}, 'null')" for f in kinds)
        fields["row_ok"] = f"(x.__v IS NOT NULL AND regexp_full_match(concat_ws(chr(1), {values}), '{pattern}'))"
        fields["raw"] = "x.__j"
        fields["blank"] = "(x.__j IS NULL OR trim(x.__j) = '')"
        # metadata: an object's usage paths come from the same parse; a string is parsed alone
        n = len(FIELDS)
        fields["meta_empty"] = f"({meta} IS NULL OR {meta} = 'null' OR {meta} IN ('\"\"', '\"{{}}\"', '\"[]\"', '\"null\"'))"
        fields["shape_ok"] = (f"({fields['meta_empty']} OR {meta} LIKE '{{%' OR (x.__inner LIKE '{{%' AND "
                              f"NOT regexp_matches(x.__inner, ',\\s*[}}\\]]')))")
        fields["mt"] = (f"CASE WHEN {meta} LIKE '{{%' THEN x.__v[{n + 1}:{n + len(PATHS)}] "
                        f"WHEN x.__inner LIKE '{{%' THEN TRY(json_extract(x.__inner, {_paths_list()}))::VARCHAR[] END")
        return relation, fields

    def _parquet(self, con: Any, index: int, source: Source, mapping: dict[str, str]) -> tuple[str, dict[str, str]]:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_s(source.name)})").fetchall()
        types = {row[0]: row[1] for row in described}
        check_columns(list(types), source, mapping)
        fields = {}
        for field in FIELDS:
            column = mapping.get(field)
            name = column if column in types else field if field in types else None
            if name is None:
                fields[field] = "NULL"
            elif types[name] in ("VARCHAR", "JSON") or types[name].startswith(("DECIMAL", "BIGINT", "INTEGER",
                                                                               "UBIGINT", "SMALLINT", "BOOLEAN",
                                                                               "DOUBLE", "TIMESTAMP")):
                fields[field] = f"CAST(x.{_q(name)} AS VARCHAR)"
            elif field in ("metadata", "request_tags"):
                fields[field] = f"CAST(to_json(x.{_q(name)}) AS VARCHAR)"
            else:
                raise Unsupported(f"{source.name}: column {name} is {types[name]}")
        fields["raw"] = "NULL"  # slow Parquet rows are read again with their native values
        fields["row_ok"] = "true"
        self._parquet_fields = {f: (mapping.get(f) if mapping.get(f) in types else f) for f in FIELDS}
        return f"SELECT * FROM read_parquet({_s(source.name)})", fields

    def _select(self, relation: str, f: dict[str, str]) -> str:
        """The fast flag, the parsed columns (PARSED) and the raw row (NULL if fast), from
        `relation` (aliased x) whose raw text expressions for each field are `f`."""
        d = self.dialect
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
            mt = f"CASE WHEN NOT {meta_empty} THEN TRY(json_extract({meta0}, {_paths_list()}))::VARCHAR[] END"

        def raw(name: str) -> str:
            return f"x.__mt[{_INDEX[name]}]"

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
        if self.need_time:
            t = f["startTime"]
            ts_value = f"TRY_CAST(replace(regexp_replace({t}, '(Z|\\+00:00)$', ''), 'T', ' ') AS TIMESTAMP)"
            ok.append(f"(coalesce({t}, '') = '' OR (regexp_full_match({t}, '{TIMESTAMP}') AND {ts_value} IS NOT NULL))")
            ts = f"CASE WHEN regexp_full_match(coalesce({t}, ''), '{TIMESTAMP}') THEN {ts_value} END"
        # record.usage_of, term by term
        writes = f"coalesce(nullif({n('pd_write')}, 0), nullif({n('pd_creation')}, 0), {n('uo_creation')})"
        use_pd = f"coalesce({raw('pd_ttl')} LIKE '{{%' AND {raw('pd_ttl')} <> '{{}}', false)"

        def ttl(*keys: str) -> str:  # cache-write lifetimes count only when there are writes
            pd = " + ".join(n(f"pd_{k}") for k in keys)
            uo = " + ".join(n(f"uo_{k}") for k in keys)
            return f"CASE WHEN ({writes}) = 0 THEN 0 WHEN {use_pd} THEN {pd} ELSE {uo} END"

        columns = {
            "rid": f"coalesce({rid}, '')",
            "spend": f"TRY_CAST({spend} AS {d.money})",
            "pt": f"TRY_CAST({f['prompt_tokens']} AS BIGINT)",
            "ct": f"TRY_CAST({f['completion_tokens']} AS BIGINT)",
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
            "hit": f"coalesce(regexp_full_match({f['cache_hit']}, '\\s*true\\s*', 'i'), false)",
            "failed": f"coalesce(regexp_full_match({f['status']}, '\\s*failure\\s*', 'i'), false)",
            "mid": f"coalesce({f['model_id']}, '')",
            "mg": f"coalesce({f['model_group']}, '')",
            "mdl": f"coalesce({f['model']}, '')",
            "prov": f"coalesce({f['custom_llm_provider']}, '')",
            # kept only when a --group-by needs them (they are much of a row's bytes)
            "akey": f"coalesce({f['api_key']}, '')" if "api_key" in self.options.group_by else "''",
            "usr": f"coalesce({f['user']}, '')" if "user" in self.options.group_by else "''",
            "team": f"coalesce({f['team_id']}, '')" if "team" in self.options.group_by else "''",
            "ts": ts,
        }
        fast = " AND ".join(f"coalesce({c}, false)" for c in ok)
        if "blank" in f:  # a blank JSONL line: a row of r (it takes a line) but not an input row
            fast = f"CASE WHEN {f['blank']} THEN NULL ELSE {fast} END"
        named = ", ".join(f"{columns[name]} AS {name}" for name in PARSED_NAMES)
        return (f"SELECT __fast, {named}, CASE WHEN __fast THEN NULL ELSE {f['raw']} END AS raw FROM ("
                f"SELECT x.*, {fast} AS __fast FROM ("
                f"SELECT x.*, {mt} AS __mt, {meta_empty} AS __meta_empty, {shape_ok} AS __shape_ok "
                f"FROM ({relation}) x) x) x")

    # -- 2. rows the SQL does not parse: the reference decides ------------------------------

    def _slow_rows(self, con: Any, index: int, source: Source, mapping: dict[str, str]) -> None:
        counted = con.execute("SELECT count(fast), count(*) FILTER (WHERE NOT fast) FROM r0 WHERE src = ?",
                              [index]).fetchone()
        self.totals.rows_read += counted[0]
        if not counted[1]:
            return
        reader = con.cursor()
        if source.format == "parquet":
            cursor = reader.execute(
                f"SELECT p.* FROM read_parquet({_s(source.name)}, file_row_number=true) p WHERE p.file_row_number "
                f"IN (SELECT ord - {self._offsets[index]} FROM r WHERE src = {index} AND NOT fast) "
                f"ORDER BY p.file_row_number")
            names = [d[0] for d in cursor.description]
            rename = renamer(mapping)

            def raw_rows() -> Iterable[tuple[int, Any]]:
                while batch := cursor.fetchmany(4096):
                    for values in batch:
                        row = dict(zip(names, values, strict=True))
                        yield row.pop("file_row_number") + self._offsets[index], rename(row)
        else:
            cursor = reader.execute("SELECT ord, raw FROM r WHERE src = ? AND NOT fast ORDER BY ord", [index])

            def raw_rows() -> Iterable[tuple[int, Any]]:
                while batch := cursor.fetchmany(4096):
                    yield from batch
        line_of = self._lines[index]
        batch_rows: list[tuple[Any, ...]] = []
        for ord, raw in raw_rows():
            line = line_of(ord)
            try:
                row = to_record(self._raw(source, raw, line, mapping), source.name, line, self.need_time)
                self._check_window(row)
            except Skip as skip:
                self._skip(index, line, skip.reason, skip.detail)
                continue
            batch_rows.append((index, ord, *self._columns(row)))
            if len(batch_rows) >= 50_000:
                load_rows(con, "s", batch_rows, self._tmp)
                batch_rows = []
        load_rows(con, "s", batch_rows, self._tmp)
        reader.close()

    def _raw(self, source: Source, raw: Any, line: int, mapping: dict[str, str]) -> Any:
        """The raw row exactly as the reference reader would yield it."""
        if source.format == "parquet":
            return raw
        if source.format == "csv":  # the fields as text; DuckDB's NULL is an empty field
            return {k: "" if v is None else v for k, v in json.loads(raw).items()}
        try:
            value = json.loads(raw)
        except ValueError:
            if "\x00" in raw:
                raise CostctlError("binary data, not a JSONL spend log", source.name, line) from None
            raise Skip("bad-json-line", "not valid JSON") from None
        if not isinstance(value, dict):
            raise Skip("bad-json-line", "not a JSON object")
        return renamer(mapping)(value)

    def _check_window(self, row: SpendRow) -> None:
        opts = self.options
        if not self.window:
            return
        if row.start_time is None:
            raise Skip("missing-timestamp", "startTime is empty but --since/--until is set")
        if (opts.since and row.start_time < opts.since) or (opts.until and row.start_time >= opts.until):
            raise Skip("outside-window", "startTime outside --since/--until")

    def _columns(self, row: SpendRow) -> tuple[Any, ...]:
        spend = row.spend
        if abs(spend) >= Decimal("1e13") or spend != spend.quantize(Decimal(1).scaleb(-self.dialect.scale)):
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
                row.model_id, row.model_group, row.model, row.provider, row.api_key, row.user, row.team_id, ts,
                u.text_input_tokens, u.image_input_tokens, u.video_input_tokens, u.cached_text_tokens,
                u.cached_audio_tokens, u.cached_image_tokens, u.text_output_tokens, u.image_output_tokens,
                u.video_output_tokens, u.inference_geo or "", u.speed or "")

    # -- 3. pricing and totals -------------------------------------------------------------

    def _reconcile(self, con: Any) -> Outcome:
        opts = self.options
        self.rows_to_price(con)
        self._price_tables(con)
        self._sql_skips(con, "SELECT v.src, v.ord, k.azure FROM v JOIN k USING (mid, mg, mdl, prov) "
                        "WHERE k.azure IS NOT NULL", "azure-response-model-unknown",
                        lambda row: AZURE_DETAIL.format(row[2]))
        d = self.dialect
        tol = sql.Tolerance.of(opts.tolerance_usd, opts.tolerance_pct)
        skip = self.skip_terms
        # j: every reconciled row with its expected cost and cause (a view: computed while read)
        con.execute("CREATE VIEW j AS " + sql.priced_rows(d, tol, skip))
        # one pass over j, nothing row-sized kept but the mismatches: sums per (group, cause,
        # unpriced), from which totals, causes and groups follow exactly, and each mismatched row
        # as a group of its own (keyed by its position)
        con.execute("CREATE TABLE agg AS " + sql.aggregate(d, opts.group_by))
        con.execute("CREATE VIEW mm AS SELECT msrc AS src, mord AS ord, rid, mm_group, deployment, mm_model, pt, ct, "
                    "rec AS spend, exp AS expected, cause FROM agg WHERE mord IS NOT NULL")
        return self._outcome(con)

    def rows_to_price(self, con: Any) -> None:
        """View v: the parsed rows inside the window, without repeated request_ids (each skip
        counted with its reason)."""
        opts, t = self.options, self.totals
        window = "true"
        if self.window:
            conditions = []
            if opts.since is not None:
                conditions.append(f"ts >= TIMESTAMP '{_naive(opts.since)}'")
            if opts.until is not None:
                conditions.append(f"ts < TIMESTAMP '{_naive(opts.until)}'")
            window = "(" + " AND ".join(conditions) + ")"
            self._sql_skips(con, "SELECT src, ord FROM r WHERE fast AND ts IS NULL", "missing-timestamp",
                            lambda _row: "startTime is empty but --since/--until is set")
            self._sql_skips(con, f"SELECT src, ord FROM r WHERE fast AND ts IS NOT NULL AND NOT {window}",
                            "outside-window", lambda _row: "startTime outside --since/--until")
            window = f"ts IS NOT NULL AND {window}"
        names = ", ".join(PARSED_NAMES)
        plain = ", ".join(("''" if c in ("geo", "speed") else "0") + f" AS {c}" for c in RARE_COLUMNS)
        con.execute("CREATE VIEW v0 AS " + sql.billed(
            f"SELECT src, ord, {names}, {plain} FROM r WHERE fast AND {window} "
            f"UNION ALL SELECT src, ord, {names}, {', '.join(RARE_COLUMNS)} FROM s"))
        # 8-byte hashes find the candidates (a hash table of every request_id would be ~10x larger);
        # the exact comparison then runs on those rows only
        candidates = con.execute("SELECT count(*) FROM (SELECT hash(rid) FROM v0 GROUP BY ALL HAVING count(*) > 1)"
                                 ).fetchone()[0]  # a GROUP BY can spill to disk; a DISTINCT aggregate cannot
        if candidates:
            con.execute("CREATE TABLE dup AS SELECT src, ord, rid FROM (SELECT src, ord, rid, row_number() OVER "
                        "(PARTITION BY rid ORDER BY src, ord) AS n FROM v0 WHERE hash(rid) IN (SELECT hash(rid) "
                        "FROM v0 GROUP BY ALL HAVING count(*) > 1)) WHERE n > 1")
            t.duplicate_request_ids += self._sql_skips(con, "SELECT src, ord, rid FROM dup", "duplicate-request-id",
                                                       lambda row: f"request_id {row[2]} seen before")
            con.execute("CREATE VIEW v AS SELECT * FROM v0 ANTI JOIN dup USING (src, ord)")
        else:
            con.execute("CREATE VIEW v AS SELECT * FROM v0")

    def _sql_skips(self, con: Any, query: str, reason: str, detail: Callable[[tuple[Any, ...]], str]) -> int:
        """Count the rows `query` selects (src, ord, ...) as skipped for `reason`; keep the first ones."""
        n = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
        if not n:
            return 0
        t = self.totals
        t.rows_skipped += n
        t.skipped_by_reason[reason] = t.skipped_by_reason.get(reason, 0) + n
        for row in con.execute(f"SELECT * FROM ({query}) ORDER BY 1, 2 LIMIT {SKIP_EXAMPLES}").fetchall():
            self.skips.append((row[0], self._lines[row[0]](row[1]), reason, detail(row)))
        return int(n)

    def _price_tables(self, con: Any) -> None:
        """k: each distinct join key -> how it is priced (pid: deployments priced alike share one);
        t: the folded rates of each pid, service tier, location and prompt-size interval."""
        con.execute("CREATE TABLE k (mid VARCHAR, mg VARCHAR, mdl VARCHAR, prov VARCHAR, pid INTEGER, unknown BOOLEAN, "
                    "azure VARCHAR, unpriced BOOLEAN, has_default BOOLEAN, g_model_group VARCHAR, g_deployment VARCHAR, "
                    "g_model VARCHAR, g_provider VARCHAR, mm_group VARCHAR, mm_model VARCHAR)")
        reader = con.cursor()
        cursor = reader.execute("SELECT DISTINCT mid, mg, mdl, prov FROM v")
        while batch := cursor.fetchmany(20_000):  # a log of unknown model_ids has as many keys as rows
            k_rows = []
            for join_key in batch:
                model_id, group, model, provider = (value.strip() for value in join_key)
                azure = None
                try:
                    priced, unknown = self.pricer.join(model_id, group, model, provider)
                except ResponseModelUnknown as exc:
                    priced, unknown, azure = None, False, exc.args[0]
                p = priced
                pid = self.plan_id(priced) if priced is not None else 0
                k_rows.append((
                    *join_key, pid, unknown, azure,
                    bool(p and p.unpriced), bool(p and p.custom and p.default_entry is not None),
                    group or (p.model_group if p else "") or "(none)",
                    model_id or (p.key if p else ""),
                    model or "(none)",
                    provider or (p.provider if p else "") or "(none)",
                    group, model,
                ))
            load_rows(con, "k", k_rows, self._tmp)
        reader.close()
        self.rate_table(con, f"SELECT DISTINCT k.pid, {RATE_KEYS} FROM v JOIN k USING (mid, mg, mdl, prov) "
                             "WHERE k.pid > 0")

    def plan_id(self, priced: Priced) -> int:
        """The id (> 0) of the price table rows of `priced`; deployments priced alike share one."""
        pid = self._plan_ids.setdefault(id(priced), len(self._plan_ids) + 1)
        self._plans[pid] = priced
        return pid

    def rate_table(self, con: Any, keys: str) -> None:
        """t: the folded rates of each (pid, rate keys) that `keys` selects, per prompt-size interval."""
        t_rows: list[tuple[Any, ...]] = []
        for pid, *facts in con.execute(keys).fetchall():
            t_rows.extend((pid, *facts, *row) for row in self._intervals(self._plans[pid], *facts))
        # terms that cannot add to any row: a rate 0 in every plan, or modality counts no row has
        per_rate = len(sql.RATES)
        zero = {r for i, r in enumerate(sql.RATES)
                if all(row[len(sql.RATE_KEYS) + 3 + p * per_rate + i] == 0 for row in t_rows for p in range(len(sql.PLANS)))}
        has_modality = con.execute("SELECT " + " OR ".join(f"coalesce(bool_or({c} <> 0), false)"
                                                           for c in sql.MODALITY_COLUMNS)
                                   + " OR coalesce(bool_or(cached < 0), false) FROM s").fetchone()[0]  # the only rows with them
        self.skip_terms = frozenset(zero | (set() if has_modality else sql.MODALITY_TERMS))
        rates = ", ".join(f"{sql.rate_column(p, r)} {self.dialect.money}" for p in sql.PLANS for r in sql.RATES)
        key_columns = ", ".join(f"{k} VARCHAR" for k in sql.RATE_KEYS)
        con.execute(f"CREATE TABLE t (pid INTEGER, {key_columns}, lo BIGINT, hi BIGINT, {rates})")
        load_rows(con, "t", t_rows, self._tmp)

    def _intervals(self, priced: Priced, tier: str, vloc: str, resid: str, geo: str,
                   speed: str) -> list[tuple[Any, ...]]:
        """(lo, hi, rates of each plan) for every prompt-size interval over which none of the
        plans' rates change, covering 0 .. 2^63-1."""
        service_tier = tier or None
        plans = [priced.plan("effective"), priced.plan("default") if priced.default_entry is not None else None,
                 priced.plan("no-cache-discount")]
        starts = {0, 1}
        for plan in plans:
            if plan is None:
                continue
            if plan.python_only is not None:
                raise Unsupported(f"{priced.key} is billed by a rule only the reference engine applies "
                                  f"({plan.python_only})")
            for start, end, _row in plan.table:  # a row prices start < prompt <= end
                starts.update((int(start // 1) + 1, int(end // 1) + 1))
            for threshold, _text in tier_thresholds(plan.prices, plan.tier_of(service_tier)):
                starts.add(-int(-threshold // 1) if plan.inclusive else int(threshold // 1) + 1)
        bounds = sorted(b for b in starts if 0 <= b < 2**62)
        if priced.margin.error is not None:
            raise Unsupported(f"{priced.key}: {priced.margin.error}")
        factor = (1 - priced.discount) * (1 + priced.margin.percentage)
        scale = Decimal(1).scaleb(-self.dialect.scale)
        out = []
        for i, lo in enumerate(bounds):
            hi = bounds[i + 1] - 1 if i + 1 < len(bounds) else 2**63 - 1
            usage = Usage(prompt_tokens=lo, service_tier=service_tier)
            values: list[Decimal] = []
            for plan in plans:
                if plan is None:
                    values.extend([Decimal(0)] * len(sql.RATES))
                    continue
                rates = plan.rates(usage)
                uplift = plan.uplift(vloc or plan.vertex_location, resid or None)
                multiplier = factor * uplift if uplift is not None else factor
                if plan.multipliers:
                    multiplier *= plan.multiplier(Usage(inference_geo=geo or None, speed=speed or None))
                for name in sql.RATES:
                    if name == "margin_fixed":
                        value = Decimal(0) if priced.unmapped else priced.margin.fixed
                    else:
                        value = getattr(rates, name) * multiplier
                    if value != value.quantize(scale) or abs(value) >= 1:
                        raise Unsupported(f"a rate of {priced.key} ({value}) does not fit DECIMAL(38,24) exactly")
                    values.append(value)
            out.append((lo, hi, *values))
        return out

    def _outcome(self, con: Any) -> Outcome:
        t, opts = self.totals, self.options
        width = len(opts.group_by)
        groups: dict[tuple[str, ...], Group] = {}
        keys = ", ".join(f"g{i}" for i in range(width))
        summed = con.execute(f"SELECT {keys}, cause, unpriced, sum(n), sum(pt), sum(ct), sum(rec), sum(exp), sum(drift) "
                             "FROM agg GROUP BY ALL").fetchall()  # mismatches are rows of agg: fold them
        for row in summed:
            key, (cause, unpriced, n, pt, ct, recorded, expected, drift) = tuple(row[:width]), row[width:]
            recorded, expected = dec(recorded), dec(expected)
            t.rows_reconciled += n
            t.recorded += recorded
            t.expected += expected
            if unpriced:
                t.unpriced_rows += n
                t.unpriced_tokens += int(pt) + int(ct)
            if cause is not None:
                t.mismatched_rows += n
                t.mismatches_by_cause[cause] = t.mismatches_by_cause.get(cause, 0) + n
                t.abs_drift += dec(drift)
            g = groups.get(key)
            if g is None:
                g = groups[key] = Group(key)
            g.rows += n
            g.prompt_tokens += int(pt)
            g.completion_tokens += int(ct)
            g.recorded += recorded
            g.expected += expected
            g.mismatched += n if cause is not None else 0
            g.unpriced_rows += n if unpriced else 0
        if t.rows_read != t.rows_reconciled + t.rows_skipped:
            raise Unsupported(f"internal: {t.rows_read} rows read, {t.rows_reconciled} reconciled, "
                              f"{t.rows_skipped} skipped")
        ordered = sorted(groups.values(), key=lambda g: (-abs(g.delta), g.key))
        top = []
        if opts.top > 0:
            top = [self._mismatch(row) for row in con.execute(
                f"SELECT * FROM mm ORDER BY abs(spend - expected) DESC, src, ord LIMIT {int(opts.top)}").fetchall()]
        if self.on_mismatch is not None:
            cursor = con.execute("SELECT * FROM mm ORDER BY src, ord")
            while batch := cursor.fetchmany(4096):
                for row in batch:
                    self.on_mismatch(self._mismatch(row))
        t.skip_examples = [(self.sources[src - 1].name, line, reason, detail)
                           for src, line, reason, detail in sorted(self.skips)[:SKIP_EXAMPLES]]
        return Outcome(t, ordered, top)

    def _mismatch(self, row: tuple[Any, ...]) -> Mismatch:
        src, ord, rid, group, deployment, model, pt, ct, spend, expected, cause = row
        line = self._lines[src](ord)
        recorded, expected = dec(spend), dec(expected)
        return Mismatch(abs(recorded - expected), (src, line), rid, self.sources[src - 1].name, line, group,
                        deployment, model, pt, ct, recorded, expected, cause)




def _paths_list() -> str:
    return "[" + ", ".join(_s(p) for p in PATHS.values()) + "]"


def _reference_checks(source: Source, mapping: dict[str, str]) -> None:
    """The reference reader's checks of a file's start (encoding, gzip, binary data, required
    columns), with its messages: it reads up to the first row that is not a skip."""
    for _line, row in read_rows(source, mapping):
        if not isinstance(row, Skip):
            return


def _csv_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def load_rows(con: Any, table: str, rows: list[tuple[Any, ...]], folder: str) -> None:
    """Insert many rows at once through a CSV file (parameters cost a Python round trip per value
    in some DuckDB releases, executemany a statement per row). Strings are always quoted and NULL
    is an unquoted \\N; decimals and times travel as exact text."""
    if not rows:
        return
    path = os.path.join(folder, f"{table}.csv")
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(",".join(_csv_value(v) for v in row) + "\n" for row in rows)
    columns = "{" + ", ".join(f"{_s(name)}: {_s(kind)}" for name, kind, *_ in con.execute(f"DESCRIBE {table}")
                              .fetchall()) + "}"
    con.execute(f"INSERT INTO {table} SELECT * FROM read_csv({_s(path)}, header=false, auto_detect=false, "
                f"columns={columns}, delim=',', quote='\"', escape='\"', nullstr='\\N', allow_quoted_nulls=false)")
    os.remove(path)


def dec(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(value)


def _naive(moment: Any) -> str:
    from datetime import timezone

    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")


def _csv_lines(rejected: list[int]) -> Callable[[int], int]:
    """0-based data-row ordinal -> physical line (the header is line 1; rows DuckDB rejected take
    lines too). Exact unless blank lines or values spanning lines come before the row."""
    if not rejected:
        return lambda ord: ord + 2

    def line(ord: int) -> int:
        number = ord + 2
        for r in rejected:
            if r > number:
                break
            number += 1
        return number

    return line
