"""The result of each use case (show, validate, reconcile, diff, verify, catalog lookup):
plain values the formatters render. Below report/ and api.py, so neither imports the other's
layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from costctl.catalog.resolve import Resolution
from costctl.catalog.store import Catalog
from costctl.choices import SEVERITY_RANK
from costctl.config import Config
from costctl.pricing import EffectivePrices


@dataclass
class ShowResult:
    config: Config
    catalog: Catalog
    deployments: list[EffectivePrices]


@dataclass
class CatalogInfoResult:
    catalog: Catalog
    taken: str | None  # when the map was taken (bundled) or fetched (a URL)


@dataclass
class LookupResult:
    catalog: Catalog
    resolution: Resolution
    suggestions: list[str]
    alias_of: str | None
    model: str = ""  # as asked


@dataclass
class ValidateResult:
    command: ClassVar[str] = "validate"
    catalog: Catalog
    files: list[str]
    findings: list  # list[rules.Finding]
    fail_on: str
    settings_files: list[str] = field(default_factory=list)
    # every deployment checked: (file, line, model_name, model), for per-deployment reports
    deployments: list[tuple[str, int, str, str]] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        for f in self.findings:
            counts[f.severity] += 1
        return counts

    @property
    def failed(self) -> bool:
        """True when a finding is at or above the --fail-on severity (exit code 1)."""
        return any(SEVERITY_RANK[f.severity] >= SEVERITY_RANK[self.fail_on] for f in self.findings)


@dataclass
class ReconcileResult:
    catalog: Catalog
    config: str
    inputs: list[str]
    outcome: Any  # reconcile.Outcome
    options: Any  # reconcile.Options
    fail_on_drift_usd: Decimal | None
    fail_on_drift_pct: Decimal | None
    failures: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures)


@dataclass
class DiffResult:
    base_name: str
    head_name: str
    base_catalog: Catalog
    catalog: Catalog
    changes: list[Any]  # diff.Change
    unchanged: int
    projection: Any  # diff.Projection, or None without usage
    usage: list[str]
    failures: list[str]

    @property
    def failed(self) -> bool:
        return bool(self.failures)


@dataclass
class VerifyResult(ValidateResult):
    """A running proxy against its config: findings as validate's, plus what was read and sent."""

    command: ClassVar[str] = "verify"
    proxy: str = ""  # the URL as shown (no credentials)
    version: str | None = None
    version_source: str | None = None
    probes_sent: int = 0
    charges_verified: int = 0
    catalog_compared: tuple[int, int, list[str]] = (0, 0, [])
    public_hub: str = ""
