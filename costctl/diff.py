"""What a config change does: deployments added, removed or repriced, and the bill under each config.

Deployments are matched by deployment id, else by model_name + model (a repriced deployment
without a declared `model_info.id` gets a new id, since LiteLLM hashes its parameters). A change
lists every price field whose value or source differs. With usage rows, each row is priced under
both configs (`Projector`; large files: reconcile/vectorized_projection.py, the same result in
SQL): under BASE as `reconcile` joins it, under HEAD at
the matching deployment (or, for rows no deployment claims, HEAD's own join). Rows whose
deployment has no counterpart in HEAD are "no longer routable" and kept out of both totals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from costctl.pricing import MAIN_FIELDS, EffectivePrices, NotRecomputed, Price
from costctl.reconcile.pricer import Priced, Pricer, ResponseModelUnknown

ZERO = Decimal(0)


@dataclass
class FieldChange:
    name: str
    old: Price | None
    new: Price | None


@dataclass
class Change:
    kind: str  # added | removed | changed
    base: EffectivePrices | None
    head: EffectivePrices | None
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def model_name(self) -> str:
        return (self.head or self.base).deployment.model_name  # type: ignore[union-attr]

    @property
    def deployment_id(self) -> str:
        return (self.head or self.base).deployment.deployment_id  # type: ignore[union-attr]


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


def _same(a: Price | None, b: Price | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.source == b.source and a.value == b.value and a.structured == b.structured


def field_changes(base: EffectivePrices, head: EffectivePrices) -> list[FieldChange]:
    names = list(MAIN_FIELDS) + sorted((set(base.prices) | set(head.prices)) - set(MAIN_FIELDS))
    return [FieldChange(n, base.prices.get(n), head.prices.get(n)) for n in names
            if not _same(base.prices.get(n), head.prices.get(n))]


def match(base: list[EffectivePrices], head: list[EffectivePrices]) -> list[tuple[EffectivePrices | None,
                                                                                   EffectivePrices | None]]:
    """(base, head) pairs: by deployment id, then by model_name + model in config order; an
    unmatched side is None."""
    pairs: list[tuple[EffectivePrices | None, EffectivePrices | None]] = []
    used: set[int] = set()
    by_id: dict[str, EffectivePrices] = {}
    for h in head:
        by_id.setdefault(h.deployment.deployment_id, h)
    unmatched = []
    for b in base:
        same = by_id.get(b.deployment.deployment_id)
        if same is not None and id(same) not in used:
            used.add(id(same))
            pairs.append((b, same))
        else:
            unmatched.append(b)
    by_name: dict[tuple[str, str], list[EffectivePrices]] = {}
    for h in head:
        if id(h) not in used:
            by_name.setdefault((h.deployment.model_name, h.deployment.model), []).append(h)
    for b in unmatched:
        candidates = by_name.get((b.deployment.model_name, b.deployment.model))
        if candidates:
            h = candidates.pop(0)
            used.add(id(h))
            pairs.append((b, h))
        else:
            pairs.append((b, None))
    pairs.extend((None, h) for h in head if id(h) not in used)
    return pairs


def changes(pairs: Iterable[tuple[EffectivePrices | None, EffectivePrices | None]]) -> tuple[list[Change], int]:
    """(the changes, in HEAD's order then BASE's for removals; the number of unchanged deployments)."""
    found: list[Change] = []
    unchanged = 0
    for b, h in pairs:
        if b is None:
            found.append(Change("added", None, h, field_changes_from_nothing(h, new=True)))
        elif h is None:
            found.append(Change("removed", b, None, field_changes_from_nothing(b, new=False)))
        else:
            fields = field_changes(b, h)
            if fields:
                found.append(Change("changed", b, h, fields))
            else:
                unchanged += 1
    order = {id(c.head): i for i, c in enumerate(found) if c.head is not None}
    found.sort(key=lambda c: (c.kind == "removed", order.get(id(c.head), 0)))
    return found, unchanged


def field_changes_from_nothing(ep: EffectivePrices | None, new: bool) -> list[FieldChange]:
    """The priced fields of an added (new=True) or removed deployment."""
    if ep is None:
        return []
    names = list(MAIN_FIELDS) + sorted(set(ep.prices) - set(MAIN_FIELDS))
    return [FieldChange(n, None, ep.prices[n]) if new else FieldChange(n, ep.prices[n], None) for n in names
            if n in ep.prices and (ep.prices[n].value is not None or ep.prices[n].structured is not None)]


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
        headed = self._head(based, row)
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

    def _head(self, based: Priced, row: Any) -> Priced | None:
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
