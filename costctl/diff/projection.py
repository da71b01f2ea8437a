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
from costctl.reconcile.model import NONE, Options, window_skip
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

    def count(self, group: str, n: int, base: Decimal, head: Decimal | None) -> None:
        """`n` rows of model group `group` that cost `base` under BASE and `head` under HEAD
        (None: their deployment is gone from HEAD, so they are kept out of both totals)."""
        g = self.groups.get(group)
        if g is None:
            g = self.groups[group] = GroupProjection(group)
        if head is None:
            self.unroutable_rows += n
            self.unroutable_base += base
            g.unroutable_rows += n
            g.unroutable_base += base
            return
        self.rows += n
        self.base += base
        self.head += head
        g.rows += n
        g.base += base
        g.head += head

    def saw(self, first: date, last: date) -> None:
        """Rows from day `first` to day `last` (UTC): the projection's window."""
        self.first_day = first if self.first_day is None or first < self.first_day else self.first_day
        self.last_day = last if self.last_day is None or last > self.last_day else self.last_day

    def sorted_groups(self) -> list[GroupProjection]:
        return sorted(self.groups.values(), key=lambda g: (-abs(g.delta), g.model_group))


class Projector:
    """Prices usage rows under BASE and HEAD."""

    def __init__(self, base: Pricer, head: Pricer,
                 pairs: list[tuple[EffectivePrices | None, EffectivePrices | None]],
                 options: Options | None = None) -> None:
        self.base, self.head = base, head
        self.options = options or Options()  # --since / --until
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
                continue
            left_out = window_skip(row.start_time, self.options)
            if left_out is not None:
                self.skip(left_out[0])
            else:
                self.add(row, not source.unique_ids)

    def add(self, row: Any, dedupe: bool = True) -> None:
        """One SpendRow; `dedupe`: its request_id may repeat an earlier row's."""
        p = self.projection
        if dedupe:
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
        if row.start_time is not None:
            p.saw(row.start_time.date(), row.start_time.date())
        p.count(row.model_group or based.model_group or NONE, 1, base_cost, head_cost if headed is not None else None)

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
