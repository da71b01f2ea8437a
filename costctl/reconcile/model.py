"""What a reconcile is, whichever engine runs it: the options, the rules both engines apply in
the same words (time window, group keys, skip accounting) and the outcome they fill.

Every row read is either reconciled or counted under a named skip reason
(rows_read == rows_reconciled + rows_skipped, always). A reconciled row mismatches when
|recorded - expected| > max(tolerance_usd, tolerance_pct % of expected); each mismatch gets the
first cause that explains it within the same tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from costctl.money import number

ZERO = Decimal(0)
CAUSES = ("unknown-deployment", "zero-spend", "default-price", "cache-not-discounted", "unit-error", "other")
SEVERE_CAUSES = ("zero-spend", "default-price", "unit-error")
UNIT_FACTORS = (Decimal(1000), Decimal(1_000_000), Decimal("0.001"), Decimal("0.000001"))
SKIP_EXAMPLES = 10
AZURE_DETAIL = ("{} has no base_model: LiteLLM priced it by the model Azure returned, which the log's model "
                "column does not record; set model_info.base_model")


@dataclass
class Options:
    tolerance_usd: Decimal = Decimal("1e-9")
    tolerance_pct: Decimal = Decimal("0.0001")
    since: datetime | None = None
    until: datetime | None = None
    group_by: tuple[str, ...] = ("model_group",)
    top: int = 20

    @property
    def windowed(self) -> bool:
        return self.since is not None or self.until is not None

    @property
    def needs_time(self) -> bool:
        """Whether a row's startTime is read at all (when nothing uses it, a bad one is no skip)."""
        return self.windowed or "day" in self.group_by


# -- the time window ----------------------------------------------------------------------------

MISSING_TIMESTAMP = ("missing-timestamp", "startTime is empty but --since/--until is set")
OUTSIDE_WINDOW = ("outside-window", "startTime outside --since/--until")


def window_skip(start_time: datetime | None, options: Options) -> tuple[str, str] | None:
    """(reason, detail) when --since/--until leave the row out, else None. Since is inclusive,
    until exclusive."""
    if not options.windowed:
        return None
    if start_time is None:
        return MISSING_TIMESTAMP
    if (options.since and start_time < options.since) or (options.until and start_time >= options.until):
        return OUTSIDE_WINDOW
    return None


# -- group keys ---------------------------------------------------------------------------------

class JoinedDeployment(Protocol):
    """What the group keys read of the deployment a row joined (pricer.Priced)."""

    @property
    def key(self) -> str: ...
    @property
    def model_group(self) -> str: ...
    @property
    def provider(self) -> str | None: ...


NONE = "(none)"
# Keys worked out from a row's join columns and the deployment they joined: both engines call
# these in Python (the DuckDB engine once per distinct join key).
JOIN_GROUP_KEYS: dict[str, Callable[[str, str, str, str, JoinedDeployment], str]] = {
    "model_group": lambda model_id, group, model, provider, p: group or p.model_group or NONE,
    "deployment": lambda model_id, group, model, provider, p: model_id or p.key,
    "model": lambda model_id, group, model, provider, p: model or NONE,
    "provider": lambda model_id, group, model, provider, p: provider or p.provider or NONE,
}
def key_product(parts: list[list[str]]) -> list[tuple[str, ...]]:
    """Every group key from the values of each part (a row with several tags is in several)."""
    keys: list[tuple[str, ...]] = [()]
    for values in parts:
        keys = [k + (v,) for k in keys for v in values]
    return keys


# Keys that are a row's own text column, NONE when empty (SpendRow attribute by key)
ROW_GROUP_KEYS = {"team": "team_id", "api_key": "api_key", "user": "user"}
# and two of their own: "day" (startTime's UTC date) and "tag" (a row counts once per request tag)


# -- the outcome --------------------------------------------------------------------------------

@dataclass
class Group:
    key: tuple[str, ...]
    rows: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    recorded: Decimal = ZERO
    expected: Decimal = ZERO
    mismatched: int = 0
    unpriced_rows: int = 0

    @property
    def delta(self) -> Decimal:
        return self.recorded - self.expected


@dataclass
class Mismatch:
    sort_key: Decimal  # |delta|
    order: tuple[int, int]  # (input index, line): ties between equal deltas go to the earlier row
    request_id: str
    file: str
    line: int
    model_group: str
    deployment_id: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    recorded: Decimal
    expected: Decimal
    cause: str

    @property
    def rank(self) -> tuple[Decimal, tuple[int, int]]:
        """Larger delta first, then the earlier row."""
        return (self.sort_key, (-self.order[0], -self.order[1]))

    @property
    def delta(self) -> Decimal:
        return self.recorded - self.expected

    def as_json(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "model_group": self.model_group, "deployment_id": self.deployment_id,
                "recorded_usd": number(self.recorded), "expected_usd": number(self.expected),
                "delta_usd": number(self.delta), "cause": self.cause}


@dataclass
class Totals:
    rows_read: int = 0
    rows_reconciled: int = 0
    rows_skipped: int = 0
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    skip_examples: list[tuple[str, int, str, str]] = field(default_factory=list)  # file, line, reason, detail
    recorded: Decimal = ZERO
    expected: Decimal = ZERO
    abs_drift: Decimal = ZERO
    mismatched_rows: int = 0
    mismatches_by_cause: dict[str, int] = field(default_factory=dict)
    unpriced_rows: int = 0
    unpriced_tokens: int = 0
    duplicate_request_ids: int = 0

    @property
    def delta(self) -> Decimal:
        return self.recorded - self.expected


@dataclass
class Outcome:
    totals: Totals
    groups: list[Group]
    top: list[Mismatch]


class Ledger:
    """The accounts both engines keep: the reference adds one row at a time, the DuckDB engine
    sums of many (`n` rows alike). Skips keep their first examples in input order, whatever
    order they are reported in."""

    def __init__(self) -> None:
        self.totals = Totals()
        self.groups: dict[tuple[str, ...], Group] = {}
        self._examples: list[tuple[int, int, str, str]] = []  # (source index, line, reason, detail)

    def skip(self, reason: str, n: int = 1) -> None:
        t = self.totals
        t.rows_skipped += n
        t.skipped_by_reason[reason] = t.skipped_by_reason.get(reason, 0) + n

    def example(self, source: int, line: int, reason: str, detail: str) -> None:
        examples = self._examples
        examples.append((source, line, reason, detail))
        if len(examples) > 4 * SKIP_EXAMPLES:  # trimmed now and then, not on every skip
            examples.sort()
            del examples[SKIP_EXAMPLES:]

    def skip_row(self, source: int, line: int, reason: str, detail: str) -> None:
        """One row skipped, kept as an example if it is among the first."""
        self.skip(reason)
        self.example(source, line, reason, detail)

    def reconciled(self, n: int, prompt: int, completion: int, recorded: Decimal, expected: Decimal,
                   cause: str | None, drift: Decimal, unpriced: bool) -> None:
        """`n` reconciled rows (mismatched with `cause`, or matched when None), counted once each."""
        t = self.totals
        t.rows_reconciled += n
        t.recorded += recorded
        t.expected += expected
        if unpriced:
            t.unpriced_rows += n
            t.unpriced_tokens += prompt + completion
        if cause is not None:
            t.mismatched_rows += n
            t.abs_drift += drift
            t.mismatches_by_cause[cause] = t.mismatches_by_cause.get(cause, 0) + n

    def grouped(self, key: tuple[str, ...], n: int, prompt: int, completion: int, recorded: Decimal,
                expected: Decimal, mismatched: int, unpriced: int) -> None:
        """The same rows in group `key` (a row with several tags counts in several groups)."""
        g = self.groups.get(key)
        if g is None:
            g = self.groups[key] = Group(key)
        g.rows += n
        g.prompt_tokens += prompt
        g.completion_tokens += completion
        g.recorded += recorded
        g.expected += expected
        g.mismatched += mismatched
        g.unpriced_rows += unpriced

    def unbalanced(self) -> str | None:
        """What is wrong when some row read is neither reconciled nor skipped, else None."""
        t = self.totals
        if t.rows_read == t.rows_reconciled + t.rows_skipped:
            return None
        return f"{t.rows_read} rows read, {t.rows_reconciled} reconciled, {t.rows_skipped} skipped"

    def outcome(self, names: list[str], top: list[Mismatch]) -> Outcome:
        """The result, once every row is accounted for; `names[i - 1]` names source i."""
        t = self.totals
        t.skip_examples = [(names[source - 1], line, reason, detail)
                           for source, line, reason, detail in sorted(self._examples)[:SKIP_EXAMPLES]]
        groups = sorted(self.groups.values(), key=lambda g: (-abs(g.delta), g.key))
        return Outcome(t, groups, top)
