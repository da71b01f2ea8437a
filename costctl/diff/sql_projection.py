"""`costctl diff --usage` on the vectorized engine: the rows projection.Projector prices, priced in SQL
under both configs in one pass.

The rows are read exactly as `reconcile --engine vectorized` reads them (same skips, same
duplicates). Each distinct join key is resolved in Python by the reference code: BASE's join,
and HEAD's deployment for it (`Projector.head_of`: the matching deployment, HEAD's own join, or
none when the deployment was removed). Both configs' rates go in one price table, and one
aggregate sums each model group's cost under BASE and HEAD. Anything the engine cannot reproduce
raises `Unsupported`, and the reference projection runs instead.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from costctl.diff.projection import Projection, Projector
from costctl.reconcile import sql
from costctl.reconcile.pricer import ResponseModelUnknown
from costctl.reconcile.vectorized import Unsupported, VectorizedReconciler
from costctl.reconcile.vectorized.load import dec, load_rows
from costctl.reconcile.vectorized.prices import RATE_KEYS
from costctl.usage.readers import Source


class VectorizedProjector(VectorizedReconciler):
    def __init__(self, reference: Projector) -> None:
        super().__init__(reference.base, reference.options)
        self.reference = reference
        self.need_time = True  # the projection's window comes from startTime: a bad one is a skip

    def project(self, sources: list[Source]) -> Projection:
        return self.with_rows(sources, None, None, self._project)

    def _project(self, con: Any) -> Projection:
        self.rows_to_price(con)
        con.execute("CREATE TABLE k (mid VARCHAR, mg VARCHAR, mdl VARCHAR, prov VARCHAR, azure BOOLEAN, grp VARCHAR, "
                    "base_pid INTEGER, head_pid INTEGER)")
        reader = con.cursor()
        cursor = reader.execute("SELECT DISTINCT mid, mg, mdl, prov FROM v")
        while batch := cursor.fetchmany(20_000):
            rows = []
            for join_key in batch:
                model_id, group, model, provider = (value.strip() for value in join_key)
                try:
                    based, _unknown = self.pricer.join(model_id, group, model, provider)
                except ResponseModelUnknown:
                    rows.append((*join_key, True, "", None, None))
                    continue
                headed = self.reference.head_of(based, SimpleNamespace(model_id=model_id, model_group=group,
                                                                     model=model, provider=provider))
                rows.append((*join_key, False, group or based.model_group or "(none)", self.prices.plan_id(based),
                             self.prices.plan_id(headed) if headed is not None else None))
            load_rows(con, "k", rows, self.folder)
        reader.close()
        self.sql_skips(con, "SELECT v.src, v.ord FROM v JOIN k USING (mid, mg, mdl, prov) WHERE k.azure",
                       "azure-response-model-unknown", "")
        self.prices.rate_table(f"SELECT DISTINCT k.base_pid, {RATE_KEYS} FROM v JOIN k USING (mid, mg, mdl, prov) "
                             f"WHERE NOT k.azure UNION SELECT DISTINCT k.head_pid, {RATE_KEYS} FROM v "
                             "JOIN k USING (mid, mg, mdl, prov) WHERE k.head_pid IS NOT NULL")
        skip = self.prices.skip_terms
        summed = con.execute(f"""
            SELECT k.grp, k.head_pid IS NULL, count(*), count(th.pid),
                   sum(CASE WHEN v.hit OR v.failed THEN 0 ELSE {sql.cost('eff', 'v', 'tb', skip)} END),
                   sum(CASE WHEN v.hit OR v.failed OR th.pid IS NULL THEN 0 ELSE {sql.cost('eff', 'v', 'th', skip)} END),
                   min(v.ts), max(v.ts)
            FROM v JOIN k USING (mid, mg, mdl, prov)
            JOIN t tb ON tb.pid = k.base_pid AND {sql.rate_join('tb')}
            LEFT JOIN t th ON th.pid = k.head_pid AND {sql.rate_join('th')}
            WHERE NOT k.azure GROUP BY ALL""").fetchall()
        totals = self.totals
        p = Projection(rows_read=totals.rows_read, skipped_by_reason=dict(totals.skipped_by_reason))
        priced = 0
        for group, unroutable, n, headed, base, head, first, last in summed:
            if not unroutable and headed != n:
                raise Unsupported(f"internal: {n - headed} rows of {group} have no HEAD rate")
            priced += n
            p.count(group, n, dec(base), None if unroutable else dec(head))
            if first is not None:
                p.saw(first.date(), last.date())
        if totals.rows_read != priced + totals.rows_skipped:
            raise Unsupported(f"internal: {totals.rows_read} rows read, {priced} priced, "
                              f"{totals.rows_skipped} skipped")
        return p
