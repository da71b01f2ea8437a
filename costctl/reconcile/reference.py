"""The reference reconcile engine: row by row, in Decimal. The definition of correct; the
rules it applies are those of model.py, and the DuckDB engine must give its result exactly.
"""

from __future__ import annotations

import gc
import heapq
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import IO, Any

from costctl.choices import GROUP_KEYS
from costctl.pricing import NotRecomputed
from costctl.reconcile.model import (
    AZURE_DETAIL,
    JOIN_GROUP_KEYS,
    NONE,
    ROW_GROUP_KEYS,
    UNIT_FACTORS,
    ZERO,
    Ledger,
    Mismatch,
    Options,
    Outcome,
    key_product,
    window_skip,
)
from costctl.reconcile.pricer import Priced, Pricer, ResponseModelUnknown
from costctl.usage.readers import Source, read_records
from costctl.usage.record import Skip, SpendRow, tags_of


def _row_key(name: str) -> Callable[[SpendRow, Priced], list[str]]:
    if name in JOIN_GROUP_KEYS:
        key = JOIN_GROUP_KEYS[name]
        return lambda row, p: [key(row.model_id, row.model_group, row.model, row.provider, p)]
    if name in ROW_GROUP_KEYS:
        attribute = ROW_GROUP_KEYS[name]
        return lambda row, p: [getattr(row, attribute) or NONE]
    if name == "day":
        return lambda row, p: [row.start_time.date().isoformat() if row.start_time else NONE]
    return lambda row, p: list(row.raw_tags) or [NONE]  # tag


GROUP_KEY_FUNCTIONS = {name: _row_key(name) for name in GROUP_KEYS}


class Reconciler:
    """Feed it sources; it keeps constant memory (bar one 8-byte digest per request_id)."""

    def __init__(self, pricer: Pricer, options: Options,
                 on_mismatch: Callable[[Mismatch], None] | None = None) -> None:
        self.pricer = pricer
        self.options = options
        self.on_mismatch = on_mismatch
        self.ledger = Ledger()
        self.totals = self.ledger.totals
        self.top: list[tuple[Any, Mismatch]] = []
        self._seen: set[int] = set()
        self.names: list[str] = []
        self._by_tag = "tag" in options.group_by
        self._only_model_group = options.group_by == ("model_group",)

    def skip(self, line: int, reason: str, detail: str) -> None:
        self.ledger.skip_row(len(self.names), line, reason, detail)

    def feed(self, source: Source, mapping: dict[str, str] | None = None,
             on_read: Callable[[int, int], None] | None = None) -> None:
        """Reconcile every row of `source`. `on_read(bytes, rows)` reports progress: bytes just
        read from the file, and rows read so far."""
        self.names.append(source.name)
        totals = self.totals
        report = None if on_read is None else (lambda n: on_read(n, totals.rows_read))
        # The rows make no reference cycles; the cyclic collector would only rescan the pricing
        # caches every few hundred rows (a fifth of the run time on large logs).
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            for line, row in read_records(source, mapping, self.options.needs_time, report):
                totals.rows_read += 1
                if isinstance(row, Skip):
                    self.skip(line, row.reason, row.detail)
                else:
                    self.add(row, not source.unique_ids)
        finally:
            if was_enabled:
                gc.enable()

    def add(self, row: SpendRow, dedupe: bool = True) -> None:
        """One row; `dedupe`: its request_id may repeat an earlier row's."""
        left_out = window_skip(row.start_time, self.options)
        if left_out is not None:
            self.skip(row.line, *left_out)
            return
        if self._by_tag:
            try:
                row.raw_tags = tags_of(row)
            except Skip as skip:
                self.skip(row.line, skip.reason, skip.detail)
                return
        # A 64-bit hash per request_id keeps memory flat (about 50 bytes a row); two different ids
        # colliding in one run is a ~1e-8 event at a million rows.
        if dedupe:
            digest = hash(row.request_id)
            if digest in self._seen:
                self.totals.duplicate_request_ids += 1
                self.skip(row.line, "duplicate-request-id", f"request_id {row.request_id} seen before")
                return
            self._seen.add(digest)
        try:
            joined = self.pricer.join(row.model_id, row.model_group, row.model, row.provider)
        except ResponseModelUnknown as exc:
            self.skip(row.line, "azure-response-model-unknown", AZURE_DETAIL.format(exc.args[0]))
            return
        self.reconcile(row, *joined)

    # -- pricing ---------------------------------------------------------------------------

    def reconcile(self, row: SpendRow, priced: Priced, unknown: bool) -> None:
        if row.cache_hit or row.failed:
            expected = ZERO
        else:
            try:
                expected = priced.cost(row.usage, vertex_location=row.vertex_location, data_residency=row.data_residency) \
                    if row.usage.reported_cost is None else self.expected(row, priced)
            except NotRecomputed as exc:
                self.skip(row.line, f"not recomputed: {exc.feature}", exc.detail)
                return
        usage = row.usage
        unpriced = priced.unpriced and not row.cache_hit and not row.failed
        cause = None
        if unknown:
            cause = "unknown-deployment"
        elif not self.within(row.spend, expected):
            cause = self.cause(row, priced, expected)
        drift = abs(row.spend - expected) if cause is not None else ZERO  # kept for mismatches only
        pt, ct = usage.prompt_tokens, usage.completion_tokens
        self.ledger.reconciled(1, pt, ct, row.spend, expected, cause, drift, unpriced)
        for key in self.group_keys(row, priced):
            self.ledger.grouped(key, 1, pt, ct, row.spend, expected, cause is not None, unpriced)
        if cause is None:
            return
        m = Mismatch(drift, (len(self.names), row.line), row.request_id, row.file, row.line, row.model_group,
                     row.model_id or priced.key, row.model, pt, ct, row.spend, expected, cause)
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
            return ((row.model_group or priced.model_group or NONE,),)
        return key_product([GROUP_KEY_FUNCTIONS[name](row, priced) for name in self.options.group_by])

    def outcome(self) -> Outcome:
        top = [m for _rank, m in sorted(self.top, key=lambda item: item[0], reverse=True)]
        return self.ledger.outcome(self.names, top)


def write_mismatch(stream: IO[str]) -> Callable[[Mismatch], None]:
    def write(m: Mismatch) -> None:
        stream.write(json.dumps(m.as_json()) + "\n")

    return write
