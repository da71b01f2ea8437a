"""The one exception type the core raises for bad input; the CLI maps it to exit code 2."""

from __future__ import annotations


class CostctlError(Exception):
    """Bad input or an unusable environment, with the place it was found.

    `str()` gives `file:line:column: message` (the parts that are known), the one line the CLI
    prints after `costctl: error:`.
    """

    def __init__(
        self,
        message: str,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = [str(p) for p in (self.file, self.line, self.column) if p is not None]
        return ":".join(where + [" " + self.message]) if where else self.message
