"""Formatters: one name -> class registry per command; every command renders through it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from costctl.report.common import RenderOptions

# Nothing heavy is imported here: the CLI reads FORMATS at start-up to build its --format choices.
__all__ = ["FORMATS", "Formatter", "formatter"]

# command -> format name -> "module:Class"; imported on use so `--help` stays fast.
FORMATS: dict[str, dict[str, str]] = {
    "show": {
        "table": "costctl.report.table:TableFormatter",
        "json": "costctl.report.json_report:JsonFormatter",
        "csv": "costctl.report.csv_report:CsvFormatter",
        "markdown": "costctl.report.markdown:MarkdownFormatter",
        "html": "costctl.report.html:HtmlFormatter",
    },
    "validate": {
        "text": "costctl.report.findings:TextFormatter",
        "json": "costctl.report.json_report:JsonFormatter",
        "github": "costctl.report.findings:GithubFormatter",
        "sarif": "costctl.report.findings:SarifFormatter",
        "junit": "costctl.report.findings:JunitFormatter",
        "markdown": "costctl.report.markdown:MarkdownFormatter",
    },
    "reconcile": {
        "table": "costctl.report.table:TableFormatter",
        "json": "costctl.report.json_report:JsonFormatter",
        "csv": "costctl.report.csv_report:CsvFormatter",
        "markdown": "costctl.report.markdown:MarkdownFormatter",
        "html": "costctl.report.html:HtmlFormatter",
    },
    "verify": {
        "text": "costctl.report.findings:TextFormatter",
        "json": "costctl.report.json_report:JsonFormatter",
        "github": "costctl.report.findings:GithubFormatter",
        "junit": "costctl.report.findings:JunitFormatter",
        "markdown": "costctl.report.markdown:MarkdownFormatter",
        "html": "costctl.report.html:HtmlFormatter",
    },
    "catalog_info": {
        "text": "costctl.report.catalog_report:CatalogText",
        "json": "costctl.report.catalog_report:CatalogJson",
    },
    "catalog_lookup": {
        "text": "costctl.report.catalog_report:CatalogText",
        "json": "costctl.report.catalog_report:CatalogJson",
    },
    "diff": {
        "table": "costctl.report.table:TableFormatter",
        "json": "costctl.report.json_report:JsonFormatter",
        "markdown": "costctl.report.markdown:MarkdownFormatter",
        "html": "costctl.report.html:HtmlFormatter",
    },
}


class Formatter(Protocol):
    """What every format implements for the commands it serves: a method named after the
    command, taking that command's result and the render options, returning the report text."""

    name: str

    def __getattr__(self, command: str) -> "Render": ...


class Render(Protocol):
    def __call__(self, result: Any, opts: "RenderOptions", /) -> str: ...


def formatter(command: str, name: str) -> Formatter:
    """The formatter object for `name` (it has a method named after the command)."""
    import importlib

    module, cls = FORMATS[command][name].split(":")
    return getattr(importlib.import_module(module), cls)()
