"""The price table t: for each way a row can be priced (a deployment's plan, the row's service
tier, location, residency, geo and speed), the rates of every prompt-size interval over which
none of them change, already multiplied by uplift, discount and margin, so a row's cost in SQL is
one sum of products (reconcile/sql.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costctl.pricing import Usage, tier_thresholds
from costctl.reconcile import sql
from costctl.reconcile.pricer import Priced
from costctl.reconcile.vectorized.limits import Unsupported
from costctl.reconcile.vectorized.load import load_rows

RATE_KEYS = ", ".join(f"v.{k}" for k in sql.RATE_KEYS)  # the rate keys of a parsed row v, as SQL


class PriceTables:
    """Plan ids for the deployments rows joined, and table t of their rates."""

    def __init__(self, con: Any, dialect: sql.Dialect, folder: str) -> None:
        self.con, self.dialect, self.folder = con, dialect, folder
        self._plan_ids: dict[int, int] = {}  # id(Priced) -> pid
        self._plans: dict[int, Priced] = {}
        self.skip_terms: frozenset[str] = frozenset()

    def plan_id(self, priced: Priced) -> int:
        """The id (> 0) of the price table rows of `priced`; deployments priced alike share one."""
        pid = self._plan_ids.setdefault(id(priced), len(self._plan_ids) + 1)
        self._plans[pid] = priced
        return pid

    def rate_table(self, keys: str) -> None:
        """t: the folded rates of each (pid, rate keys) that `keys` selects, per prompt-size interval."""
        t_rows = self.rate_rows(self.con.execute(keys).fetchall())
        rates = ", ".join(f"{sql.rate_column(p, r)} {self.dialect.money}" for p in sql.PLANS for r in sql.RATES)
        key_columns = ", ".join(f"{k} VARCHAR" for k in sql.RATE_KEYS)
        self.con.execute(f"CREATE TABLE t (pid INTEGER, {key_columns}, lo BIGINT, hi BIGINT, {rates})")
        load_rows(self.con, "t", t_rows, self.folder)

    def rate_rows(self, keys: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The rows of t for these (pid, rate keys); sets `skip_terms`: terms that cannot add to
        any row (a rate 0 in every plan, or modality counts no row has: only table s has them)."""
        t_rows: list[tuple[Any, ...]] = []
        for pid, *facts in keys:
            t_rows.extend((pid, *facts, *row) for row in self._intervals(self._plans[pid], *facts))
        per_rate = len(sql.RATES)
        zero = {r for i, r in enumerate(sql.RATES)
                if all(row[len(sql.RATE_KEYS) + 3 + p * per_rate + i] == 0 for row in t_rows for p in range(len(sql.PLANS)))}
        has_modality = self.con.execute("SELECT " + " OR ".join(f"coalesce(bool_or({c} <> 0), false)"
                                                           for c in sql.MODALITY_COLUMNS)
                                   + " OR coalesce(bool_or(cached < 0), false) FROM s").fetchone()[0]
        self.skip_terms = frozenset(zero | (set() if has_modality else sql.MODALITY_TERMS))
        return t_rows

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
