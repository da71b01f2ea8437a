"""The DuckDB engine's run: scan the logs (scan.py), drop the rows the window and repeated
request_ids leave out, join the distinct keys to deployments, price and sum in one pass
(reconcile/sql.py), and fill the reference's model (model.Ledger) from the sums."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from costctl.reconcile import sql
from costctl.reconcile.model import (
    AZURE_DETAIL,
    JOIN_GROUP_KEYS,
    SKIP_EXAMPLES,
    Ledger,
    Mismatch,
    Options,
    Outcome,
    key_product,
)
from costctl.reconcile.pricer import Pricer, ResponseModelUnknown
from costctl.reconcile.vectorized.limits import Unsupported, memory_limit, unsupported_reason
from costctl.reconcile.vectorized.load import dec, load_rows
from costctl.reconcile.vectorized.parse import PARSED_NAMES, RARE_COLUMNS
from costctl.reconcile.vectorized.prices import RATE_KEYS, PriceTables
from costctl.reconcile.vectorized.scan import OnRead, Scan
from costctl.usage.readers import Source

T = TypeVar("T")


@dataclass(frozen=True)
class _Unjoined:
    """What the join-key table k reads for a key whose deployment could not be priced (its rows
    are skipped)."""

    key: str = ""
    model_group: str = ""
    provider: str | None = ""


_UNJOINED = _Unjoined()


def key_row(pricer: Pricer, prices: PriceTables, join_key: tuple[str, str, str, str]) -> tuple[Any, ...]:
    """The row of the join-key table k for one distinct (model_id, model_group, model, provider):
    how it is priced (pid 0: not priced, its rows are skipped) and the group keys it gives."""
    model_id, group, model, provider = (value.strip() for value in join_key)
    azure = None
    try:
        p, unknown = pricer.join(model_id, group, model, provider)
    except ResponseModelUnknown as exc:
        p, unknown, azure = None, False, exc.args[0]
    keys = [JOIN_GROUP_KEYS[name](model_id, group, model, provider, p or _UNJOINED)
            for name in ("model_group", "deployment", "model", "provider")]
    return (*join_key, prices.plan_id(p) if p is not None else 0, unknown, azure, bool(p and p.unpriced),
            bool(p and p.custom and p.default_entry is not None), *keys, group, model)


# the columns of k, for every dialect
K_COLUMNS = ("mid VARCHAR, mg VARCHAR, mdl VARCHAR, prov VARCHAR, pid INTEGER, unknown BOOLEAN, azure VARCHAR, "
             "unpriced BOOLEAN, has_default BOOLEAN, g_model_group VARCHAR, g_deployment VARCHAR, g_model VARCHAR, "
             "g_provider VARCHAR, mm_group VARCHAR, mm_model VARCHAR")


class VectorizedReconciler:
    """Reconciles whole sources at once; `run` returns the reference engine's Outcome."""

    def __init__(self, pricer: Pricer, options: Options, on_mismatch: Callable[[Mismatch], None] | None = None,
                 dialect: sql.Dialect = sql.DUCKDB) -> None:
        self.pricer = pricer
        self.options = options
        self.on_mismatch = on_mismatch
        self.dialect = dialect
        self.need_time = options.needs_time
        self.ledger = Ledger()
        self.totals = self.ledger.totals
        self.sources: list[Source] = []
        self.folder = ""

    def run(self, sources: list[Source], mapping: dict[str, str] | None, on_read: OnRead | None = None) -> Outcome:
        return self.with_rows(sources, mapping, on_read, self._reconcile)

    def with_rows(self, sources: list[Source], mapping: dict[str, str] | None, on_read: OnRead | None,
                  finish: Callable[[Any], T]) -> T:
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
        limit = memory_limit()
        folder = self.folder = tempfile.mkdtemp(prefix="costctl-duckdb-")
        con = duckdb.connect(":memory:", config={"temp_directory": folder, "memory_limit": limit,
                                                 "preserve_insertion_order": True})
        # progress is tracked (for query_progress) but never printed by DuckDB itself
        con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
        try:
            self.scan = Scan(con, self.ledger, self.options, self.dialect, self.need_time, folder)
            self.prices = PriceTables(con, self.dialect, folder)
            for index, source in enumerate(sources, start=1):
                self.scan.add(index, source, mapping or {}, on_read)
            return finish(con)
        except (duckdb.InterruptException, RuntimeError) as exc:
            if isinstance(exc, duckdb.InterruptException) or str(exc).startswith("Query interrupted"):
                raise KeyboardInterrupt from None  # Ctrl-C during a query: stop, do not fall back
            raise
        except duckdb.Error as exc:
            raise Unsupported(str(exc).splitlines()[0]) from None
        finally:
            con.close()
            shutil.rmtree(folder, ignore_errors=True)

    def rows_to_price(self, con: Any) -> None:
        """View v: the parsed rows inside the window, without repeated request_ids (each skip
        counted with its reason)."""
        opts, d = self.options, self.dialect
        window = "true"
        if opts.windowed:
            window = sql.window(opts.since, opts.until)
            for (reason, detail), query in sql.window_skips(opts.since, opts.until):
                self.sql_skips(con, query, reason, detail)
        names = ", ".join(PARSED_NAMES)
        plain = ", ".join(("''" if c in ("geo", "speed") else "0") + f" AS {c}" for c in RARE_COLUMNS)
        con.execute("CREATE VIEW v0 AS " + sql.billed(
            f"SELECT src, ord, {names}, {plain} FROM r WHERE fast AND {window} "
            f"UNION ALL SELECT src, ord, {names}, {', '.join(RARE_COLUMNS)} FROM s", self.dialect))
        if con.execute(f"SELECT count(*) FROM ({sql.repeated_hashes(d)}) c").fetchone()[0]:
            con.execute(f"CREATE TABLE dup AS {sql.repeats(d)}")
            self.totals.duplicate_request_ids += self.sql_skips(
                con, "SELECT src, ord, rid FROM dup", "duplicate-request-id", "request_id {2} seen before")
            con.execute(f"CREATE VIEW v AS {sql.without('v0', 'dup')}")
        else:
            con.execute("CREATE VIEW v AS SELECT * FROM v0")

    def sql_skips(self, con: Any, query: str, reason: str, detail: str) -> int:
        """Count the rows `query` selects (src, ord, ...) as skipped for `reason`, and keep the
        first ones with `detail` (formatted with the selected row's values)."""
        n = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
        if not n:
            return 0
        self.ledger.skip(reason, n)
        for row in con.execute(f"SELECT * FROM ({query}) ORDER BY 1, 2 LIMIT {SKIP_EXAMPLES}").fetchall():
            self.ledger.example(row[0], self.scan.line(row[0], row[1]), reason, detail.format(*row))
        return int(n)

    # -- reconcile -------------------------------------------------------------------------

    def _reconcile(self, con: Any) -> Outcome:
        opts = self.options
        self.rows_to_price(con)
        self._join_keys(con)
        self.sql_skips(con, "SELECT v.src, v.ord, k.azure FROM v JOIN k USING (mid, mg, mdl, prov) "
                       "WHERE k.azure IS NOT NULL", "azure-response-model-unknown",
                       AZURE_DETAIL.replace("{}", "{2}"))
        d = self.dialect
        tol = sql.Tolerance.of(opts.tolerance_usd, opts.tolerance_pct)
        # j: every reconciled row with its expected cost and cause (a view: computed while read)
        con.execute("CREATE VIEW j AS " + sql.priced_rows(d, tol, self.prices.skip_terms))
        # one pass over j, nothing row-sized kept but the mismatches: sums per (group, cause,
        # unpriced), from which totals, causes and groups follow exactly, and each mismatched row
        # as a group of its own (keyed by its position)
        con.execute("CREATE TABLE agg AS " + sql.aggregate(d, opts.group_by))
        con.execute("CREATE VIEW mm AS SELECT msrc AS src, mord AS ord, rid, mm_group, deployment, mm_model, pt, ct, "
                    "rec AS spend, exp AS expected, cause FROM agg WHERE mord IS NOT NULL")
        return self._outcome(con)

    def _join_keys(self, con: Any) -> None:
        """k: each distinct join key -> how it is priced (pid: deployments priced alike share one)
        and the group keys it gives; then the rates of every pid rows use."""
        con.execute(f"CREATE TABLE k ({K_COLUMNS})")
        reader = con.cursor()
        cursor = reader.execute("SELECT DISTINCT mid, mg, mdl, prov FROM v")
        while batch := cursor.fetchmany(20_000):  # a log of unknown model_ids has as many keys as rows
            load_rows(con, "k", [key_row(self.pricer, self.prices, join_key) for join_key in batch], self.folder)
        reader.close()
        self.prices.rate_table(f"SELECT DISTINCT k.pid, {RATE_KEYS} FROM v JOIN k USING (mid, mg, mdl, prov) "
                               "WHERE k.pid > 0")

    def _outcome(self, con: Any) -> Outcome:
        opts, ledger = self.options, self.ledger
        width = len(opts.group_by)
        keys = ", ".join(f"g{i}" for i in range(width))
        summed = con.execute(f"SELECT {keys}, cause, unpriced, sum(n), sum(pt), sum(ct), sum(rec), sum(exp), sum(drift) "
                             "FROM agg GROUP BY ALL").fetchall()  # mismatches are rows of agg: fold them
        for row in summed:
            key, (cause, unpriced, n, pt, ct, recorded, expected, drift) = tuple(row[:width]), row[width:]
            recorded, expected, pt, ct = dec(recorded), dec(expected), int(pt), int(ct)
            ledger.reconciled(n, pt, ct, recorded, expected, cause, dec(drift), unpriced)
            for one in key_product([part if isinstance(part, list) else [part] for part in key]):
                ledger.grouped(one, n, pt, ct, recorded, expected, n if cause is not None else 0,
                               n if unpriced else 0)
        unbalanced = ledger.unbalanced()
        if unbalanced:
            raise Unsupported(f"internal: {unbalanced}")
        top = []
        if opts.top > 0:
            top = [self._mismatch(row) for row in con.execute(
                f"SELECT * FROM mm ORDER BY abs(spend - expected) DESC, src, ord LIMIT {int(opts.top)}").fetchall()]
        if self.on_mismatch is not None:
            cursor = con.execute("SELECT * FROM mm ORDER BY src, ord")
            while batch := cursor.fetchmany(4096):
                for row in batch:
                    self.on_mismatch(self._mismatch(row))
        return ledger.outcome([s.name for s in self.sources], top)

    def _mismatch(self, row: tuple[Any, ...]) -> Mismatch:
        src, ord, rid, group, deployment, model, pt, ct, spend, expected, cause = row
        line = self.scan.line(src, ord)
        recorded, expected = dec(spend), dec(expected)
        return Mismatch(abs(recorded - expected), (src, line), rid, self.sources[src - 1].name, line, group,
                        deployment, model, pt, ct, recorded, expected, cause)

