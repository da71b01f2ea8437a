"""The pushdown engine: a LiteLLM_SpendLogs table priced inside PostgreSQL.

The rows never leave the database. The pricing SQL is reconcile/sql.py's, rendered for
PostgreSQL; the deployment rates and join keys travel to the server as temporary tables of the
session; only what the report needs comes back: one row per (group, cause, unpriced), one per
mismatched row, the rows the SQL cannot parse exactly (parsed and priced by the reference code,
as the DuckDB engine does with them) and the join keys. Money is NUMERIC throughout: a float8
spend is read through its shortest exact text (what `\\copy` writes), never as a float.

Each row's number is its position in ("startTime", request_id) order, as the reference engine
reads the table (usage/postgres.py), so both engines name the same rows alike.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from typing import Any

from costctl.reconcile import sql
from costctl.reconcile.model import AZURE_DETAIL, SKIP_EXAMPLES, Ledger, Mismatch, Options, Outcome, key_product
from costctl.reconcile.pricer import Pricer
from costctl.reconcile.vectorized.engine import K_COLUMNS, key_row
from costctl.reconcile.vectorized.limits import Unsupported
from costctl.reconcile.vectorized.load import dec, quote_text
from costctl.reconcile.vectorized.parse import (
    PARSED,
    PARSED_NAMES,
    PATHS,
    RARE_COLUMNS,
    RARE_PARSED,
    TEXT_PATHS,
    TOKENS,
    columns_of,
    usage_columns,
    writes_of,
)
from costctl.usage import postgres
from costctl.usage.readers import DatabaseSource, Source
from costctl.usage.record import FIELDS, PROBE_TAG, RARE_FIELDS, Skip, tags_of, to_record

D = sql.POSTGRES
# The column types pushdown reads a table with (LiteLLM's DDL); any other shape is read row by row.
TYPES = {"request_id": "text", "spend": "float8", "prompt_tokens": "int4", "completion_tokens": "int4",
         "startTime": "timestamp", "metadata": "jsonb", "request_tags": "jsonb"}
TEXT_COLUMNS = ("model_id", "model_group", "model", "custom_llm_provider", "cache_hit", "status", "api_key", "user",
                "team_id")




_RARE = "ARRAY[" + ", ".join(quote_text(f) for f in RARE_FIELDS) + "]"
# where record.usage_of reads the rare fields from (a value there sends the row to the reference)
_RARE_IN = ("usage_object", "usage_object.prompt_tokens_details", "usage_object.completion_tokens_details",
            "cost_breakdown")
INT_PATHS = tuple(p for p in PATHS if p not in ("pd_ttl", "uo_ttl", *TEXT_PATHS))


def _at(path: str) -> str:
    """The metadata's value at a dotted path (NULL where absent, or where a step is not an object)."""
    keys = path.split(".")
    if len(keys) == 1:
        return f"(x.metadata -> {quote_text(keys[0])})"
    return f"(x.metadata #> {quote_text('{' + ','.join(keys) + '}')})"


def _path(name: str) -> str:
    """A usage path of parse.PATHS ($.a.b) as PostgreSQL."""
    return _at(PATHS[name][2:])


def parsed_rows(table: str, where: str, need_time: bool, group_by: tuple[str, ...], raw: tuple[str, ...] = ()) -> str:
    """SQL: every row of `table` in the window as (src, ord, fast, PARSED columns), parsed the
    way parse.select parses a file's row for DuckDB, and the reference's to_record would; a row
    any of whose values the SQL cannot read exactly is not fast (the reference code parses it);
    `raw`: columns to add as text, for the rows that are not fast.

    The counts are checked by one regular expression over all of them, as in DuckDB."""
    def q(column: str) -> str:
        return "x." + postgres.quoted(column)

    def v(name: str) -> str:  # each use reads the value again: cheaper than a LATERAL per row
        return _path(name)

    def n(name: str) -> str:  # a count (checked below to be a plain JSON integer, when fast)
        return f"CASE WHEN jsonb_typeof({v(name)}) = 'number' THEN ({v(name)})::bigint ELSE 0 END"

    def text(name: str) -> str:
        return f"CASE WHEN jsonb_typeof({v(name)}) = 'string' THEN {v(name)} #>> '{{}}' END"

    m = "x.metadata"
    meta_empty = f"({m} IS NULL OR {m} IN ('{{}}'::jsonb, '[]'::jsonb, 'null'::jsonb))"
    counts = ", ".join(f"{v(p)}::text" for p in INT_PATHS)
    rare = " OR ".join(f"{_at(b)} ?| {_RARE}" for b in _RARE_IN)
    rare_values = " OR ".join(f"jsonb_strip_nulls({_at(b)}) ?| {_RARE}" for b in _RARE_IN)
    pdt, uot = (_at(f"usage_object.{b}cache_creation_token_details") for b in ("prompt_tokens_details.", ""))
    ok = [f"{q('request_id')} ~ '^[!-~]+$'",
          # what parse.SPEND admits of a float8's shortest text: 0, or 1e-8 <= spend < 1e14
          # (NaN and Infinity are above every number in PostgreSQL)
          f"({q('spend')} = 0 OR ({q('spend')} >= 1e-8 AND {q('spend')} < 1e14))",
          f"{q('prompt_tokens')} >= 0", f"{q('completion_tokens')} >= 0",
          f"({meta_empty} OR jsonb_typeof({m}) = 'object')",
          f"concat_ws(',', {counts}) ~ '^((null|{TOKENS})(,(null|{TOKENS}))*)?$'",
          *(f"coalesce(jsonb_typeof({v(p)}) IN ('null', 'string'), true)" for p in TEXT_PATHS),
          *(f"coalesce(jsonb_typeof({b}) IN ('null', 'object'), true)" for b in (pdt, uot)),
          f"NOT coalesce(({rare}) AND ({rare_values}), false)",
          f"coalesce({q('request_tags')}::text, '') NOT LIKE '%{PROBE_TAG}%'"]
    writes_value = writes_of(n)
    use_pd = f"coalesce(jsonb_typeof({pdt}) = 'object' AND {pdt} <> '{{}}'::jsonb, false)"

    def col(name: str) -> str:
        return f"coalesce({q(name)}, '')"

    columns = {
        "rid": col("request_id"),
        "spend": f"{q('spend')}::text::numeric",  # the shortest exact text: never float8's 15 digits
        "pt": f"{q('prompt_tokens')}::bigint",
        "ct": f"{q('completion_tokens')}::bigint",
        **usage_columns(n, text, use_pd, "x.writes__"),  # the cache-write count, computed once below
        "hit": f"coalesce({q('cache_hit')} ~* '^\\s*true\\s*$', false)",
        "failed": f"coalesce({q('status')} ~* '^\\s*failure\\s*$', false)",
        "mid": col("model_id"), "mg": col("model_group"), "mdl": col("model"), "prov": col("custom_llm_provider"),
        "akey": col("api_key") if "api_key" in group_by else "''",
        "usr": col("user") if "user" in group_by else "''",
        "team": col("team_id") if "team" in group_by else "''",
        "tags": "''",
        "ts": q("startTime") if need_time else "NULL::timestamp",
    }
    if "tag" in group_by:
        tags = q("request_tags")
        none = f"({tags} IS NULL OR {tags} IN ('{{}}'::jsonb, '[]'::jsonb, 'null'::jsonb))"
        ok.append(f"({none} OR (jsonb_typeof({tags}) = 'array' AND NOT EXISTS (SELECT 1 FROM "
                  f"jsonb_array_elements({tags}) e WHERE jsonb_typeof(e) <> 'string' OR e::text ~ '[\\\\\\x01-\\x1f]')))")
        columns["tags"] = f"CASE WHEN {none} THEN '' ELSE {tags}::text END"
    fast = " AND ".join(f"coalesce({c}, false)" for c in ok)
    # a value only for the rows it is exact for (a cast of another row's value could fail)
    named = ", ".join([f"CASE WHEN fast THEN {columns[name]} END AS {name}" for name in PARSED_NAMES] +
                      [f"CASE WHEN NOT fast THEN {q(c)}::text END AS {postgres.quoted('raw_' + c)}" for c in raw])
    # OFFSET 0: fast and the cache-write count are computed once per row, not at every use
    return (f"SELECT 1 AS src, ord, fast, {named} FROM (SELECT *, {fast} AS fast, {writes_value} AS writes__ FROM ("
            f'SELECT row_number() OVER (ORDER BY "startTime", request_id) AS ord, x.* FROM {table} x{where}) x '
            "OFFSET 0) x")


class PushdownReconciler:
    """Reconciles one PostgreSQL table in the database; `run` returns the reference's Outcome."""

    def __init__(self, pricer: Pricer, options: Options, on_mismatch: Callable[[Mismatch], None] | None = None) -> None:
        self.pricer, self.options, self.on_mismatch = pricer, options, on_mismatch
        self.ledger = Ledger()

    def run(self, sources: list[Source], mapping: dict[str, str] | None, on_read: Any = None) -> Outcome:
        if len(sources) != 1 or not isinstance(sources[0], DatabaseSource):
            raise Unsupported("pushdown reads one PostgreSQL table at a time")
        if mapping:
            raise Unsupported("--map is applied row by row")
        source = sources[0]
        psycopg = postgres.driver(source.name)

        table = postgres.table_sql(source.settings.table)
        db = postgres.connect(source.uri, source.name, source.settings, prepare=lambda con: self._prepare(con, table))
        try:
            return self._reconcile(db, source)
        except psycopg.errors.QueryCanceled as exc:
            raise postgres.failing(source.name, source.uri)(exc) from None
        except psycopg.Error as exc:
            raise Unsupported(" ".join(str(exc).split())) from None
        finally:
            db.con.close()  # never committed: the snapshot and the temporary tables end with it

    def _prepare(self, con: Any, table: str) -> None:
        """Check the table's shape; the session's temporary tables (before the read-only snapshot,
        which allows no CREATE): r (every row, parsed once), s (rows the reference parsed), k
        (join keys), t (rates), dup (repeated request_ids)."""
        types = postgres.Database(con, table).column_types()
        for column, wanted in TYPES.items():
            if types.get(column) != wanted:
                raise Unsupported(f"column {column} is {types.get(column, 'missing')}, not {wanted} as in LiteLLM's "
                                  "table")
        missing = [c for c in TEXT_COLUMNS if c not in types]
        if missing:
            raise Unsupported(f"no column {', '.join(missing)}")
        # The planner cannot estimate rows parsed from JSON: without these it nests loops over
        # the price table (100,000 rows x 183 rates = 18 M comparisons) and sorts on disk.
        con.execute("SET enable_nestloop = off")
        con.execute("SET work_mem = '64MB'")
        con.execute("SET temp_buffers = '128MB'")  # before the session's first temporary table
        self.raw_columns = [c for c in types if c in FIELDS]
        raw = ", ".join(f"{postgres.quoted('raw_' + c)} TEXT" for c in self.raw_columns)
        rates = ", ".join(f"{sql.rate_column(p, r)} NUMERIC" for p in sql.PLANS for r in sql.RATES)
        keys = ", ".join(f"{k} VARCHAR" for k in sql.RATE_KEYS)
        for ddl in (f"r (src INTEGER, ord BIGINT, fast BOOLEAN, {PARSED}, {raw})",
                    f"s (src INTEGER, ord BIGINT, {PARSED}, {RARE_PARSED})", f"k ({K_COLUMNS})",
                    f"t (pid INTEGER, {keys}, lo BIGINT, hi BIGINT, {rates})", "dup (src INTEGER, ord BIGINT, rid TEXT)"):
            con.execute(f"CREATE TEMPORARY TABLE {ddl} ON COMMIT PRESERVE ROWS")

    def _reconcile(self, db: postgres.Database, source: DatabaseSource) -> Outcome:
        from costctl.reconcile.vectorized.prices import PriceTables

        con, opts, ledger = db.con, self.options, self.ledger
        where_sql = db.where(source.settings, {})
        rows = parsed_rows(db.table, where_sql, opts.needs_time, opts.group_by, tuple(self.raw_columns))
        con.execute(f"INSERT INTO r SELECT * FROM ({rows}) p")  # the one pass over the table
        ledger.totals.rows_read = con.execute("SELECT count(*) FROM r").fetchone()[0]
        self._slow_rows(con, source)
        names = ", ".join(PARSED_NAMES)
        plain = ", ".join(("''" if c in ("geo", "speed") else "0") + f" AS {c}" for c in RARE_COLUMNS)
        v0 = sql.billed(f"SELECT src, ord, {names}, {plain} FROM r WHERE fast "
                        f"UNION ALL SELECT src, ord, {names}, {', '.join(RARE_COLUMNS)} FROM s", D)
        views = f"WITH v0 AS ({v0}), v AS ({sql.without('v0', 'dup')})"
        if not postgres.unique_request_ids(con, db.table):
            con.execute(f"WITH v0 AS ({v0}) INSERT INTO dup {sql.repeats(D)}")
            self.ledger.totals.duplicate_request_ids += self._skips(
                con, "SELECT src, ord, rid FROM dup", "duplicate-request-id", "request_id {2} seen before", "")
        prices = PriceTables(con, D, "")
        # the join and rate keys to price, a batch at a time (a log of unknown model_ids has as
        # many join keys as rows); a repeated row's keys are its first one's
        plan_keys: set[tuple[Any, ...]] = set()
        azure = False
        with con.cursor(name="costctl_keys") as cursor:
            cursor.execute("SELECT mid, mg, mdl, prov, array_agg(DISTINCT ARRAY[tier, vloc, resid, geo, speed]) FROM ("
                           "SELECT mid, mg, mdl, prov, tier, vloc, resid, '' AS geo, '' AS speed FROM r WHERE fast "
                           "UNION ALL SELECT mid, mg, mdl, prov, tier, vloc, resid, geo, speed FROM s) keys "
                           "GROUP BY 1, 2, 3, 4")
            while batch := cursor.fetchmany(20_000):
                k_rows = [key_row(self.pricer, prices, tuple(row[:4])) for row in batch]
                self._copy(con, "k", k_rows, analyze=False)
                for k, row in zip(k_rows, batch, strict=True):
                    azure = azure or k[6] is not None
                    if k[4] > 0:
                        plan_keys.update((k[4], *facts) for facts in row[4])
        con.execute("ANALYZE k")
        self._copy(con, "t", prices.rate_rows(sorted(plan_keys)))
        if azure:
            self._skips(con, "SELECT v.src, v.ord, k.azure FROM v JOIN k USING (mid, mg, mdl, prov) "
                        "WHERE k.azure IS NOT NULL", "azure-response-model-unknown", AZURE_DETAIL.replace("{}", "{2}"),
                        views)
        tol = sql.Tolerance.of(opts.tolerance_usd, opts.tolerance_pct)
        j = sql.priced_rows(D, tol, prices.skip_terms)
        return self._outcome(con, f"{views}, j AS ({j}) {sql.aggregate(D, opts.group_by)}", source)

    def _slow_rows(self, con: Any, source: DatabaseSource) -> None:
        """The rows the SQL left alone, parsed by the reference code into s (or skipped, named)."""
        columns = self.raw_columns
        raw = ", ".join(postgres.quoted("raw_" + c) for c in columns)
        by_tag = "tag" in self.options.group_by
        parsed: list[tuple[Any, ...]] = []
        with con.cursor(name="costctl_slow") as cursor:
            cursor.execute(f"SELECT ord, {raw} FROM r WHERE NOT fast ORDER BY ord")
            while batch := cursor.fetchmany(postgres.FETCH_ROWS):
                for ord, *values in batch:
                    try:
                        row = to_record(dict(zip(columns, values, strict=True)), source.name, ord,
                                        self.options.needs_time)
                        tags = ""
                        if by_tag:
                            listed = tags_of(row)
                            tags = json.dumps(listed) if listed else ""
                    except Skip as skip:
                        self.ledger.skip_row(1, ord, skip.reason, skip.detail)
                        continue
                    parsed.append((1, ord, *columns_of(row, D, tags)))
                self._copy(con, "s", parsed, analyze=False)  # a batch at a time: memory stays flat
                parsed = []
        con.execute("ANALYZE s")

    def _skips(self, con: Any, query: str, reason: str, detail: str, views: str) -> int:
        n = con.execute(f"{views} SELECT count(*) FROM ({query}) q").fetchone()[0]
        if n:
            self.ledger.skip(reason, n)
            for row in con.execute(f"{views} SELECT * FROM ({query}) q ORDER BY 1, 2 LIMIT {SKIP_EXAMPLES}").fetchall():
                self.ledger.example(row[0], row[1], reason, detail.format(*row))
        return int(n)

    def _copy(self, con: Any, table: str, rows: list[tuple[Any, ...]], analyze: bool = True) -> None:
        if rows:
            with con.cursor().copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        if analyze:
            con.execute(f"ANALYZE {table}")

    def _outcome(self, con: Any, aggregate: str, source: DatabaseSource) -> Outcome:
        """Fold the aggregate's rows into the ledger as they stream back: the mismatched rows
        in row order (for --mismatches-out), the largest kept for the report."""
        opts, ledger = self.options, self.ledger
        width = len(opts.group_by)
        top: list[tuple[Any, ...]] = []  # a heap of the largest mismatches
        with con.cursor(name="costctl_agg") as cursor:
            cursor.execute(f"SELECT * FROM ({aggregate}) a ORDER BY mord NULLS FIRST")
            while batch := cursor.fetchmany(postgres.FETCH_ROWS):
                for row in batch:
                    key = tuple(row[:width])
                    (cause, unpriced, _msrc, mord, n, pt, ct, recorded, expected, drift, rid, group, deployment,
                     model) = row[width:]
                    recorded, expected, pt, ct = dec(recorded), dec(expected), int(pt), int(ct)
                    ledger.reconciled(n, pt, ct, recorded, expected, cause, dec(drift), unpriced)
                    for one in key_product([part if isinstance(part, list) else [part] for part in key]):
                        ledger.grouped(one, n, pt, ct, recorded, expected, n if cause is not None else 0,
                                       n if unpriced else 0)
                    if mord is None:
                        continue
                    m = Mismatch(abs(recorded - expected), (1, mord), rid, source.name, mord, group, deployment,
                                 model, pt, ct, recorded, expected, cause)
                    if self.on_mismatch is not None:
                        self.on_mismatch(m)
                    if opts.top > 0:  # ranks are unique (they end in the row's position)
                        if len(top) < opts.top:
                            heapq.heappush(top, (m.rank, m))
                        elif m.rank > top[0][0]:
                            heapq.heapreplace(top, (m.rank, m))
        unbalanced = ledger.unbalanced()
        if unbalanced:
            raise Unsupported(f"internal: {unbalanced}")
        return ledger.outcome([source.name], [m for _rank, m in sorted(top, key=lambda e: e[0], reverse=True)])
