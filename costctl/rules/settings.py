"""validate settings from `.costctl.toml` or `pyproject.toml` `[tool.costctl]`, found next to the
config or in a folder above it (the nearest one wins, up to the repository root).

    [tool.costctl]
    select = ["CST1"]               # codes, prefixes or names
    ignore = ["CST107"]
    fail-on = "warning"
    max-deviation = 80              # percent, for CST107
    catalog = "bundled"
    [tool.costctl.severity]
    CST110 = "error"
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costctl.errors import CostctlError
from costctl.rules.base import RULES, SEVERITIES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

KEYS = {"select", "ignore", "severity", "fail-on", "max-deviation", "catalog", "litellm-version"}


@dataclass
class FileSettings:
    """Settings read from one file (None = not set there)."""

    source: str | None = None
    select: list[str] | None = None
    ignore: list[str] | None = None
    severity: dict[str, str] | None = None
    fail_on: str | None = None
    max_deviation: Decimal | None = None
    catalog: str | None = None
    litellm_version: str | None = None


def find_settings(config_path: Path) -> FileSettings:
    """The settings that apply to a config: the nearest .costctl.toml or pyproject.toml with a
    [tool.costctl] table, from the config's folder upwards (stopping at a .git folder)."""
    folder = config_path.absolute().parent
    for directory in (folder, *folder.parents):
        dot = directory / ".costctl.toml"
        if dot.is_file():
            return _parse(dot, _read(dot))
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            table = _read(pyproject).get("tool", {}).get("costctl")
            if table is not None:
                return _parse(pyproject, table, "[tool.costctl]")
        if (directory / ".git").exists():
            break
    return FileSettings()


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CostctlError(f"cannot read settings: {exc}", str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise CostctlError(f"invalid TOML: {exc}", str(path)) from None


def _parse(path: Path, table: dict[str, Any], where: str = "") -> FileSettings:
    shown = f"{path} {where}".strip()
    normalised = {k.replace("_", "-"): v for k, v in table.items()}
    unknown = sorted(set(normalised) - KEYS)
    if unknown:
        raise CostctlError(f"unknown costctl setting(s) {', '.join(unknown)}; known: {', '.join(sorted(KEYS))}", shown)
    out = FileSettings(source=str(path))
    for key in ("select", "ignore"):
        if key in normalised:
            value = normalised[key]
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise CostctlError(f"'{key}' must be a list of rule codes, prefixes or names", shown)
            setattr(out, key, value)
    if "severity" in normalised:
        table_ = normalised["severity"]
        if not isinstance(table_, dict):
            raise CostctlError("'severity' must be a table of CODE = \"error\" | \"warning\" | \"info\"", shown)
        out.severity = {}
        for code, level in table_.items():
            if code.upper() not in RULES:
                raise CostctlError(f"severity: unknown rule code {code}", shown)
            if level not in SEVERITIES:
                raise CostctlError(f"severity of {code} must be one of {', '.join(SEVERITIES)}, not {level!r}", shown)
            out.severity[code.upper()] = level
    if "fail-on" in normalised:
        if normalised["fail-on"] not in SEVERITIES:
            raise CostctlError(f"'fail-on' must be one of {', '.join(SEVERITIES)}", shown)
        out.fail_on = normalised["fail-on"]
    if "max-deviation" in normalised:
        out.max_deviation = parse_percent(normalised["max-deviation"], shown)
    if "catalog" in normalised:
        if not isinstance(normalised["catalog"], str):
            raise CostctlError("'catalog' must be a string", shown)
        catalog = normalised["catalog"]
        if catalog not in ("bundled", "litellm") and not catalog.startswith(("http://", "https://")) \
                and not Path(catalog).is_absolute():
            catalog = str(path.parent / catalog)  # a relative catalog path is relative to the settings file
        out.catalog = catalog
    if "litellm-version" in normalised:
        from costctl.advisories import check_version

        out.litellm_version = check_version(normalised["litellm-version"], f"{shown}: 'litellm-version'")
    return out


def parse_percent(value: Any, shown: str) -> Decimal:
    try:
        number = Decimal(str(value).rstrip("%"))
    except InvalidOperation:
        raise CostctlError(f"max-deviation must be a percentage, not {value!r}", shown) from None
    if not number.is_finite() or number < 0:
        raise CostctlError(f"max-deviation must be a non-negative percentage, not {value!r}", shown)
    return number
