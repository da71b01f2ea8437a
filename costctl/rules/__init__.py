"""Validation rules: one registry (base.RULES), stable codes, run over one loaded config."""

from __future__ import annotations

from costctl.catalog.store import Catalog
from costctl.config.model import Config
from costctl.pricing import EffectivePrices
from costctl.rules import config_rules, price_rules  # noqa: F401 - importing registers the rules
from costctl.rules.base import RULES, SEVERITIES, SEVERITY_RANK, Context, Finding, Rule, Settings, iter_rules
from costctl.rules.suppress import is_suppressed, suppression_spans

__all__ = ["RULES", "SEVERITIES", "SEVERITY_RANK", "Finding", "Rule", "Settings", "check"]


def check(config: Config, catalog: Catalog, prices: list[EffectivePrices], settings: Settings) -> list[Finding]:
    """Every finding of the selected rules on one config, inline suppressions applied, sorted by
    file, line and code."""
    ctx = Context(config, catalog, prices, settings)
    spans = suppression_spans(config.sources)
    findings: set[Finding] = set()
    for r in iter_rules(settings.select, settings.ignore):
        severity = settings.severity.get(r.code, r.severity)
        for hit in r.check(ctx):
            if is_suppressed(spans, hit.file, hit.line, r.code, r.name):
                continue
            findings.add(Finding(hit.file, hit.line, r.code, hit.column, r.name, severity, hit.message,
                                 hit.path, hit.deployment))
    return sorted(findings, key=Finding.order)
