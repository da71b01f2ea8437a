"""Formatters: one name -> class registry; every command renders through it."""

from __future__ import annotations

from typing import Any

from costctl.report.common import RenderOptions

__all__ = ["FORMATS", "RenderOptions", "formatter"]

# name -> "module:Class"; imported on use so `--help` stays fast.
FORMATS: dict[str, str] = {
    "table": "costctl.report.table:TableFormatter",
    "json": "costctl.report.json_report:JsonFormatter",
    "csv": "costctl.report.csv_report:CsvFormatter",
    "markdown": "costctl.report.markdown:MarkdownFormatter",
}


def formatter(name: str) -> Any:
    import importlib

    module, cls = FORMATS[name].split(":")
    return getattr(importlib.import_module(module), cls)()
