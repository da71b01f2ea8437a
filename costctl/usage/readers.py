"""Spend-log readers: CSV, JSONL and JSON (`GET /spend/logs`), plain or gzip, files or stdin.

Each reader yields `(line, raw mapping)` lazily (JSON, which LiteLLM returns as one list, is the
exception: it is parsed whole). The format comes from the file name, else from the first bytes;
`--input-format` forces it. Problems with a whole file (unreadable, not UTF-8, truncated gzip, a
JSON document that is not a list, missing columns) raise CostctlError; problems with one row are
yielded as `Skip` so the row is counted, never dropped.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import stat
import sys
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

from costctl.errors import CostctlError
from costctl.usage import postgres
from costctl.usage.record import FIELDS, JOIN_COLUMNS, REQUIRED, Skip, SpendRow, to_record

# The longest spend-log record read (a CSV record, a JSONL line): LiteLLM's rows are a few KB,
# their metadata rarely 100 KB. Longer ones are not held in memory: a JSONL line is skipped as
# `record-too-long`, a CSV record (which may span lines, so its end is not known) stops the run.
MAX_RECORD_CHARS = 16 * 1024 * 1024
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
Row = tuple[int, "Mapping[str, Any] | Skip"]


class CountingReader(io.RawIOBase):
    """A binary stream that counts the bytes read from the underlying file (for progress)."""

    def __init__(self, raw: BinaryIO, on_read: Callable[[int], None] | None = None) -> None:
        self.raw = raw
        self.on_read = on_read
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self.on_read is not None and n:
            self.on_read(n)
        return n

    def close(self) -> None:
        if not self.closed:
            self.raw.close()  # the file underneath: closing the reader closes it
        super().close()


@dataclass
class Source:
    """One input: its name as shown, its format, and how to open it as bytes."""

    name: str
    format: str
    gzipped: bool
    size: int | None  # None for a stream, which can be read once
    _opener: Callable[[], BinaryIO]
    path: str | None = None  # a file other readers (DuckDB) may open themselves
    # No two rows can share a request_id (a database's unique index says so, once reading has
    # begun): the engines need not remember the ids they saw.
    unique_ids: bool = False
    # A row's place is its line less this: a database's rows copied out as CSV are numbered from
    # 1 below their header line.
    line_shift: int = 0

    @property
    def is_stream(self) -> bool:
        """Bytes that can be read once (stdin, a pipe): a file must be made of them to read twice."""
        return self.path is None and self.format in READERS and self.format != "postgres"

    def open_bytes(self, on_read: Callable[[int], None] | None = None) -> IO[bytes]:
        raw = io.BufferedReader(CountingReader(self._opener(), on_read), 1 << 20)
        if self.gzipped:
            return _OwningGzip(raw)  # type: ignore[return-value]
        return raw


@dataclass
class DatabaseSource(Source):
    """A table of LiteLLM's PostgreSQL (usage/postgres.py); its name shows no password."""

    uri: str = ""
    settings: postgres.Settings = field(default_factory=postgres.Settings)


class _OwningGzip(gzip.GzipFile):
    """A GzipFile that closes the stream it reads (GzipFile leaves a given fileobj open)."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__(fileobj=raw)
        self._owned = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._owned.close()


def _sniff(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        return "jsonl"
    return "csv"


def _stream_source(name: str, raw: Any, forced: str | None) -> Source:
    """A source that can be read once (stdin, a pipe): sniffed by peeking, never reopened."""
    buffered: Any = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)
    head = buffered.peek(4096)[:4096]
    gzipped = head.startswith(GZIP_MAGIC)
    if gzipped:
        head = _gunzip_head(head)
    return Source(name, forced or _sniff(head), gzipped, None, lambda: buffered)


def open_source(spec: str, forced: str | None = None, settings: postgres.Settings | None = None) -> Source:
    """The source `spec` names (the first kind in SOURCE_KINDS that claims it), its format
    worked out without reading more than its first bytes; `settings` for a database."""
    for _kind, claims, opener in SOURCE_KINDS:
        if claims(spec):
            return opener(spec, forced, settings or postgres.Settings())
    raise CostctlError("no source kind reads this", spec)  # unreachable: files claim everything


def _open_stdin(_spec: str, forced: str | None, _settings: postgres.Settings) -> Source:
    return _stream_source("<stdin>", sys.stdin.buffer, forced)


def _open_database(uri: str, forced: str | None, settings: postgres.Settings) -> Source:
    name = f"{postgres.shown_uri(uri)}#{settings.table.replace(chr(34), '')}"
    if forced is not None:
        raise CostctlError("--input-format is for files; a database is read as a table", name)

    def no_bytes() -> BinaryIO:
        raise CostctlError("a database has no bytes to read", name)

    return DatabaseSource(name, "postgres", False, None, no_bytes, uri=uri, settings=settings)


def read_database(source: Source, mapping: Mapping[str, str], on_read: Callable[[int], None] | None) -> Iterator[Row]:
    assert isinstance(source, DatabaseSource)
    rename = renamer(mapping)
    def unique() -> None:
        source.unique_ids = "request_id" not in mapping

    for number, row in postgres.read_rows(source.uri, source.name, source.settings, mapping,
                                          lambda found: check_columns(found, source, mapping), unique):
        yield number, rename(row)


def _open_file(path: str, forced: str | None, _settings: postgres.Settings) -> Source:
    """A file, or a pipe named like one (`<(zcat logs.gz)`)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path):
            return _stream_source(path, open(path, "rb"), forced)  # a pipe: <(zcat logs.gz)
        with open(path, "rb") as fh:
            head = fh.read(4096)
            size = fh.seek(0, io.SEEK_END)
    except FileNotFoundError:
        raise CostctlError("spend log not found", path) from None
    except IsADirectoryError:
        raise CostctlError("is a directory, expected a spend-log file", path) from None
    except OSError as exc:
        raise CostctlError(f"cannot read spend log: {exc.strerror}", path) from None
    gzipped = head.startswith(GZIP_MAGIC) or path.endswith(".gz")
    name = path[:-3] if path.endswith(".gz") else path
    if forced:
        fmt = forced
    elif name.endswith(".parquet") or head.startswith(PARQUET_MAGIC):
        fmt, gzipped = "parquet", False
    elif name.endswith(".csv"):
        fmt = "csv"
    elif name.endswith((".jsonl", ".ndjson")):
        fmt = "jsonl"
    elif name.endswith(".json"):
        fmt = "json"
    else:
        fmt = _sniff(_gunzip_head(head) if head.startswith(GZIP_MAGIC) else head)
    return Source(path, fmt, gzipped, size, lambda: open(path, "rb"), path)


def spool(source: Source, folder: str, mapping: Mapping[str, str] | None = None) -> Source:
    """`source` as a file: a stream (stdin, a pipe) is copied as it comes (still compressed) into
    `folder`, so that it can be read again and by DuckDB; a database table's rows are written
    by postgres.copy_rows (row n: line n + 1 of a CSV, line n of JSON lines). It keeps its name
    in every message."""
    if source.path is not None:
        return source
    target = os.path.join(folder, f"spool-{len(os.listdir(folder))}")
    if isinstance(source, DatabaseSource):  # its rows as CSV (or JSON lines), for the file engines
        unique, written = postgres.copy_rows(source.uri, source.name, source.settings, mapping or {},
                                             lambda found: check_columns(found, source, mapping or {}), target)
        return Source(source.name, written, False, os.path.getsize(target), lambda: open(target, "rb"), target,
                      unique_ids=unique and "request_id" not in (mapping or {}),
                      line_shift=1 if written == "csv" else 0)
    with source._opener() as raw, open(target, "wb") as out:
        shutil.copyfileobj(raw, out, 1 << 20)
        size = out.tell()
    return Source(source.name, source.format, source.gzipped, size, lambda: open(target, "rb"), target)


def _gunzip_head(head: bytes) -> bytes:
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4096)
    except zlib.error:
        return b""


def check_columns(found: list[str], source: Source, mapping: Mapping[str, str]) -> None:
    absent = [f"{field}={column}" for field, column in mapping.items() if column not in found]
    if absent:
        raise CostctlError(f"--map {', '.join(absent)}: no such column; found: {', '.join(found) or '(none)'}",
                           source.name, 1)
    present = set(found) | {field for field, column in mapping.items() if column in found}
    missing = [c for c in REQUIRED if c not in present]
    if not any(c in present for c in JOIN_COLUMNS):
        missing.append("model_id or model_group or model")
    if missing:
        raise CostctlError(
            f"missing required column(s): {', '.join(missing)}; found: {', '.join(found) or '(none)'}; "
            f"expected LiteLLM_SpendLogs columns ({', '.join(REQUIRED)}, one of {', '.join(JOIN_COLUMNS)}) "
            "or --map FIELD=COLUMN", source.name, 1)


def renamer(mapping: Mapping[str, str]) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
    if not mapping:
        return lambda row: row

    def rename(row: Mapping[str, Any]) -> Mapping[str, Any]:
        out = dict(row)
        for name, column in mapping.items():
            if column in row:
                out[name] = row[column]
        return out

    return rename


def _decoding(fn: Callable[..., Iterator[Row]]) -> Callable[..., Iterator[Row]]:
    """Turn stream-level failures into one clear CostctlError."""

    def wrapped(source: Source, mapping: Mapping[str, str], on_read: Callable[[int], None] | None) -> Iterator[Row]:
        try:
            yield from fn(source, mapping, on_read)
        except UnicodeDecodeError as exc:
            raise CostctlError(f"not UTF-8 text ({exc.reason}); is this a spend-log export?", source.name) from None
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise CostctlError(f"damaged gzip data ({exc or 'truncated'})", source.name) from None
        except csv.Error as exc:
            raise CostctlError(f"malformed CSV: {exc}", source.name) from None
        except OSError as exc:
            raise CostctlError(f"cannot read spend log: {exc}", source.name) from None

    return wrapped


class _BoundedLines:
    """The lines of a text stream for csv.reader, refusing a record longer than
    MAX_RECORD_CHARS (its lines are counted until `record_done`), so that an unclosed quote or
    a huge field is one clear error, not the whole file in memory."""

    def __init__(self, text: IO[str], name: str) -> None:
        self.text, self.name = text, name
        self.held = 0
        self.line = self.start = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        data = self.text.readline(MAX_RECORD_CHARS + 1)
        if not data:
            raise StopIteration
        self.line += 1
        if not self.held:
            self.start = self.line
        self.held += len(data)
        if self.held > MAX_RECORD_CHARS:
            raise CostctlError(f"a CSV record longer than {MAX_RECORD_CHARS:,} characters starts here (an unclosed "
                               "quote?)", self.name, self.start)
        return data

    def record_done(self) -> None:
        self.held = 0


@_decoding
def read_csv(source: Source, mapping: Mapping[str, str], on_read: Callable[[int], None] | None) -> Iterator[Row]:
    csv.field_size_limit(MAX_RECORD_CHARS)
    with source.open_bytes(on_read) as raw:
        lines = _BoundedLines(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""), source.name)
        reader = csv.reader(lines)
        first = next(reader, None)
        lines.record_done()
        if first is None:
            raise CostctlError("empty file: expected a header row", source.name, 1)
        if any("\x00" in h for h in first):
            raise CostctlError("binary data, not a CSV spend log", source.name, 1)
        header = [h.strip() for h in first]
        check_columns(header, source, mapping)
        rename = renamer(mapping)
        width = len(header)
        previous_end = reader.line_num
        for values in reader:
            lines.record_done()
            line = previous_end + 1 - source.line_shift
            previous_end = reader.line_num
            if not values:
                continue  # a blank line is not a row
            if len(values) != width:
                yield line, Skip("malformed-row", f"{len(values)} fields, header has {width}")
                continue
            yield line, rename(dict(zip(header, values, strict=False)))  # lengths checked above


def _objects(items: Iterator[tuple[int, Any]], source: Source, mapping: Mapping[str, str], checked: bool,
             reason: str) -> Iterator[Row]:
    """JSON values as rows: objects renamed (the first one's keys checked), anything else a Skip."""
    rename = renamer(mapping)
    for line, row in items:
        if isinstance(row, Skip):
            yield line, row
        elif not isinstance(row, dict):
            yield line, Skip(reason, "not a JSON object")
        else:
            if not checked:
                check_columns(list(row), source, mapping)
                checked = True
            yield line, rename(row)


@_decoding
def read_jsonl(source: Source, mapping: Mapping[str, str], on_read: Callable[[int], None] | None) -> Iterator[Row]:
    def values(raw: IO[bytes]) -> Iterator[tuple[int, Any]]:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig")
        line = 0
        while data := text.readline(MAX_RECORD_CHARS + 1):
            line += 1
            if len(data) > MAX_RECORD_CHARS:
                while data and not data.endswith("\n"):  # the rest of the line, a piece at a time
                    data = text.readline(MAX_RECORD_CHARS)
                yield line, Skip("record-too-long", f"a line longer than {MAX_RECORD_CHARS:,} characters")
                continue
            if not data.strip():
                continue
            try:
                yield line, json.loads(data)
            except ValueError:
                if "\x00" in data:
                    raise CostctlError("binary data, not a JSONL spend log", source.name, line) from None
                yield line, Skip("bad-json-line", "not valid JSON")

    with source.open_bytes(on_read) as raw:
        yield from _objects(values(raw), source, mapping, False, "bad-json-line")


MAX_WRAPPED_CHARS = 64 * 1024 * 1024  # a {"data": [...]} answer is parsed whole: at most this much


class _JsonList:
    """The items of a JSON list, parsed one at a time from a text stream read in pieces (so a
    list of any length is read in bounded memory; one item may take MAX_RECORD_CHARS)."""

    def __init__(self, text: IO[str], name: str) -> None:
        self.text, self.name = text, name
        self.buffer, self.at, self.eof = "", 0, False
        self.lines = 1  # the line `at` is on, for messages
        self.decoder = json.JSONDecoder()

    def _more(self) -> bool:
        piece = self.text.read(1 << 20)
        if not piece:
            self.eof = True
            return False
        self.lines += self.buffer.count("\n", 0, self.at)
        self.buffer = self.buffer[self.at:] + piece
        self.at = 0
        return True

    def _next_char(self) -> str:
        """The next character that is not whitespace, not consumed ('' at the end)."""
        while True:
            while self.at < len(self.buffer) and self.buffer[self.at] in " \t\r\n":
                self.at += 1
            if self.at < len(self.buffer) or not self._more():
                return self.buffer[self.at:self.at + 1]

    def _error(self, what: str) -> CostctlError:
        return CostctlError(f"not valid JSON: {what}", self.name, self.lines + self.buffer.count("\n", 0, self.at))

    def first(self) -> str:
        char = self._next_char()
        if char == "\ufeff":
            self.at += 1
            char = self._next_char()
        return char

    def items(self) -> Iterator[Any]:
        self.at += 1  # the opening [
        if self._next_char() == "]":
            self.at += 1
        else:
            while True:
                yield self._item()
                char = self._next_char()
                self.at += 1
                if char == "]":
                    break
                if char != ",":
                    raise self._error("expected ',' or ']' after a list item")
        if self._next_char():
            raise self._error("extra data after the list")

    def _item(self) -> Any:
        self._next_char()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.at)
            except json.JSONDecodeError as exc:
                # an item cut by the end of the piece read fails at that end (or in its last string)
                cut = exc.pos >= len(self.buffer) or exc.msg.startswith("Unterminated string")
                if cut and len(self.buffer) - self.at > MAX_RECORD_CHARS:
                    raise self._error(f"a list item longer than {MAX_RECORD_CHARS:,} characters") from None
                if not cut or not self._more():
                    self.at = min(exc.pos, len(self.buffer)) if not cut else self.at
                    raise self._error(exc.msg) from None
                continue
            if end == len(self.buffer) and not self.eof and self._more():
                continue  # a number may go on in the next piece
            self.at = end
            return value


@_decoding
def read_json(source: Source, mapping: Mapping[str, str], on_read: Callable[[int], None] | None) -> Iterator[Row]:
    """A JSON list of rows (GET /spend/logs), read an item at a time; or a paginated answer that
    wraps it in {"data": [...]}, parsed whole (up to MAX_WRAPPED_CHARS)."""
    with source.open_bytes(on_read) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig")
        reader = _JsonList(text, source.name)
        first = reader.first()
        if first == "[":
            yield from _objects(enumerate(reader.items(), start=1), source, mapping, False, "bad-json-item")
            return
        whole = reader.buffer[reader.at:] + text.read(MAX_WRAPPED_CHARS)
        if len(whole) > MAX_WRAPPED_CHARS:
            raise CostctlError(f"a JSON document that is not a list, over {MAX_WRAPPED_CHARS:,} characters; "
                               "expected a JSON list of spend-log rows, or JSONL", source.name, 1)
        try:
            doc = json.loads(whole)
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            raise CostctlError(f"not valid JSON: {getattr(exc, 'msg', exc)}", source.name, line) from None
    if isinstance(doc, dict) and isinstance(doc.get("data"), list):
        doc = doc["data"]  # paginated /spend/logs answers wrap the list
    if not isinstance(doc, list):
        raise CostctlError(f"expected a JSON list of spend-log rows (as GET /spend/logs returns), found a "
                           f"{type(doc).__name__}", source.name, 1)
    yield from _objects(enumerate(doc, start=1), source, mapping, False, "bad-json-item")


def read_parquet(source: Source, mapping: Mapping[str, str], on_read: Callable[[int], None] | None) -> Iterator[Row]:
    """Parquet files (a LiteLLM_SpendLogs export), read in batches with DuckDB (the optional
    `parquet` extra, imported only here). Line numbers are row numbers."""
    if source.size is None:
        raise CostctlError("Parquet can only be read from a file, not from stdin or a pipe", source.name)
    try:
        import duckdb
    except ImportError:
        raise CostctlError("reading Parquet needs DuckDB, which this installation lacks: pip install duckdb",
                           source.name) from None
    con = duckdb.connect()
    try:
        counted = con.execute("select count(*) from read_parquet(?)", [source.name]).fetchone()
        total = counted[0] if counted else 0
        cursor = con.execute("select * from read_parquet(?)", [source.name])
    except duckdb.Error as exc:
        raise CostctlError(f"not a readable Parquet file: {str(exc).splitlines()[0]}", source.name) from None
    columns = [d[0] for d in cursor.description]
    check_columns(columns, source, mapping)
    rename = renamer(mapping)
    line = 0
    while True:
        batch = cursor.fetchmany(8192)
        if not batch:
            break
        if on_read is not None and total:
            on_read(source.size * len(batch) // total)
        for values in batch:
            line += 1
            yield line, rename(dict(zip(columns, values, strict=True)))
    con.close()


# Where spend logs come from, by how they are named: (kind, claims the spec, opens it). A kind is
# one entry here, before "file", plus a reader in READERS for the format its Source declares; the
# DuckDB engine reads files only (vectorized.unsupported_reason), a database is priced in the
# database (reconcile/pushdown.py) or read row by row.
SOURCE_KINDS: list[tuple[str, Callable[[str], bool], Callable[[str, str | None, postgres.Settings], Source]]] = [
    ("stdin", lambda spec: spec == "-", _open_stdin),
    ("postgres", postgres.claims, _open_database),
    ("file", lambda spec: True, _open_file),
]

READERS: dict[str, Callable[..., Iterator[Row]]] = {"csv": read_csv, "jsonl": read_jsonl, "json": read_json,
                                                   "parquet": read_parquet, "postgres": read_database}


def read_rows(source: Source, mapping: Mapping[str, str] | None = None,
              on_read: Callable[[int], None] | None = None) -> Iterator[Row]:
    """(line or item number, raw row or Skip) for every row of `source`."""
    unknown = [f for f in (mapping or {}) if f not in FIELDS]
    if unknown:
        raise CostctlError(f"--map {', '.join(unknown)}: unknown field; fields: {', '.join(FIELDS)}")
    return READERS[source.format](source, mapping or {}, on_read)


def read_records(source: Source, mapping: Mapping[str, str] | None = None, need_time: bool = True,
                 on_read: Callable[[int], None] | None = None) -> Iterator[tuple[int, SpendRow | Skip]]:
    """(line or item number, SpendRow or the Skip that names why the row cannot be one) for
    every row of `source`: what every use case that prices rows one by one reads."""
    name = source.name
    for line, raw in read_rows(source, mapping, on_read):
        if isinstance(raw, Skip):
            yield line, raw
            continue
        try:
            yield line, to_record(raw, name, line, need_time)
        except Skip as skip:
            yield line, skip
