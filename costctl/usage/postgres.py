"""LiteLLM's PostgreSQL as a spend-log source: `postgresql://user@host:port/db` (or `postgres://`).

Connection settings follow libpq: the URI, then PGPASSWORD, ~/.pgpass, PGSSLMODE and the other
PG* variables. costctl connects as `application_name=costctl`, with a `statement_timeout`, and
reads in one REPEATABLE READ, READ ONLY transaction (one snapshot while LiteLLM keeps writing),
which it never commits: it cannot write to the database. The only objects it creates are
temporary tables of its own session (the pushdown engine's price and key tables), created before
that transaction and gone with the session.

Rows are read in the order ("startTime", request_id) — LiteLLM indexes both — and numbered from
1 in that order: `postgresql://…/db#LiteLLM_SpendLogs:12` is the 12th row. --since/--until
become a range on "startTime", so rows outside the window are not read at all. Rows come out
through a server-side cursor (`read_rows`, for the reference engine) or one COPY as CSV (JSON
lines when a value breaks a line; `copy_rows`, for the file engines); reconcile/pushdown.py
prices them in the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from costctl.errors import CostctlError

DEFAULT_TABLE = '"LiteLLM_SpendLogs"'
DEFAULT_TIMEOUT_S = 600
SCHEMES = ("postgresql://", "postgres://")
FETCH_ROWS = 5000  # rows per round trip of the server-side cursor


def claims(spec: str) -> bool:
    return spec.startswith(SCHEMES)


def shown_uri(uri: str) -> str:
    """The URI without its password (in the authority or as a `password=` parameter)."""
    parts = urlsplit(uri)
    netloc = parts.netloc
    if "@" in netloc:
        auth, host = netloc.rsplit("@", 1)
        netloc = auth.split(":", 1)[0] + "@" + host
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith("password="))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


_IDENTIFIER = re.compile(r'"[^"\x00]+"|[A-Za-z_][A-Za-z0-9_$]*')


def table_sql(name: str) -> str:
    """--table as SQL: one or two identifiers (schema.table), each bare or double-quoted; a bare
    one keeps its case as written (LiteLLM's tables are mixed-case)."""
    parts = []
    rest = name.strip()
    while True:
        m = _IDENTIFIER.match(rest)
        if not m:
            break
        ident = m.group(0)
        parts.append(ident if ident.startswith('"') else '"' + ident + '"')
        rest = rest[m.end():]
        if not rest.startswith("."):
            break
        rest = rest[1:]
    if rest or not 1 <= len(parts) <= 2:
        raise CostctlError(f"--table {name!r}: expected a table name, optionally schema-qualified "
                           '(LiteLLM_SpendLogs, litellm."LiteLLM_SpendLogs")')
    return ".".join(parts)


@dataclass
class Settings:
    """How a PostgreSQL source is read: --table, --statement-timeout and the window."""

    table: str = DEFAULT_TABLE
    statement_timeout_s: float = DEFAULT_TIMEOUT_S
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class Database:
    """An open read of one table: a connection inside its read-only snapshot."""

    con: Any
    table: str  # as SQL
    columns: list[str] = field(default_factory=list)

    def order(self, mapping: Mapping[str, str]) -> list[str]:
        """The columns rows are numbered by: startTime, then request_id (LiteLLM indexes both)."""
        return [c for c in (mapping.get("startTime", "startTime"), mapping.get("request_id", "request_id"))
                if c in self.columns]

    def where(self, settings: Settings, mapping: Mapping[str, str]) -> str:
        """The window as a range on "startTime" (UTC, stored without zone), as SQL. Without
        that column there is no range: the engines skip each row as missing-timestamp."""
        column = mapping.get("startTime", "startTime")
        conditions, params = [], []
        for op, moment in ((">=", settings.since), ("<", settings.until)):
            if moment is not None and column in self.columns:
                conditions.append(f"{quoted(column)} {op} %s")
                params.append(moment.astimezone(timezone.utc).replace(tzinfo=None))
        if not conditions:
            return ""
        clause = " WHERE " + " AND ".join(conditions)
        return str(driver(self.table).ClientCursor(self.con).mogrify(clause, params))

    def column_types(self) -> dict[str, str]:
        """Each column's type name, in the table's order."""
        return dict(self.con.execute(
            "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            [self.table]).fetchall())


def quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def driver(name: str) -> Any:
    try:
        import psycopg
    except ImportError:
        raise CostctlError("reading PostgreSQL needs psycopg: pip install 'costctl[postgres]'", name) from None
    return psycopg


def _first_line(exc: BaseException, uri: str) -> str:
    from costctl.config.secrets import redact

    text = " ".join(str(exc).split()) or type(exc).__name__
    password = urlsplit(uri).password
    if password:
        text = text.replace(password, "***")
    return redact(text.removeprefix("connection failed: "))


def connect(uri: str, name: str, settings: Settings, prepare: Callable[[Any], None] | None = None) -> Database:
    """Connect, check the table and its columns, run `prepare` (temporary tables) and open the
    read-only snapshot every later query reads."""
    psycopg = driver(name)
    table = table_sql(settings.table)
    timeout_ms = max(1, int(settings.statement_timeout_s * 1000))
    try:
        # extra_float_digits=1: a float8 reads as its shortest exact text; a cursor is read whole
        # (cursor_tuple_fraction=1); JIT costs more than it saves on costctl's wide expressions
        con = psycopg.connect(uri, autocommit=True, application_name="costctl", connect_timeout=15,
                              options=f"-c statement_timeout={timeout_ms} -c extra_float_digits=1 "
                                      "-c cursor_tuple_fraction=1 -c jit=off")
    except psycopg.Error as exc:
        raise CostctlError(f"cannot connect: {_first_line(exc, uri)}", name) from None
    try:
        found = con.execute("SELECT to_regclass(%s)", [table]).fetchone()[0]
        if found is None:
            raise CostctlError(f"no table {table} in this database (--table names another)", name)
        cursor = con.execute(f"SELECT * FROM {table} LIMIT 0")
        columns = [d.name for d in cursor.description]
        if prepare is not None:
            prepare(con)
        con.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    except psycopg.Error as exc:
        con.close()
        raise CostctlError(_first_line(exc, uri), name) from None
    except BaseException:
        con.close()
        raise
    return Database(con, table, columns)


def unique_request_ids(con: Any, table: str) -> bool:
    """request_id alone is a unique key of `table` (LiteLLM's primary key): no row repeats one."""
    return bool(con.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = i.indkey[0] WHERE i.indrelid = to_regclass(%s) AND i.indisunique "
        "AND i.indnkeyatts = 1 AND a.attname = 'request_id')", [table]).fetchone()[0])


def failing(name: str, uri: str) -> Callable[[BaseException], CostctlError]:
    """The one-line error for a database error met while reading (a timeout, a lost server)."""
    def convert(exc: BaseException) -> CostctlError:
        return CostctlError(_first_line(exc, uri), name)
    return convert


@contextmanager
def _reading(uri: str, name: str, settings: Settings, mapping: Mapping[str, str],
             check: Callable[[list[str]], None]) -> Iterator[tuple[Database, list[str], str]]:
    """An open read of the table: (database, the columns costctl reads, "FROM … WHERE … ORDER
    BY …" in row order); a database error is one line, and the connection closes after."""
    from costctl.usage.record import FIELDS

    psycopg = driver(name)
    db = connect(uri, name, settings)
    try:
        check(db.columns)
        wanted = set(FIELDS) | set(mapping.values())
        columns = [c for c in db.columns if c in wanted]
        order = ", ".join(quoted(c) for c in db.order(mapping)) or "1"
        yield db, columns, f"FROM {db.table}{db.where(settings, mapping)} ORDER BY {order}"
    except psycopg.Error as exc:
        raise failing(name, uri)(exc) from None
    finally:
        db.con.close()  # the snapshot is rolled back with the connection: nothing is committed


def read_rows(uri: str, name: str, settings: Settings, mapping: Mapping[str, str],
              check: Callable[[list[str]], None],
              unique: Callable[[], None] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, raw row as text, the way `\\copy … csv` writes it) for every row of the
    table in the window, through a server-side cursor: constant memory whatever the table.
    `unique()` is called before the first row when request_id is unique in the table."""
    with _reading(uri, name, settings, mapping, check) as (db, columns, rows):
        if unique is not None and unique_request_ids(db.con, db.table):
            unique()
        select = ", ".join(quoted(c) + "::text" for c in columns)
        with db.con.cursor(name="costctl_rows") as cursor:
            cursor.execute(f"SELECT {select} {rows}")
            number = 0
            while batch := cursor.fetchmany(FETCH_ROWS):
                for values in batch:
                    number += 1
                    yield number, dict(zip(columns, values, strict=True))


def copy_rows(uri: str, name: str, settings: Settings, mapping: Mapping[str, str],
              check: Callable[[list[str]], None], target: str) -> tuple[bool, str]:
    """The columns costctl reads, of every row in the window, in row order, written to `target`
    by one COPY, which the server streams as fast as it reads: as CSV with a header (what
    `\\copy … csv header` writes; row n is line n + 1), or, when some value holds a line break
    and a row would take more than one line, as JSON lines (line n is row n). (Whether
    request_id is unique in the table, the format written.)"""
    with _reading(uri, name, settings, mapping, check) as (db, columns, rows):
        unique = unique_request_ids(db.con, db.table)
        rows_written, lines, returns = _copy(db, f"COPY (SELECT {', '.join(quoted(c) for c in columns)} {rows}) "
                                                 "TO STDOUT (FORMAT csv, HEADER)", target, name)
        if not returns and lines == rows_written + 1:  # a header, then one line a row: no value broke a line
            return unique, "csv"
        json_columns = {c for c, kind in db.column_types().items() if kind in ("json", "jsonb")}

        def value(c: str) -> str:
            # a document with content goes as JSON; a scalar or an empty one as its text, which
            # readers take as the cursor's text (a JSON string would be taken for the document's
            # text, an empty {} or [] text for no value)
            if c in json_columns:
                v = f"{quoted(c)}::jsonb"
                return (f"CASE WHEN jsonb_typeof({v}) IN ('object', 'array') AND {v} NOT IN ('{{}}', '[]') "
                        f"THEN {quoted(c)}::json ELSE to_json({quoted(c)}::text) END")
            return quoted(c)

        document = "json_build_object(" + ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}', {value(c)}"
                                                      for c in columns) + ")"
        # CSV whose delimiter and quote are control characters JSON text always escapes: every
        # document is written as it is, one a line
        _copy(db, f"COPY (SELECT {document} {rows}) TO STDOUT (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')",
              target, name)
    return unique, "jsonl"


def _copy(db: Database, statement: str, target: str, name: str) -> tuple[int, int, int]:
    """Run a COPY … TO STDOUT into the file `target`: the rows it wrote, and the line feeds and
    carriage returns among its bytes (counted as they pass, so the file is not read again)."""
    cursor = db.con.cursor()
    lines = returns = 0
    try:
        with cursor.copy(statement) as copy, open(target, "wb") as out:
            for view in copy:  # psycopg hands out memoryviews, which cannot count bytes
                data = bytes(view)
                out.write(data)
                lines += data.count(b"\n")
                returns += data.count(b"\r")
    except OSError as exc:  # the temporary folder is full, or gone
        raise CostctlError(f"cannot write the rows' copy to {target}: {exc.strerror} (TMPDIR chooses the "
                           "folder; --engine python reads without one)", name) from None
    return int(cursor.rowcount), lines, returns
