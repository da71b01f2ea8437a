"""The files a command writes (`-o`, `--mismatches-out`): each is written beside its target under
a temporary name and renamed over it only when the command has succeeded, so an error or Ctrl-C
leaves no partial file and never truncates the previous one. A target that is one of the
command's inputs is refused before anything runs."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from costctl.errors import CostctlError


class PendingFile:
    """A text file being written to `path`; it appears there on `commit`, never before."""

    def __init__(self, path: Path) -> None:
        self.path = path
        folder = path.parent if str(path.parent) else Path(".")
        try:
            fd, self.tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
        except OSError as exc:
            raise CostctlError(f"cannot write: {exc.strerror}", str(path)) from None
        self.stream: IO[str] = os.fdopen(fd, "w", encoding="utf-8")

    def commit(self) -> None:
        self.stream.close()
        try:
            mode = os.stat(self.path).st_mode & 0o7777  # a replaced file keeps its permissions
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # a new one gets what open() would have given it
        try:
            os.chmod(self.tmp, mode)
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise CostctlError(f"cannot write: {exc.strerror}", str(self.path)) from None

    def discard(self) -> None:
        self.stream.close()
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass


class Outputs:
    """Every file a command writes: committed together on success, discarded otherwise."""

    def __init__(self) -> None:
        self.pending: list[PendingFile] = []

    def open(self, path: Path) -> IO[str]:
        pending = PendingFile(path)
        self.pending.append(pending)
        return pending.stream

    def commit(self) -> None:
        while self.pending:
            self.pending.pop(0).commit()

    def discard(self) -> None:
        while self.pending:
            self.pending.pop().discard()


def refuse_inputs(outputs: Iterable[Path | None], inputs: Iterable[str | Path]) -> None:
    """CostctlError when an output path names one of the inputs (it would be overwritten)."""
    named = [Path(p) for p in inputs if str(p) not in ("", "-") and not str(p).startswith(("git:", "http://",
                                                                                           "https://"))]
    for output in outputs:
        if output is None:
            continue
        for source in named:
            if _same(output, source):
                raise CostctlError(f"is also an input ({source}): refusing to overwrite it", str(output))


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()
