"""The JSON contract as pydantic models: the published JSON Schema (schemas/*.schema.json) is
generated from them, and the tests validate every JSON report against them.

Not imported on the command path (pydantic is slow to import); reports build their JSON directly.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["custom", "default", "fallback", "none"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CatalogStamp(_Strict):
    name: str = Field(description="Catalog family; always 'litellm'.")
    version: Optional[str] = Field(description="LiteLLM release the price map comes from (null for a file of unknown origin).")
    sha256: str = Field(description="SHA-256 of the price-map file as read.")
    entries: int = Field(description="Model entries (aliases included, sample_spec excluded).")
    source: str = Field(description="'bundled', 'litellm' (installed package), the file path or the URL given.")
    url: Optional[str] = Field(description="The URL the map was fetched from (--catalog URL), else null.")
    fetched: Optional[str] = Field(description="When it was fetched (ISO 8601, UTC), else null.")


class PriceOut(_Strict):
    value: Union[str, None, list[Any], dict[str, Any]] = Field(
        description="USD per unit as an exact decimal string; null when billed $0 (source none) or priced "
        "per matched model (wildcards); structured prices (tiered_pricing, off_peak_pricing) as written.")
    source: Source
    origin: Optional[str] = Field(description="litellm_params / model_info (custom), the catalog key (default), "
                                  "the field fallen back to (fallback), null (none).")
    file: Optional[str] = Field(default=None, description="custom only: file that sets the price")
    line: Optional[int] = Field(default=None, description="custom only: 1-based line of the key")
    written_as: Optional[Literal["string", "env", "env-unset", "bool", "null", "invalid"]] = Field(
        default=None, description="custom only: how the value was written when not a plain YAML number")


class DeploymentOut(_Strict):
    model_name: str
    model: str
    provider: Optional[str]
    deployment_id: str
    id_source: Literal["model_info", "generated", "generated-env-unset"]
    catalog_key: Optional[str]
    backend_model: str
    custom_pricing: bool
    file: str
    line: int
    wildcard: bool
    prices: dict[str, PriceOut] = Field(description="Always has input_cost_per_token, output_cost_per_token, "
                                        "cache_read_input_token_cost, cache_creation_input_token_cost.")
    notes: list[str]


class ShowDocument(_Strict):
    """`costctl show --format json`."""

    schema_version: Literal[1]
    command: Literal["show"]
    catalog: CatalogStamp
    config: str
    files: list[str]
    deployments: list[DeploymentOut]


class FindingOut(_Strict):
    code: str = Field(description="Stable rule code, e.g. CST101 (costctl rules).")
    name: str
    severity: Literal["error", "warning", "info"]
    message: str
    file: str
    line: int = Field(description="1-based")
    column: int = Field(description="1-based")
    path: str = Field(description="Key path, e.g. model_list[0].litellm_params.input_cost_per_token ('' when none).")
    deployment: Optional[str] = Field(description="model_name of the deployment, when the finding has one.")


class Summary(_Strict):
    error: int
    warning: int
    info: int


class ValidateDocument(_Strict):
    """`costctl validate --format json`."""

    schema_version: Literal[1]
    command: Literal["validate"]
    catalog: CatalogStamp
    files: list[str]
    settings: list[str] = Field(description="Settings files that applied (.costctl.toml / pyproject.toml).")
    fail_on: Literal["error", "warning", "info"]
    findings: list[FindingOut] = Field(description="Sorted by file, line, code.")
    summary: Summary


class VerifyFindingOut(FindingOut):
    about: Literal["deployment", "api", "hub", "charge", "version", "catalog"] = Field(
        description="What the finding is about.")
    deployment_id: Optional[str] = Field(description="The proxy's id of the deployment (the config's when missing).")
    expected: Optional[str] = Field(description="What the config gives (a price, a charge, a version).")
    actual: Optional[str] = Field(description="What the proxy showed or charged.")


class ProxyOut(_Strict):
    url: str = Field(description="The proxy's URL as given, without credentials.")
    litellm_version: Optional[str]
    version_source: Optional[str] = Field(description="Where the version was read.")
    implemented_version: str = Field(description="The LiteLLM release whose billing rules costctl implements.")
    public_model_hub: str


class ProbesOut(_Strict):
    sent: int
    charges_verified: int = Field(description="Deployments whose probes were compared with an expected cost.")


class CatalogComparison(_Strict):
    compared: int = Field(description="Default-priced deployments and wildcard models compared.")
    differing: int
    examples: list[str]


class VerifyDocument(_Strict):
    """`costctl verify --format json`."""

    schema_version: Literal[1]
    command: Literal["verify"]
    catalog: CatalogStamp
    files: list[str]
    proxy: ProxyOut
    probes: ProbesOut
    catalog_comparison: CatalogComparison
    fail_on: Literal["error", "warning", "info"]
    findings: list[VerifyFindingOut] = Field(description="Sorted by file, line, code.")
    summary: Summary


class SkipExample(_Strict):
    file: str
    line: int
    reason: str
    detail: str


class ReconcileSummary(_Strict):
    rows_read: int
    rows_reconciled: int
    rows_skipped: int
    skipped_by_reason: dict[str, int]
    skip_examples: list[SkipExample] = Field(description="The first ten skipped rows.")
    duplicate_request_ids: int
    recorded_usd: str
    expected_usd: str
    delta_usd: str = Field(description="recorded - expected")
    abs_drift_usd: str = Field(description="Sum of |recorded - expected| over mismatched rows.")
    mismatched_rows: int
    mismatches_by_cause: dict[str, int]
    unpriced_rows: int = Field(description="Rows of deployments with no price at all (LiteLLM bills $0).")
    unpriced_tokens: int


class ReconcileOptions(_Strict):
    tolerance_usd: str
    tolerance_pct: str
    since: Optional[str]
    until: Optional[str]
    group_by: list[str]


class GroupOut(_Strict):
    key: dict[str, str]
    rows: int
    prompt_tokens: int
    completion_tokens: int
    recorded_usd: str
    expected_usd: str
    delta_usd: str
    delta_pct: Optional[str]
    mismatched_rows: int
    unpriced_rows: int


class MismatchOut(_Strict):
    request_id: str
    file: str
    line: int
    model_group: str
    deployment_id: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    recorded_usd: str
    expected_usd: str
    delta_usd: str
    cause: Literal["unknown-deployment", "zero-spend", "default-price", "cache-not-discounted", "unit-error", "other"]


class ReconcileDocument(_Strict):
    """`costctl reconcile --format json`."""

    schema_version: Literal[1]
    command: Literal["reconcile"]
    catalog: CatalogStamp
    config: str
    inputs: list[str]
    options: ReconcileOptions
    summary: ReconcileSummary
    groups: list[GroupOut] = Field(description="Sorted by |delta_usd|, largest first.")
    mismatches: list[MismatchOut] = Field(description="The --top largest mismatches by |delta_usd|.")
    failures: list[str] = Field(description="Why the run exits 1 (empty when it exits 0).")


class FieldChangeOut(_Strict):
    old: Any = Field(description="Per-token price before (a string), a tier table, or null when absent.")
    new: Any
    old_source: Optional[Literal["custom", "default", "fallback", "none"]]
    new_source: Optional[Literal["custom", "default", "fallback", "none"]]


class ChangeOut(_Strict):
    kind: Literal["added", "removed", "changed"]
    model_name: str
    deployment_id: str = Field(description="HEAD's id (BASE's for a removed deployment).")
    base_deployment_id: Optional[str]
    model: str
    fields: dict[str, FieldChangeOut] = Field(description="Every price field whose value or source differs.")


class DiffGroupOut(_Strict):
    model_group: str
    rows: int
    base_usd: str
    head_usd: str
    delta_usd: str
    delta_pct: Optional[str]
    unroutable_rows: int
    unroutable_base_usd: str


class ProjectionOut(_Strict):
    window_days: Optional[int] = Field(description="UTC days from the first row's day to the last's, both included.")
    first_day: Optional[str]
    last_day: Optional[str]
    rows_read: int
    rows: int = Field(description="Rows priced under both configs.")
    skipped_by_reason: dict[str, int]
    base_usd: str
    head_usd: str
    delta_usd: str
    delta_pct: Optional[str]
    monthly_delta_usd: Optional[str] = Field(description="delta_usd x 30 / window_days.")
    unroutable_rows: int = Field(description="Rows whose deployment HEAD removes: in neither total.")
    unroutable_base_usd: str
    groups: list[DiffGroupOut]


class DiffSummary(_Strict):
    changed: int
    added: int
    removed: int
    unchanged: int


class DiffDocument(_Strict):
    """`costctl diff --format json`."""

    schema_version: Literal[1]
    command: Literal["diff"]
    catalog: CatalogStamp
    base_catalog: CatalogStamp
    base: str
    head: str
    headline: str
    summary: DiffSummary
    changes: list[ChangeOut]
    projection: Optional[ProjectionOut]
    usage: list[str]
    failures: list[str]


DOCUMENTS = {"show": ShowDocument, "validate": ValidateDocument, "reconcile": ReconcileDocument, "diff": DiffDocument,
             "verify": VerifyDocument}
