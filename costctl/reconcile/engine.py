"""The reference reconcile engine: row by row, in Decimal. The definition of correct.

Every row read is either reconciled or counted under a named skip reason
(rows_read == rows_reconciled + rows_skipped, always). A reconciled row mismatches when
|recorded - expected| > max(tolerance_usd, tolerance_pct % of expected); each mismatch gets the
first cause that explains it within the same tolerance.
"""

from __future__ import annotations

import gc
import heapq
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from costctl.money import number
from costctl.pricing import NotRecomputed
from costctl.reconcile.pricer import Priced, Pricer, ResponseModelUnknown
from costctl.usage.readers import Source, read_rows
from costctl.usage.record import Skip, SpendRow, tags_of, to_record

ZERO = Decimal(0)
CAUSES = ("unknown-deployment", "zero-spend", "default-price", "cache-not-discounted", "unit-error", "other")
SEVERE_CAUSES = ("zero-spend", "default-price", "unit-error")
UNIT_FACTORS = (Decimal(1000), Decimal(1_000_000), Decimal("0.001"), Decimal("0.000001"))
SKIP_EXAMPLES = 10


# --group-by keys: what each takes from a row (and the deployment it joined), "(none)" when empty
GROUP_KEY_FUNCTIONS: dict[str, Callable[[SpendRow, Priced], list[str]]] = {
    "model_group": lambda row, p: [row.model_group or p.model_group or "(none)"],
    "deployment": lambda row, p: [row.model_id or p.key],
    "model": lambda row, p: [row.model or "(none)"],
    "provider": lambda row, p: [row.provider or p.provider or "(none)"],
    "team": lambda row, p: [row.team_id or "(none)"],
    "api_key": lambda row, p: [row.api_key or "(none)"],
    "user": lambda row, p: [row.user or "(none)"],
    "day": lambda row, p: [row.start_time.date().isoformat() if row.start_time else "(none)"],
    "tag": lambda row, p: list(row.raw_tags) or ["(none)"],
}


@dataclass
class Options:
    tolerance_usd: Decimal = Decimal("1e-9")
    tolerance_pct: Decimal = Decimal("0.0001")
    since: datetime | None = None
    until: datetime | None = None
    group_by: tuple[str, ...] = ("model_group",)
    top: int = 20


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


class Reconciler:
    """Feed it sources; it keeps constant memory (bar one 8-byte digest per request_id)."""

    def __init__(self, pricer: Pricer, options: Options,
                 on_mismatch: Callable[[Mismatch], None] | None = None) -> None:
        self.pricer = pricer
        self.options = options
        self.on_mismatch = on_mismatch
        self.totals = Totals()
        self.groups: dict[tuple[str, ...], Group] = {}
        self.top: list[tuple[Any, Mismatch]] = []
        self._seen: set[int] = set()
        self.source_index = 0
        self._by_tag = "tag" in options.group_by
        self._window = options.since is not None or options.until is not None
        self._only_model_group = options.group_by == ("model_group",)

    # -- accounting ------------------------------------------------------------------------

    def skip(self, file: str, line: int, reason: str, detail: str) -> None:
        t = self.totals
        t.rows_skipped += 1
        t.skipped_by_reason[reason] = t.skipped_by_reason.get(reason, 0) + 1
        if len(t.skip_examples) < SKIP_EXAMPLES:
            t.skip_examples.append((file, line, reason, detail))

    def feed(self, source: Source, mapping: dict[str, str] | None = None,
             on_read: Callable[[int, int], None] | None = None) -> None:
        """Reconcile every row of `source`. `on_read(bytes, rows)` reports progress: bytes just
        read from the file, and rows read so far."""
        # The rows make no reference cycles; the cyclic collector would only rescan the pricing
        # caches every few hundred rows (a fifth of the run time on large logs).
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._feed(source, mapping, on_read)
        finally:
            if was_enabled:
                gc.enable()

    def _feed(self, source: Source, mapping: dict[str, str] | None,
              on_read: Callable[[int, int], None] | None) -> None:
        opts = self.options
        need_time = opts.since is not None or opts.until is not None or "day" in opts.group_by
        self.source_index += 1
        totals = self.totals
        report = None if on_read is None else (lambda n: on_read(n, totals.rows_read))
        for line, raw in read_rows(source, mapping, report):
            self.totals.rows_read += 1
            if isinstance(raw, Skip):
                self.skip(source.name, line, raw.reason, raw.detail)
                continue
            try:
                row = to_record(raw, source.name, line, need_time)
            except Skip as skip:
                self.skip(source.name, line, skip.reason, skip.detail)
                continue
            self.add(row)

    def add(self, row: SpendRow) -> None:
        opts = self.options
        if self._window:
            if row.start_time is None:
                self.skip(row.file, row.line, "missing-timestamp", "startTime is empty but --since/--until is set")
                return
            if (opts.since and row.start_time < opts.since) or (opts.until and row.start_time >= opts.until):
                self.skip(row.file, row.line, "outside-window", "startTime outside --since/--until")
                return
        if self._by_tag:
            try:
                row.raw_tags = tags_of(row)
            except Skip as skip:
                self.skip(row.file, row.line, skip.reason, skip.detail)
                return
        # A 64-bit hash per request_id keeps memory flat (about 50 bytes a row); two different ids
        # colliding in one run is a ~1e-8 event at a million rows.
        digest = hash(row.request_id)
        if digest in self._seen:
            self.totals.duplicate_request_ids += 1
            self.skip(row.file, row.line, "duplicate-request-id", f"request_id {row.request_id} seen before")
            return
        self._seen.add(digest)
        try:
            joined = self.pricer.join(row.model_id, row.model_group, row.model, row.provider)
        except ResponseModelUnknown as exc:
            self.skip(row.file, row.line, "azure-response-model-unknown",
                      f"{exc.args[0]} has no base_model: LiteLLM priced it by the model Azure returned, which the "
                      "log's model column does not record; set model_info.base_model")
            return
        self.reconcile(row, *joined)

    # -- pricing ---------------------------------------------------------------------------

    def reconcile(self, row: SpendRow, priced: Priced, unknown: bool) -> None:
        t = self.totals
        if row.cache_hit or row.failed:
            expected = ZERO
        else:
            try:
                expected = priced.cost(row.usage, vertex_location=row.vertex_location, data_residency=row.data_residency) \
                    if row.usage.reported_cost is None else self.expected(row, priced)
            except NotRecomputed as exc:
                self.skip(row.file, row.line, f"not recomputed: {exc.feature}", exc.detail)
                return
        t.rows_reconciled += 1
        t.recorded += row.spend
        t.expected += expected
        usage = row.usage
        unpriced = priced.unpriced and not row.cache_hit and not row.failed
        if unpriced:
            t.unpriced_rows += 1
            t.unpriced_tokens += usage.prompt_tokens + usage.completion_tokens
        cause = None
        if unknown:
            cause = "unknown-deployment"
        elif not self.within(row.spend, expected):
            cause = self.cause(row, priced, expected)
        for key in self.group_keys(row, priced):
            g = self.groups.get(key)
            if g is None:
                g = self.groups[key] = Group(key)
            g.rows += 1
            g.prompt_tokens += usage.prompt_tokens
            g.completion_tokens += usage.completion_tokens
            g.recorded += row.spend
            g.expected += expected
            g.mismatched += cause is not None
            g.unpriced_rows += unpriced
        if cause is None:
            return
        t.mismatched_rows += 1
        t.abs_drift += abs(row.spend - expected)
        t.mismatches_by_cause[cause] = t.mismatches_by_cause.get(cause, 0) + 1
        m = Mismatch(abs(row.spend - expected), (self.source_index, row.line), row.request_id, row.file, row.line,
                     row.model_group,
                     row.model_id or priced.key, row.model, usage.prompt_tokens, usage.completion_tokens,
                     row.spend, expected, cause)
        if self.on_mismatch is not None:
            self.on_mismatch(m)
        self._keep_top(m)

    def expected(self, row: SpendRow, priced: Priced) -> Decimal:
        """What the row should have cost. On a streamed response LiteLLM writes its own bill into
        `usage.cost`, so there (or where the log cannot say, and it equals the logged spend) it
        proves nothing: the row is held to the token cost, and named when that disagrees."""
        location, residency = row.vertex_location, row.data_residency
        usage = row.usage
        if priced.bills_reported(usage) and usage.reported_cost is not None and (
                usage.streamed or (usage.streamed is None and self.within(row.spend, usage.reported_cost))):
            by_tokens = priced.cost(usage, reported=False, vertex_location=location, data_residency=residency)
            if not self.within(row.spend, by_tokens):
                raise NotRecomputed("provider-reported-cost", "usage.cost equals the logged spend: it is either the "
                                    "provider's charge or, on a streamed response, LiteLLM's own bill")
            return by_tokens
        return priced.cost(usage, vertex_location=location, data_residency=residency)

    def _keep_top(self, m: Mismatch) -> None:
        if self.options.top <= 0:
            return
        item = (m.rank, m)
        if len(self.top) < self.options.top:
            heapq.heappush(self.top, item)
        elif m.rank > self.top[0][0]:
            heapq.heapreplace(self.top, item)

    def within(self, recorded: Decimal, expected: Decimal) -> bool:
        allowed = max(self.options.tolerance_usd, abs(expected) * self.options.tolerance_pct / 100)
        return abs(recorded - expected) <= allowed

    def cause(self, row: SpendRow, priced: Priced, expected: Decimal) -> str:
        recorded = row.spend
        if recorded == 0 and expected > 0:
            return "zero-spend"
        if priced.custom and priced.default_entry is not None:
            if self.within(recorded, priced.cost(row.usage, "default", vertex_location=row.vertex_location,
                                                 data_residency=row.data_residency)):
                return "default-price"
        if row.usage.cached_tokens and self.within(recorded, priced.cost(
                row.usage, "no-cache-discount", vertex_location=row.vertex_location, data_residency=row.data_residency)):
            return "cache-not-discounted"
        if expected != 0:
            for factor in UNIT_FACTORS:
                if self.within(recorded, expected * factor):
                    return "unit-error"
        return "other"

    def group_keys(self, row: SpendRow, priced: Priced) -> Iterable[tuple[str, ...]]:
        """The keys of every group the row counts in (a row with several tags is in several)."""
        if self._only_model_group:  # the default, on the hot path
            return ((row.model_group or priced.model_group or "(none)",),)
        values = [GROUP_KEY_FUNCTIONS[name](row, priced) for name in self.options.group_by]
        keys: list[tuple[str, ...]] = [()]
        for options in values:
            keys = [k + (v,) for k in keys for v in options]
        return keys

    def outcome(self) -> Outcome:
        groups = sorted(self.groups.values(), key=lambda g: (-abs(g.delta), g.key))
        top = [m for _rank, m in sorted(self.top, key=lambda item: item[0], reverse=True)]
        return Outcome(self.totals, groups, top)


def write_mismatch(stream: IO[str]) -> Callable[[Mismatch], None]:
    def write(m: Mismatch) -> None:
        stream.write(json.dumps(m.as_json()) + "\n")

    return write
