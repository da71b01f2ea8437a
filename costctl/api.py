"""Use cases behind the commands: each returns a plain result object; nothing here prints."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from costctl.catalog.resolve import closest_keys, resolve
from costctl.catalog.store import Catalog, load_catalog
from costctl.config import Config, load_config
from costctl.errors import CostctlError
from costctl.pricing import effective_prices
from costctl.results import CatalogInfoResult, DiffResult, LookupResult, ReconcileResult, ShowResult, ValidateResult, VerifyResult


def show(config_path: str | Path, catalog: str = "bundled", include_root: str | Path | None = None) -> ShowResult:
    """Effective prices of every deployment in the config at `config_path`."""
    cfg = load_config(config_path, include_root=include_root)
    cat = load_catalog(catalog)
    prices = [effective_prices(d, cat) for d in cfg.deployments]
    _adjustment_notes(cfg, prices)
    return ShowResult(cfg, cat, prices)


def _pct(fraction: Decimal) -> str:
    return format((fraction * 100).normalize(), "f")


def _adjustment_notes(cfg: Any, prices: list[Any]) -> None:
    """What `litellm_settings` does to each deployment's logged costs: discount, then margin."""
    settings = cfg.litellm_settings if isinstance(cfg.litellm_settings, dict) else {}
    discounts = settings.get("cost_discount_config")
    margins = settings.get("cost_margin_config")
    if not discounts and margins is None:
        return
    from costctl.adjustments import discount_for, margin_for

    for ep in prices:
        if not ep.custom and ep.catalog_key is None:
            continue  # LiteLLM cannot price it: nothing to discount or add to
        discount = discount_for(discounts if isinstance(discounts, dict) else {}, ep.provider, ep.deployment.model)
        if discount:
            ep.notes.append(f"LiteLLM logs every cost of this deployment {_pct(discount)} % lower "
                            "(cost_discount_config)")
        margin = margin_for(margins, ep.provider)
        if margin.error is not None:
            ep.notes.append(margin.error)
        elif margin.percentage or margin.fixed:
            parts = [f"{_pct(margin.percentage)} %"] if margin.percentage else []
            parts += [f"${margin.fixed} a request"] if margin.fixed else []
            ep.notes.append(f"LiteLLM adds a margin of {' + '.join(parts)} after any discount "
                            f"(cost_margin_config.{margin.key})")


def catalog_info(catalog: str = "bundled") -> CatalogInfoResult:
    """The catalog's provenance: what `catalog info` shows."""
    from costctl.catalog.store import bundled_provenance

    cat = load_catalog(catalog)
    return CatalogInfoResult(cat, cat.taken or (bundled_provenance().get("taken") if cat.source == "bundled" else None))


def catalog_lookup(model: str, provider: str | None = None, catalog: str = "bundled") -> LookupResult:
    """Which catalog key prices `model` (as LiteLLM resolves it), or the closest keys."""
    cat = load_catalog(catalog)
    res = resolve(model, cat, provider)
    suggestions = [] if res.key else closest_keys(model, cat)
    return LookupResult(cat, res, suggestions, cat.aliases.get(res.key) if res.key else None, model)


def validate(
    config_paths: list[str | Path],
    *,
    catalog: str | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    fail_on: str | None = None,
    max_deviation: Decimal | None = None,
    include_root: str | Path | None = None,
    litellm_version: str | None = None,
) -> ValidateResult:
    """Findings of every selected rule on every config. Command-line values (the arguments)
    override the settings file found next to each config; a bad config raises CostctlError and
    no partial result is returned."""
    from costctl.errors import CostctlError
    from costctl.rules import Finding, Settings, check
    from costctl.rules.base import unknown_selectors
    from costctl.rules.settings import find_settings

    catalogs: dict[str, Catalog] = {}
    findings = []
    files: list[str] = []
    settings_files: list[str] = []
    deployments: list[tuple[str, int, str, str]] = []
    first_catalog: Catalog | None = None
    chosen_fail_on = fail_on
    for path in config_paths:
        found = find_settings(Path(path))
        if found.source and found.source not in settings_files:
            settings_files.append(found.source)
        settings = Settings(
            select=select if select else (found.select or []),
            ignore=ignore if ignore else (found.ignore or []),
            severity=found.severity or {},
            fail_on=fail_on or found.fail_on or "error",
            max_deviation=max_deviation if max_deviation is not None else (
                found.max_deviation if found.max_deviation is not None else Decimal(50)),
            litellm_version=litellm_version or found.litellm_version,
        )
        for selectors, option in ((settings.select, "select"), (settings.ignore, "ignore")):
            bad = unknown_selectors(selectors)
            if bad:
                raise CostctlError(f"--{option} {', '.join(bad)}: no rule has that code, prefix or name "
                                   "(see costctl rules)")
        chosen_fail_on = chosen_fail_on or settings.fail_on
        spec = catalog or found.catalog or "bundled"
        if spec not in catalogs:
            catalogs[spec] = load_catalog(spec)
        cat = catalogs[spec]
        first_catalog = first_catalog or cat
        cfg = load_config(path, include_root=include_root)
        files += [f for f in cfg.files if f not in files]
        deployments += [(d.file, d.line, d.model_name, d.model) for d in cfg.deployments]
        findings += check(cfg, cat, [effective_prices(d, cat) for d in cfg.deployments], settings)
    if first_catalog is None:
        first_catalog = load_catalog(catalog or "bundled")
    return ValidateResult(first_catalog, files, sorted(set(findings), key=Finding.order), chosen_fail_on or "error",
                          settings_files, deployments)


def reconcile(
    config_path: str | Path,
    logs: list[str],
    *,
    catalog: str = "bundled",
    options: Any = None,
    input_format: str | None = None,
    mapping: dict[str, str] | None = None,
    fail_on_drift_usd: Decimal | None = None,
    fail_on_drift_pct: Decimal | None = Decimal("0.001"),
    mismatches_out: Any = None,
    on_read: Any = None,
    include_root: str | Path | None = None,
    engine: str = "auto",
    strict: bool = False,
    table: str = '"LiteLLM_SpendLogs"',
    statement_timeout: float = 600,
) -> ReconcileResult:
    """Recompute every logged request's cost from the config and compare it with `spend`, on
    the engine `engine` chooses (auto: DuckDB for large files it can read exactly). With
    `strict`, any skipped row makes the result untrustworthy: CostctlError."""
    from costctl.reconcile import SEVERE_CAUSES, Options, Pricer, front
    from costctl.usage import open_source
    from costctl.usage.postgres import Settings

    opts = options or Options()
    _check_window(opts)
    cfg = load_config(config_path, include_root=include_root)
    cat = load_catalog(catalog)
    settings = Settings(table, statement_timeout, opts.since, opts.until)
    outcome, sources = front.run(Pricer(cfg, cat), lambda: [open_source(path, input_format, settings) for path in logs],
                                 opts,
                                 engine=engine, mapping=mapping, mismatches_out=mismatches_out, on_read=on_read)
    t = outcome.totals
    if strict and t.rows_skipped:
        reasons = ", ".join(f"{r} ({n})" for r, n in sorted(t.skipped_by_reason.items()))
        first = t.skip_examples[0]
        raise CostctlError(f"--strict: {t.rows_skipped} rows skipped ({reasons}); first at {first[0]}:{first[1]}: "
                           f"{first[3]}")
    failures = []
    if t.rows_read and not t.rows_reconciled:
        reasons = ", ".join(f"{r} ({n})" for r, n in sorted(t.skipped_by_reason.items()))
        failures.append(f"none of the {t.rows_read} rows read could be reconciled: {reasons}")
    severe = {c: n for c, n in t.mismatches_by_cause.items() if c in SEVERE_CAUSES}
    if severe:
        failures.append("mismatches caused by " + ", ".join(f"{c} ({n})" for c, n in sorted(severe.items())))
    if fail_on_drift_usd is not None and t.abs_drift > fail_on_drift_usd:
        failures.append(f"drift ${t.abs_drift} above --fail-on-drift-usd {fail_on_drift_usd}")
    if fail_on_drift_pct is not None and t.abs_drift > 0:
        pct = t.abs_drift / t.expected * 100 if t.expected else Decimal(100)
        if pct > fail_on_drift_pct:
            failures.append(f"drift {pct:.4f} % of expected above --fail-on-drift-pct {fail_on_drift_pct}")
    return ReconcileResult(cat, str(config_path), [s.name for s in sources], outcome, opts,
                           fail_on_drift_usd, fail_on_drift_pct, failures)


def _check_window(opts: Any) -> None:
    if opts.since is not None and opts.until is not None and opts.since >= opts.until:
        raise CostctlError(f"--since {opts.since.isoformat()} is not before --until {opts.until.isoformat()}: "
                           "no row could fall in that window")


def _load_side(spec: str, stack: Any) -> tuple[Config, str]:
    """A config from a path or git:REF:PATH; errors name the spec, not a temporary file."""
    from costctl.config.git_source import GitConfig, is_git_spec

    if not is_git_spec(spec):
        return load_config(spec), spec
    git = GitConfig(spec)
    path = stack.enter_context(git)
    try:
        return load_config(path), spec
    except CostctlError as exc:
        if exc.file and git.tmp and exc.file.startswith(git.tmp):
            exc.file = f"git:{git.ref}:" + exc.file[len(git.tmp):].lstrip("/")
        raise


def diff(
    base: str,
    head: str,
    *,
    usage: list[str] | None = None,
    catalog: str = "bundled",
    base_catalog: str | None = None,
    input_format: str | None = None,
    fail_on_increase_pct: Decimal | None = None,
    fail_on_increase_usd: Decimal | None = None,
    table: str = '"LiteLLM_SpendLogs"',
    statement_timeout: float = 600,
    since: datetime | None = None,
    until: datetime | None = None,
) -> DiffResult:
    """Deployments added, removed and repriced from BASE to HEAD (config paths or git:REF:PATH),
    and, with usage rows, what they cost under each config."""
    from contextlib import ExitStack

    from costctl import diff as d
    from costctl.diff.front import project
    from costctl.reconcile import Options, Pricer
    from costctl.usage import open_source
    from costctl.usage.postgres import Settings

    window = Options(since=since, until=until)
    _check_window(window)
    if (since is not None or until is not None) and not usage:
        raise CostctlError("--since/--until need --usage: they choose which usage rows to project")
    if (fail_on_increase_pct is not None or fail_on_increase_usd is not None) and not usage:
        raise CostctlError("--fail-on-increase-* needs --usage: without usage rows there is no projection")
    head_cat = load_catalog(catalog)
    base_cat = load_catalog(base_catalog) if base_catalog else head_cat
    with ExitStack() as stack:
        base_cfg, base_name = _load_side(base, stack)
        head_cfg, head_name = _load_side(head, stack)
    base_eps = [effective_prices(dep, base_cat) for dep in base_cfg.deployments]
    head_eps = [effective_prices(dep, head_cat) for dep in head_cfg.deployments]
    pairs = d.match(base_eps, head_eps)
    found, unchanged = d.changes(pairs)
    projection = None
    with localcontext() as context:
        context.prec = 60
        if usage:
            projector = d.Projector(Pricer(base_cfg, base_cat), Pricer(head_cfg, head_cat), pairs, window)
            settings = Settings(table, statement_timeout, since, until)
            projection = project(projector, lambda: [open_source(path, input_format, settings) for path in usage])
        failures = []
        if projection is not None:
            pct = projection.delta_pct
            if fail_on_increase_pct is not None and pct is not None and pct > fail_on_increase_pct:
                failures.append(f"projected increase {pct:.2f} % above --fail-on-increase-pct {fail_on_increase_pct}")
            monthly = projection.monthly_delta if projection.monthly_delta is not None else projection.delta
            if fail_on_increase_usd is not None and monthly > fail_on_increase_usd:
                failures.append(f"projected increase ${monthly:.2f}/month above --fail-on-increase-usd "
                                f"{fail_on_increase_usd}")
    return DiffResult(base_name, head_name, base_cat, head_cat, found, unchanged, projection, list(usage or []),
                      failures)


def verify(
    config_path: str | Path,
    proxy_url: str,
    key: str | None,
    *,
    catalog: str = "bundled",
    probe: bool = False,
    concurrency: int = 8,
    timeout: float = 10.0,
    retries: int = 2,
    fail_on: str = "error",
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    include_root: str | Path | None = None,
    on_probe: Any = None,
) -> VerifyResult:
    """Compare a running LiteLLM proxy with its config: deployments, the API's and the Model
    Hub's prices, and (with `probe`) what mocked requests are charged. A proxy that cannot be
    reached or refuses the key raises CostctlError."""
    from dataclasses import replace

    from costctl.advisories import IMPLEMENTED_VERSION
    from costctl.proxy import probes as probing
    from costctl.proxy.checks import VERIFY_CHECKS, Charge, VerifyContext, link_deployments
    from costctl.proxy.client import Client
    from costctl.proxy.state import read_state
    from costctl.rules import RULES, Finding, Settings
    from costctl.rules.base import Context, iter_rules, unknown_checks

    known = {**VERIFY_CHECKS, "CST118": RULES["CST118"]}
    chosen = unknown_checks(select or [], known) + unknown_checks(ignore or [], known)
    if chosen:
        raise CostctlError(f"--select/--ignore {', '.join(chosen)}: no verify check has that code, prefix or name "
                           "(see costctl rules)")
    cfg = load_config(config_path, include_root=include_root)
    cat = load_catalog(catalog)
    prices = [effective_prices(d, cat) for d in cfg.deployments]
    client = Client(proxy_url, key, timeout=timeout, retries=retries)
    state = read_state(client)
    links, unexpected = link_deployments(prices, state)
    charges: list[Charge] = []
    sent: list[Any] = []
    if probe:
        charges = _expected_charges(cfg, cat, links)
        targets = [c.link.proxy_id for c in charges if c.expected is not None]
        sent = probing.run(client, targets, concurrency=concurrency, on_probe=on_probe)  # type: ignore[arg-type]
        by_target: dict[str, list[Any]] = {}
        for p in sent:
            by_target.setdefault(p.deployment_id, []).append(p)
        for c in charges:
            c.probes = sorted(by_target.get(c.link.proxy_id or "", []), key=lambda p: p.round)
        if not state.version:
            header = next((p.version for p in sent if p.version), None)
            if header:
                state.version, state.version_source = header, "the x-litellm-version header"
    ctx = VerifyContext(cfg, cat, prices, state, links, unexpected, charges, IMPLEMENTED_VERSION)
    # CST118 is validate's rule, run with the version the proxy reports
    rule_ctx = Context(cfg, cat, prices, Settings(litellm_version=state.version))
    proxy_id = {(lk.prices.deployment.file, lk.prices.deployment.line): lk.proxy_id or lk.prices.deployment.deployment_id
                for lk in links}

    findings: set[Finding] = set()
    for check_ in iter_rules(select or [], ignore or [], known):
        if check_.code in VERIFY_CHECKS:
            found = check_.check(ctx)  # type: ignore[arg-type]
        else:
            found = (replace(h, about="version", deployment_id=proxy_id.get((h.file, h.line)),
                             actual=state.version) for h in check_.check(rule_ctx))
        # findings are unique by place and code: a check's hits at one deployment make one finding
        hits: dict[tuple[str, int, int], list[Any]] = {}
        for h in found:
            hits.setdefault((h.file, h.line, h.column), []).append(h)
        for same in hits.values():
            h = same[0]
            findings.add(Finding(h.file, h.line, check_.code, h.column, check_.name, check_.severity,
                                 "; ".join(x.message for x in same), h.path, h.deployment, h.about, h.deployment_id,
                                 h.expected, h.actual))
    return VerifyResult(
        cat, list(cfg.files), sorted(findings), fail_on, [],
        [(d.file, d.line, d.model_name, d.model) for d in cfg.deployments],
        proxy=client.shown, version=state.version, version_source=state.version_source, probes_sent=len(sent),
        charges_verified=sum(1 for c in charges if c.expected is not None and c.probes),
        catalog_compared=ctx.catalog_compared, public_hub=state.public_hub_status,
    )


def _expected_charges(cfg: Config, cat: Catalog, links: list[Any]) -> list[Any]:
    """What each served deployment's probe should cost, or why costctl cannot say."""
    from costctl.pricing import NotRecomputed
    from costctl.proxy.checks import Charge
    from costctl.proxy.probes import probe_usage
    from costctl.reconcile.pricer import Pricer

    pricer = Pricer(cfg, cat)
    usage = probe_usage()
    out = []
    for link in links:
        if link.proxy_id is None:
            continue
        dep = link.prices.deployment
        if dep.wildcard:
            out.append(Charge(link, None, "a wildcard deployment: each request is priced by the model it names"))
            continue
        priced = pricer.by_id[dep.deployment_id]
        if priced.plan().per_second is not None:
            out.append(Charge(link, None, "a per-second price: the charge depends on the request's duration"))
            continue
        try:
            out.append(Charge(link, priced.cost(usage)))
        except NotRecomputed as exc:
            out.append(Charge(link, None, f"not recomputed: {exc.feature}" + (f" ({exc.detail})" if exc.detail else "")))
    return out
