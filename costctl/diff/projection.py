"""The bill under each config: usage rows priced under BASE as `reconcile` joins them, under
HEAD at the matching deployment (or, for rows no deployment claims, HEAD's own join). Rows whose
deployment has no counterpart in HEAD are "no longer routable" and kept out of both totals.
Large files: sql_projection.py, the same result in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from costctl.pricing import EffectivePrices, NotRecomputed
from costctl.reconcile.pricer import Priced, Pricer, ResponseModelUnknown
from costctl.usage.readers import Source, read_records
from costctl.usage.record import Skip

ZERO = Decimal(0)


@dataclass
class GroupProjection:
    model_group: str
    rows: int = 0
    base: Decimal = ZERO
    head: Decimal = ZERO
    unroutable_rows: int = 0
    unroutable_base: Decimal = ZERO

    @property
    def delta(self) -> Decimal:
        return self.head - self.base


@dataclass
class Projection:
    rows_read: int = 0
    rows: int = 0  # priced under both configs
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    first_day: date | None = None
    last_day: date | None = None
    base: Decimal = ZERO
    head: Decimal = ZERO
    unroutable_rows: int = 0
    unroutable_base: Decimal = ZERO
    groups: dict[str, GroupProjection] = field(default_factory=dict)

    @property
    def window_days(self) -> int | None:
        """Whole UTC days from the first row's day to the last row's, both included."""
        if self.first_day is None or self.last_day is None:
            return None
        return (self.last_day - self.first_day).days + 1

    @property
    def delta(self) -> Decimal:
        return self.head - self.base

    @property
    def delta_pct(self) -> Decimal | None:
        return None if self.base == 0 else self.delta / self.base * 100

    @property
    def monthly_delta(self) -> Decimal | None:
        days = self.window_days
        return None if not days else self.delta * 30 / days

    def sorted_groups(self) -> list[GroupProjection]:
        return sorted(self.groups.values(), key=lambda g: (-abs(g.delta), g.model_group))


class Projector:
    """Prices usage rows under BASE and HEAD."""

    def __init__(self, base: Pricer, head: Pricer,
                 pairs: list[tuple[EffectivePrices | None, EffectivePrices | None]]) -> None:
        self.base, self.head = base, head
        self.counterpart: dict[str, str | None] = {}
        for b, h in pairs:
            if b is not None:
                self.counterpart.setdefault(b.deployment.deployment_id, h.deployment.deployment_id if h else None)
        self.projection = Projection()
        self._seen: set[int] = set()

    def skip(self, reason: str) -> None:
        p = self.projection
        p.skipped_by_reason[reason] = p.skipped_by_reason.get(reason, 0) + 1

    def feed(self, source: Source) -> None:
        """Price every row of `source` (the projection's days come from startTime: a bad one is a skip)."""
        for _line, row in read_records(source):
            self.projection.rows_read += 1
            if isinstance(row, Skip):
                self.skip(row.reason)
            else:
                self.add(row)

    def add(self, row: Any) -> None:
        """One SpendRow."""
        p = self.projection
        digest = hash(row.request_id)
        if digest in self._seen:
            self.skip("duplicate-request-id")
            return
        self._seen.add(digest)
        try:
            based, _unknown = self.base.join(row.model_id, row.model_group, row.model, row.provider)
        except ResponseModelUnknown:
            self.skip("azure-response-model-unknown")
            return
        headed = self.head_of(based, row)
        try:
            base_cost = self._cost(based, row)
            head_cost = self._cost(headed, row) if headed is not None else ZERO
        except NotRecomputed as exc:  # a charge costctl cannot project: named, not guessed
            self.skip(f"not recomputed: {exc.feature}")
            return
        group = row.model_group or based.model_group or "(none)"
        g = p.groups.get(group)
        if g is None:
            g = p.groups[group] = GroupProjection(group)
        if row.start_time is not None:
            day = row.start_time.date()
            p.first_day = day if p.first_day is None or day < p.first_day else p.first_day
            p.last_day = day if p.last_day is None or day > p.last_day else p.last_day
        if headed is None:
            p.unroutable_rows += 1
            p.unroutable_base += base_cost
            g.unroutable_rows += 1
            g.unroutable_base += base_cost
            return
        p.rows += 1
        p.base += base_cost
        p.head += head_cost
        g.rows += 1
        g.base += base_cost
        g.head += head_cost

    def head_of(self, based: Priced, row: Any) -> Priced | None:
        deployment = based.key if based.key in self.counterpart else None
        if deployment is None and row.model_id in self.counterpart:
            deployment = row.model_id
        try:
            if deployment is not None:  # a BASE deployment: its HEAD counterpart, if any
                target = self.counterpart[deployment]
                if target is None:
                    return None
                return self.head.join(target, row.model_group, row.model, row.provider)[0]
            return self.head.join(row.model_id, row.model_group, row.model, row.provider)[0]
        except ResponseModelUnknown:
            return None

    @staticmethod
    def _cost(priced: Priced, row: Any) -> Decimal:
        if row.cache_hit or row.failed:
            return ZERO
        return priced.cost(row.usage, vertex_location=row.vertex_location, data_residency=row.data_residency)
