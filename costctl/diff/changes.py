"""Which deployments a config change adds, removes or reprices.

Deployments are matched by deployment id, else by model_name + model (a repriced deployment
without a declared `model_info.id` gets a new id, since LiteLLM hashes its parameters). A change
lists every price field whose value or source differs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from costctl.pricing import MAIN_FIELDS, EffectivePrices, Price

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


