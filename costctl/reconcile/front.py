"""reconcile's one front door: choose the engine, run it, fall back to the reference engine
where DuckDB cannot reproduce it exactly. Both engines fill the same model (model.py)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import localcontext
from typing import IO, Any

from costctl.choices import ENGINES
from costctl.errors import CostctlError
from costctl.reconcile.model import Options, Outcome
from costctl.reconcile.pricer import Pricer
from costctl.reconcile.reference import Reconciler, write_mismatch
from costctl.usage.readers import Source, spool

AUTO_MIN_BYTES = 16 * 1024 * 1024  # below this the reference engine is as fast (measured: equal at 12 MB, 20k rows)


def choose_engine(engine: str, sources: list[Source], options: Options) -> str:
    """`vectorized`, `pushdown` or `python` for `--engine auto|vectorized|python` and these
    inputs: `--engine vectorized` prices a PostgreSQL table in the database (pushdown)."""
    if engine == "python":
        return "python"
    if sources and all(s.format == "postgres" for s in sources):
        # (auto has copied a table out: readable). Pushdown is exact but slower than copying
        # the rows out (bench_postgres.py): it runs when asked for, as a database's set engine.
        return "pushdown" if engine == "vectorized" and len(sources) == 1 else "python"
    from costctl.reconcile.vectorized import available, unsupported_reason

    if engine == "vectorized":
        if not available():
            raise CostctlError("--engine vectorized needs DuckDB, which this installation lacks: pip install duckdb")
        reason = unsupported_reason(sources, options)
        if reason:
            raise CostctlError(f"--engine vectorized cannot read this input ({reason}); use --engine python")
        return "vectorized"
    if engine != "auto":
        raise CostctlError(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if unsupported_reason(sources, options) or sum(s.size or 0 for s in sources) < AUTO_MIN_BYTES:
        return "python"
    return "vectorized" if available() else "python"


@contextmanager
def readable(sources: list[Source], engine: str, mapping: dict[str, str] | None = None) -> Iterator[list[Source]]:
    """The sources, streams (stdin, pipes) spooled to temporary files unless the reference
    engine is asked for: DuckDB reads files, and a fallback must read the input again; and
    with `--engine auto`, a database table's rows copied out as CSV (one COPY of the
    columns costctl reads: the fastest route, see benchmarks/bench_postgres.py). The files go
    when the run ends."""
    def spooled(s: Source) -> bool:
        return (s.is_stream and engine != "python") or (s.format == "postgres" and engine == "auto")

    if not any(spooled(s) for s in sources):
        yield sources
        return
    with tempfile.TemporaryDirectory(prefix="costctl-spool-") as folder:
        yield [spool(s, folder, mapping) if spooled(s) else s for s in sources]


def _set_based(chosen: str) -> Any:
    """The engine class `choose_engine` named (imported only when it runs)."""
    if chosen == "pushdown":
        from costctl.reconcile.pushdown import PushdownReconciler

        return PushdownReconciler
    from costctl.reconcile.vectorized import VectorizedReconciler

    return VectorizedReconciler


def _reset(mismatches_out: IO[str] | None) -> None:
    """Empty the mismatch file an engine that gave up had begun (the fallback writes it whole)."""
    if mismatches_out is not None and mismatches_out.tell():
        mismatches_out.seek(0)
        mismatches_out.truncate()


def run(pricer: Pricer, open_sources: Callable[[], list[Source]], options: Options, *, engine: str = "auto",
        mapping: dict[str, str] | None = None, mismatches_out: IO[str] | None = None,
        on_read: Any = None) -> tuple[Outcome, list[Source]]:
    """Reconcile the sources `open_sources` opens; returns the outcome and the sources read."""
    on_mismatch = write_mismatch(mismatches_out) if mismatches_out is not None else None
    # Sums of a million spends need more than Decimal's default 28 digits to stay exact.
    with localcontext() as context, readable(open_sources(), engine, mapping) as sources:
        context.prec = 60
        chosen = choose_engine(engine, sources, options)
        if chosen != "python":
            from costctl.reconcile.vectorized import Unsupported

            try:
                return _set_based(chosen)(pricer, options, on_mismatch).run(sources, mapping, on_read), sources
            except Unsupported as exc:
                if engine == "vectorized":
                    raise CostctlError(f"--engine vectorized cannot reconcile this input exactly: {exc}; "
                                       "use --engine python") from None
                _reset(mismatches_out)
        reconciler = Reconciler(pricer, options, on_mismatch)
        for source in sources:
            reconciler.feed(source, mapping, on_read)
        return reconciler.outcome(), sources
