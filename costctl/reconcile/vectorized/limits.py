"""What the DuckDB engine can reproduce exactly, and the exception that hands the rest to the
reference engine."""

from __future__ import annotations

import os
import re

from costctl.errors import CostctlError
from costctl.reconcile.model import Options
from costctl.usage.readers import Source

FORMATS = ("csv", "jsonl", "parquet")
_SIZE = re.compile(r"[0-9]+(\.[0-9]+)?\s*([KMGT]i?B|B)", re.IGNORECASE)


def memory_limit() -> str:
    """What DuckDB may hold in memory (beyond it, it spills to a temporary folder):
    $COSTCTL_DUCKDB_MEMORY, default 500MB."""
    value = os.environ.get("COSTCTL_DUCKDB_MEMORY", "500MB").strip()
    if not _SIZE.fullmatch(value):
        raise CostctlError(f"COSTCTL_DUCKDB_MEMORY={value[:40]!r}: expected a size such as 500MB or 2GB")
    return value


class Unsupported(Exception):
    """The vectorized engine cannot reproduce the reference result for this input."""


def available() -> bool:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


def unsupported_reason(sources: list[Source], options: Options) -> str | None:
    """Why these inputs need the reference engine, or None."""
    for source in sources:
        if source.format == "postgres":
            return f"{source.name} is a PostgreSQL table (priced in the database, or read row by row)"
        if source.path is None:
            return f"{source.name} is a stream (stdin or a pipe)"
        if source.format not in FORMATS:
            return f"{source.name} is {source.format.upper()} (the vectorized engine reads CSV, JSONL and Parquet)"
    if options.tolerance_pct > 100 or options.tolerance_pct < 0 or options.tolerance_usd < 0:
        return "a tolerance outside 0..100 %"
    return None
