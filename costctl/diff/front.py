"""The projection's one front door, as reconcile's: DuckDB for large files it reads exactly,
the reference projection otherwise (and when DuckDB gives up)."""

from __future__ import annotations

from collections.abc import Callable

from costctl.diff.projection import Projection, Projector
from costctl.reconcile import front
from costctl.reconcile.model import Options
from costctl.usage.readers import Source


def project(projector: Projector, open_sources: Callable[[], list[Source]]) -> Projection:
    """What the rows of the sources `open_sources` opens cost under BASE and HEAD."""
    with front.readable(open_sources(), "auto") as sources:
        if front.choose_engine("auto", sources, Options()) == "vectorized":
            from costctl.diff.sql_projection import VectorizedProjector
            from costctl.reconcile.vectorized import Unsupported

            try:
                return VectorizedProjector(projector).project(sources)
            except Unsupported:
                pass
        for source in sources:
            projector.feed(source)
        return projector.projection
