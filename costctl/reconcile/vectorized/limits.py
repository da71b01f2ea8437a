"""What the DuckDB engine can reproduce exactly, and the exception that hands the rest to the
reference engine."""

from __future__ import annotations

import os

from costctl.reconcile.model import Options
from costctl.usage.readers import Source

FORMATS = ("csv", "jsonl", "parquet")
MEMORY_LIMIT = os.environ.get("COSTCTL_DUCKDB_MEMORY", "500MB")  # beyond it DuckDB spills to a temp folder


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
        if source.path is None:
            return f"{source.name} is a stream (stdin or a pipe)"
        if source.format not in FORMATS:
            return f"{source.name} is {source.format.upper()} (the vectorized engine reads CSV, JSONL and Parquet)"
    if options.tolerance_pct > 100 or options.tolerance_pct < 0 or options.tolerance_usd < 0:
        return "a tolerance outside 0..100 %"
    return None
