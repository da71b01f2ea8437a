"""Reading one large spend-log file on every core: the file is cut into byte ranges at row
boundaries, each range is reconciled by a forked worker, and the partial results are merged in
file order. The result is the serial engine's, bit for bit (same totals, groups, top mismatches,
skip examples and --mismatches-out order); when a request_id repeats across ranges the file is
simply read again serially, so duplicates are counted exactly as the serial engine counts them.

Only plain CSV and JSONL files are cut (gzip, stdin and JSON lists are read serially). A CSV cut
is placed after a newline outside any quoted field: CSV doubles the quotes inside quoted fields,
so the parity of the quote characters before a position tells whether it is inside one.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from costctl.reconcile.engine import Partial, Reconciler, write_mismatch
from costctl.usage.readers import Source

MIN_CHUNK_BYTES = 16 * 1024 * 1024
BLOCK = 8 * 1024 * 1024

# Set in the parent just before forking: the workers inherit it instead of pickling it.
_SHARED: dict[str, Any] = {}


def workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def plan_chunks(source: Source, n: int, min_chunk: int = MIN_CHUNK_BYTES) -> list[Source] | None:
    """Byte ranges of `source` at row boundaries, or None when it is better read serially."""
    if n < 2 or source.gzipped or source.size is None or source.format not in ("csv", "jsonl"):
        return None
    if source.size < 2 * min_chunk:
        return None
    n = min(n, source.size // min_chunk)
    with source._opener() as fh:
        header: list[str] | None = None
        body_start = 0
        if source.format == "csv":
            first = fh.readline()
            try:
                header = [h.strip() for h in next(csv.reader(io.StringIO(first.decode("utf-8-sig"))))]
            except (UnicodeDecodeError, StopIteration, csv.Error):
                return None  # let the serial reader report what is wrong with the file
            if first.count(b'"') % 2:
                return None  # a header with a newline inside quotes: not worth cutting
            body_start = fh.tell()
        targets = [body_start + (source.size - body_start) * k // n for k in range(1, n)]
        cuts = _row_boundaries(fh, body_start, targets, quoted=source.format == "csv",
                               lines_before=1 if header is not None else 0)
    if cuts is None:
        return None
    chunks = []
    bounds = [(body_start, 1 + (1 if header is not None else 0))] + cuts
    for i, (start, first_line) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else source.size
        if end > start:
            chunks.append(source.chunk(start, end, first_line, header))
    return chunks if len(chunks) > 1 else None


def _row_boundaries(fh: Any, start: int, targets: list[int], quoted: bool,
                    lines_before: int) -> list[tuple[int, int]] | None:
    """For each target offset (ascending), the first position after it where a row starts, with
    the 1-based physical line number there (`lines_before` lines precede `start`)."""
    fh.seek(start)
    position = start      # file offset of the current block
    quotes = newlines = 0  # counted over [start, position + offset)
    found: list[tuple[int, int]] = []
    while len(found) < len(targets):
        block = fh.read(BLOCK)
        if not block:
            break
        offset = 0
        while len(found) < len(targets):
            target = targets[len(found)] - position
            if target >= len(block):
                break
            if target > offset:
                quotes += block.count(b'"', offset, target)
                newlines += block.count(b"\n", offset, target)
                offset = target
            nl = block.find(b"\n", offset)
            if nl < 0:
                break
            quotes += block.count(b'"', offset, nl)
            newlines += 1
            offset = nl + 1
            if not quoted or quotes % 2 == 0:
                found.append((position + offset, lines_before + newlines + 1))
        quotes += block.count(b'"', offset)
        newlines += block.count(b"\n", offset)
        position += len(block)
    return found if len(found) == len(targets) else None


def _work(index: int, mismatch_path: str | None) -> Partial:
    """Reconcile chunk `index` (inherited through fork, like the pricer) in this worker."""
    chunk: Source = _SHARED["chunks"][index]
    out = open(mismatch_path, "w", encoding="utf-8") if mismatch_path else None
    try:
        rec = Reconciler(_SHARED["pricer"], _SHARED["options"], write_mismatch(out) if out else None)
        rec.source_index = _SHARED["source_index"] - 1  # feed() adds one
        rec.feed(chunk, _SHARED["mapping"])
        return rec.partial()
    finally:
        if out:
            out.close()


def feed_parallel(main: Reconciler, source: Source, chunks: list[Source], mapping: dict[str, str] | None,
                  mismatches_out: Any, on_read: Callable[[int, int], None] | None) -> bool:
    """Reconcile `chunks` of `source` in forked workers and merge them into `main`. Returns False
    (leaving `main` untouched) when the serial engine must read the source instead."""
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return False
    _SHARED.update(pricer=main.pricer, options=main.options, mapping=mapping, source_index=main.source_index + 1,
                   chunks=chunks)
    tmp = tempfile.mkdtemp(prefix="costctl-")
    try:
        paths = [os.path.join(tmp, f"{i}.jsonl") if mismatches_out is not None else None for i in range(len(chunks))]
        with context.Pool(len(chunks)) as pool:
            pending = [pool.apply_async(_work, (i, paths[i])) for i in range(len(chunks))]
            parts = []
            rows = main.totals.rows_read
            for chunk, job in zip(chunks, pending, strict=True):
                parts.append(job.get())
                rows += parts[-1].totals.rows_read
                if on_read is not None:
                    on_read(chunk.size or 0, rows)
        seen = set(main._seen)
        for part in parts:
            if seen & part.seen:
                return False  # a request_id repeats across chunks: count it the serial way
            seen |= part.seen
        main.source_index += 1
        for part in parts:
            main.merge(part)
        for path in paths:
            if path is not None:
                with open(path, encoding="utf-8") as fh:
                    shutil.copyfileobj(fh, mismatches_out)
        return True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        _SHARED.clear()
