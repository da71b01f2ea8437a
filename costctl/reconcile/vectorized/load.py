"""Moving values between Python and DuckDB exactly: SQL quoting, bulk loads, decimals back."""

from __future__ import annotations

import os
from datetime import datetime
from decimal import Decimal
from typing import Any


def quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def load_rows(con: Any, table: str, rows: list[tuple[Any, ...]], folder: str) -> None:
    """Insert many rows at once through a CSV file (parameters cost a Python round trip per value
    in some DuckDB releases, executemany a statement per row). Strings are always quoted and NULL
    is an unquoted \\N; decimals and times travel as exact text."""
    if not rows:
        return
    path = os.path.join(folder, f"{table}.csv")
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(",".join(_csv_value(v) for v in row) + "\n" for row in rows)
    columns = "{" + ", ".join(f"{quote_text(name)}: {quote_text(kind)}"
                              for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall()) + "}"
    con.execute(f"INSERT INTO {table} SELECT * FROM read_csv({quote_text(path)}, header=false, auto_detect=false, "
                f"columns={columns}, delim=',', quote='\"', escape='\"', nullstr='\\N', allow_quoted_nulls=false)")
    os.remove(path)


def dec(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(value)
