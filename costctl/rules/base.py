"""Findings, the rule registry and what a rule sees.

A rule is one function decorated with `@rule(code, name, severity)`; its docstring is its user
documentation (`costctl rules CODE`): a one-line summary, then what it catches, why it matters,
an example and the fix. Codes are a public contract: never renumbered or reused.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from costctl.catalog.store import Catalog
from costctl.choices import SEVERITIES, SEVERITY_RANK  # noqa: F401 - the rules' vocabulary, defined once
from costctl.config.model import Config, Deployment
from costctl.pricing import EffectivePrices


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: where it is, which rule found it and what to do about it."""

    file: str
    line: int
    code: str
    column: int
    name: str = field(compare=False)
    severity: str = field(compare=False)
    message: str = field(compare=False)
    path: str = field(compare=False, default="")
    deployment: str | None = field(compare=False, default=None)
    # verify's findings: what part of the proxy it is about (deployment, api, hub, charge,
    # version, catalog), the deployment id, the value the config gives and what the proxy showed
    about: str | None = field(compare=False, default=None)
    deployment_id: str | None = field(compare=False, default=None)
    expected: str | None = field(compare=False, default=None)
    actual: str | None = field(compare=False, default=None)

    def order(self) -> tuple[str, int, str, int]:
        """The fields findings compare by, in their order: `sorted(findings, key=Finding.order)`
        is `sorted(findings)` without a generated Python `__lt__` call per comparison."""
        return (self.file, self.line, self.code, self.column)


@dataclass
class Settings:
    """What to check and how strictly: command line over config files over defaults."""

    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    fail_on: str = "error"
    max_deviation: Decimal = Decimal(50)
    litellm_version: str | None = None  # the LiteLLM release the config runs on (CST118)


@dataclass
class Context:
    """Everything a rule may read: the config, the catalog, each deployment's effective prices."""

    config: Config
    catalog: Catalog
    prices: list[EffectivePrices]
    settings: Settings


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    check: Callable[[Context], Iterable["Hit"]]

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.check.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


@dataclass(frozen=True)
class Hit:
    """What a rule yields: a message at a place; the engine turns it into a Finding."""

    message: str
    file: str
    line: int
    column: int = 1
    path: str = ""
    deployment: str | None = None
    about: str | None = None
    deployment_id: str | None = None
    expected: str | None = None
    actual: str | None = None


RULES: dict[str, Rule] = {}


Check = Callable[[Context], Iterable["Hit"]]


def rule(code: str, name: str, severity: str) -> Callable[[Check], Check]:
    """Register a rule function under a stable code."""
    assert severity in SEVERITIES, severity

    def register(func: Check) -> Check:
        if code in RULES or any(r.name == name for r in RULES.values()):
            raise ValueError(f"rule {code} {name} registered twice")
        RULES[code] = Rule(code, name, severity, func)
        return func

    return register


def deployment_hit(dep: Deployment, message: str, tree: Any = None, key: str | None = None,
                   where: str = "") -> Hit:
    """A Hit at a key of a deployment's litellm_params/model_info (or at the deployment)."""
    if tree is not None and key is not None and key in getattr(tree, "key_pos", {}):
        line, column = tree.key_pos[key]
        path = f"{dep.key_path}.{where}.{key}" if where else f"{dep.key_path}.{key}"
    else:
        line, column, path = dep.line, dep.column, dep.key_path
    return Hit(message, dep.file, line, column, path, dep.model_name)


def iter_rules(select: list[str], ignore: list[str], registry: dict[str, Rule] | None = None) -> Iterator[Rule]:
    """The rules of `registry` (default: validate's), filtered by codes, code prefixes (`CST1`)
    or names, in code order."""
    rules = RULES if registry is None else registry

    def matches(r: Rule, patterns: list[str]) -> bool:
        return any(r.code.startswith(p.upper()) or r.name == p.lower() for p in patterns)

    for code in sorted(rules):
        r = rules[code]
        if select and not matches(r, select):
            continue
        if ignore and matches(r, ignore):
            continue
        yield r


def unknown_checks(patterns: list[str], registry: dict[str, Rule]) -> list[str]:
    """Selectors that match nothing in `registry`."""
    return [p for p in patterns
            if not any(code.startswith(p.upper()) or r.name == p.lower() for code, r in registry.items())]


def unknown_selectors(patterns: list[str]) -> list[str]:
    """Selectors that match no rule (a typo in --select must not silently check nothing)."""
    return unknown_checks(patterns, RULES)
