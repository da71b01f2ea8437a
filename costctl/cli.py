"""The command line: parse options, call one api function, render, exit with a code.

Exit codes: 0 ran cleanly; 1 ran and found something at or above the failure threshold;
2 could not produce a trustworthy result (bad arguments or input, internal error).
"""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

import typer

from costctl import __version__
from costctl.choices import ENGINES, GROUP_KEYS, LOG_FORMATS, SEVERITIES
from costctl.gcpause import gc_paused
from costctl.report import FORMATS

app = typer.Typer(
    name="costctl",
    help="Cost auditor for LiteLLM gateways: the real per-token price of every deployment.\n\n"
    "Example: costctl show config.yaml",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
catalog_app = typer.Typer(
    help="Inspect the default price catalog.\n\nExample: costctl catalog lookup gpt-4o",
    no_args_is_help=True,
)
app.add_typer(catalog_app, name="catalog")

_state: dict[str, Any] = {"debug": False}


def _choices(name: str, values: "tuple[str, ...] | list[str]") -> type[enum.Enum]:
    """A typer choice type from a registry's names (so the CLI cannot drift from the registry)."""
    return enum.Enum(name, {value: value for value in values}, type=str)  # type: ignore[return-value]


ShowFormat: Any = _choices("ShowFormat", list(FORMATS["show"]))
ValidateFormat: Any = _choices("ValidateFormat", list(FORMATS["validate"]))
ReconcileFormat: Any = _choices("ReconcileFormat", list(FORMATS["reconcile"]))
Engine: Any = _choices("Engine", ENGINES)
DiffFormat: Any = _choices("DiffFormat", list(FORMATS["diff"]))
VerifyFormat: Any = _choices("VerifyFormat", list(FORMATS["verify"]))


Level: Any = _choices("Level", SEVERITIES)
InputFormat: Any = _choices("InputFormat", LOG_FORMATS)
GroupBy: Any = _choices("GroupBy", GROUP_KEYS)


class Unit(str, enum.Enum):
    token = "token"
    k = "1k"
    m = "1m"


CATALOG_HELP = ("Default prices: 'bundled' (snapshot shipped with costctl), 'litellm' (the installed litellm "
                "package's map), a path to a LiteLLM-format JSON file, or an http(s) URL of one (e.g. the map "
                "your proxy downloads; fetched, cached for an hour).")


def _version(value: bool) -> None:
    if value:
        from costctl.catalog.store import bundled_provenance

        prov = bundled_provenance()
        typer.echo(f"costctl {__version__} (bundled catalog: litellm {prov['litellm_version']}, "
                   f"{prov['entries']} entries, taken {prov['taken']})")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print costctl's version and the bundled catalog's version."),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback on internal errors."),
) -> None:
    _state["debug"] = debug


def _emit(text: str, output: Optional[Path]) -> None:
    """The report to stdout, or to OUTPUT (which appears when the command succeeds: output.py)."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    _state["outputs"].open(output).write(text)


def _refuse(outputs: list[Optional[Path]], inputs: list[Any]) -> None:
    """Exit 2 before any work when an output would overwrite an input or another output."""
    from costctl.errors import CostctlError
    from costctl.output import refuse_inputs

    named = [o for o in outputs if o is not None]
    if len(named) != len({p.resolve() for p in named}):
        raise CostctlError("the same file is given for two outputs")
    refuse_inputs(outputs, inputs)


def _color(output: Optional[Path]) -> bool:
    if output is not None or os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


@app.command()
def show(
    config: Path = typer.Argument(..., help="LiteLLM proxy config (config.yaml).", show_default=False),
    catalog: str = typer.Option("bundled", "--catalog", help=CATALOG_HELP),
    fmt: ShowFormat = typer.Option(ShowFormat("table"), "--format", "-f", help="Output format."),
    unit: Unit = typer.Option(Unit.m, "--unit",
                              help="Price unit for table, csv and markdown (JSON is always per token)."),
    all_fields: bool = typer.Option(False, "--all-fields",
                                    help="Every priced field, not only input/output/cache read/cache write."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to FILE instead of stdout."),
    include_root: Optional[Path] = typer.Option(
        None, "--include-root", help="Folder that include: files may come from (default: the config's folder)."),
) -> None:
    """Effective per-token price of every deployment, and where each price comes from.

    For each deployment: input, output, cached-read and cache-write prices, each marked
    custom (litellm_params / model_info, with its line), default (LiteLLM's catalog, with the key
    that matched), fallback (e.g. cached tokens billed at the input price) or none (billed $0).

    Example: costctl show config.yaml --format json > prices.json
    """
    from costctl import api
    from costctl.report import formatter
    from costctl.report.common import RenderOptions

    _refuse([output], [config])
    with gc_paused():  # a config-sized job: everything it allocates lives until the report is written
        result = api.show(config, catalog=catalog, include_root=include_root)
        opts = RenderOptions(unit=unit.value, all_fields=all_fields, color=_color(output))
        text = formatter("show", fmt.value).show(result, opts)
    _emit(text, output)


def _split(values: Optional[list[str]]) -> list[str]:
    """`--select CST1,CST002 --select name` -> ["CST1", "CST002", "name"]."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


@app.command()
def validate(
    configs: list[Path] = typer.Argument(..., help="LiteLLM proxy config(s).", show_default=False),
    catalog: Optional[str] = typer.Option(None, "--catalog", help=CATALOG_HELP + " [default: bundled]"),
    fmt: Optional[ValidateFormat] = typer.Option(
        None, "--format", "-f", help="Output format [default: text; github when GITHUB_ACTIONS=true]."),
    select: Optional[list[str]] = typer.Option(None, "--select", help="Only these rules: codes, prefixes (CST1) or names."),
    ignore: Optional[list[str]] = typer.Option(None, "--ignore", help="Skip these rules: codes, prefixes or names."),
    fail_on: Optional[Level] = typer.Option(None, "--fail-on", help="Exit 1 when a finding is at or above this severity "
                                            "[default: error]."),
    max_deviation: Optional[str] = typer.Option(None, "--max-deviation",
                                                help="CST107: percent a custom price may differ from the catalog "
                                                "[default: 50]."),
    litellm_version: Optional[str] = typer.Option(
        None, "--litellm-version", help="CST118: the LiteLLM version the config runs on; report its known billing "
        "bugs this config triggers."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to FILE instead of stdout."),
    include_root: Optional[Path] = typer.Option(
        None, "--include-root", help="Folder that include: files may come from (default: the config's folder)."),
) -> None:
    """Check configs for mistakes that make LiteLLM bill wrongly, before they deploy.

    Each finding has a stable code (costctl rules), severity, file:line:col, key path, deployment
    and a message saying what LiteLLM will do and how to fix it. Settings may also live in
    .costctl.toml or pyproject.toml [tool.costctl] next to the config; options here win.
    A comment `# costctl: ignore[CST105]` on a YAML line silences that code there.

    Exit 0: nothing at or above --fail-on; 1: findings at or above it; 2: a config could not be read.

    Example: costctl validate config.yaml --format sarif -o costctl.sarif
    """
    from costctl import api
    from costctl.advisories import check_version
    from costctl.report import formatter
    from costctl.report.common import RenderOptions
    from costctl.report.findings import summary_line
    from costctl.rules.settings import parse_percent

    chosen = fmt.value if fmt else ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    _refuse([output], list(configs))
    with gc_paused():  # config-sized, as in show
        result = api.validate(
            list(configs), catalog=catalog, select=_split(select), ignore=_split(ignore),
            fail_on=fail_on.value if fail_on else None,
            max_deviation=parse_percent(max_deviation, "--max-deviation") if max_deviation is not None else None,
            include_root=include_root,
            litellm_version=check_version(litellm_version, "--litellm-version") if litellm_version else None,
        )
        opts = RenderOptions(color=_color(output) and chosen == "text")
        text = formatter("validate", chosen).validate(result, opts)
    _emit(text, output)
    sys.stderr.write(summary_line(result) + "\n")
    raise typer.Exit(1 if result.failed else 0)


def _decimal(value: Optional[str], option: str) -> Optional["Decimal"]:
    from decimal import Decimal, InvalidOperation

    from costctl.errors import CostctlError

    if value is None:
        return None
    try:
        number = Decimal(value.rstrip("%"))
    except InvalidOperation:
        raise CostctlError(f"{option} expects a number, not {value!r}") from None
    if not number.is_finite() or number < 0:
        raise CostctlError(f"{option} expects a non-negative number, not {value!r}")
    return number


def _time(value: Optional[str], option: str) -> Optional["datetime"]:
    from costctl.errors import CostctlError
    from costctl.usage.record import Skip, parse_time

    if value is None:
        return None
    try:
        return parse_time(value)
    except Skip:
        raise CostctlError(f"{option} expects an ISO-8601 date or time (UTC), e.g. 2026-11-01 or "
                           f"2026-11-01T12:00:00Z, not {value!r}") from None


@app.command()
def reconcile(
    config: Path = typer.Argument(..., help="LiteLLM proxy config (config.yaml).", show_default=False),
    logs: list[str] = typer.Argument(..., help="Spend logs: CSV, JSONL or JSON (.gz too), Parquet; '-' for stdin; "
                                     "or LiteLLM's PostgreSQL: postgresql://USER@HOST:PORT/DB.",
                                     show_default=False),
    catalog: str = typer.Option("bundled", "--catalog", help=CATALOG_HELP),
    fmt: ReconcileFormat = typer.Option(ReconcileFormat("table"), "--format", "-f", help="Output format."),
    group_by: Optional[list[GroupBy]] = typer.Option(None, "--group-by", help="Group totals by these keys "
                                                     "(repeatable) [default: model_group; model_group and day for "
                                                     "--format html, whose page charts both]."),
    since: Optional[str] = typer.Option(None, "--since", help="Only rows with startTime >= this (UTC)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only rows with startTime < this (UTC)."),
    tolerance_usd: str = typer.Option("1e-9", "--tolerance-usd", help="A row matches within this many USD..."),
    tolerance_pct: str = typer.Option("0.0001", "--tolerance-pct", help="...or within this percent of expected."),
    fail_on_drift_usd: Optional[str] = typer.Option(None, "--fail-on-drift-usd",
                                                    help="Exit 1 when the summed |delta| of mismatches passes this."),
    fail_on_drift_pct: str = typer.Option("0.001", "--fail-on-drift-pct",
                                          help="Exit 1 when the summed |delta| of mismatches passes this percent "
                                          "of expected."),
    top: int = typer.Option(20, "--top", min=0, help="How many of the largest mismatches to list."),
    mismatches_out: Optional[Path] = typer.Option(None, "--mismatches-out",
                                                  help="Write every mismatched row to FILE as JSONL."),
    input_format: Optional[InputFormat] = typer.Option(None, "--input-format",
                                                       help="Force the log format (default: from name and content)."),
    map_: Optional[list[str]] = typer.Option(None, "--map", help="FIELD=COLUMN: read FIELD (spend, model_group, "
                                             "prompt_tokens, ...) from COLUMN of another export (repeatable)."),
    table: str = typer.Option('"LiteLLM_SpendLogs"', "--table", help="For a postgresql:// log: the table to "
                              "read (schema-qualified names allowed)."),
    statement_timeout: float = typer.Option(600, "--statement-timeout", min=0.001, help="For a postgresql:// "
                                            "log: cancel any query running longer than this many seconds."),
    engine: Engine = typer.Option(Engine("auto"), "--engine", help="vectorized: DuckDB, for large logs (for a "
                                  "postgresql:// log: priced in the database); python: the row-by-row reference; "
                                  "auto: vectorized for CSV, JSONL and Parquet input over 16 MB (stdin included; a "
                                  "database's rows copied out as CSV)."),
    strict: bool = typer.Option(False, "--strict", help="Any skipped row makes the result untrustworthy: exit 2."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to FILE instead of stdout."),
) -> None:
    """Recompute what every logged request should have cost, and explain each mismatch.

    Reads LiteLLM spend logs (LiteLLM_SpendLogs rows as CSV, JSONL or the JSON list GET /spend/logs
    returns), prices each row from the deployment's effective prices and usage, and compares it
    with the recorded spend. Causes: unknown-deployment, zero-spend, default-price,
    cache-not-discounted, unit-error, other.

    Exit 0: clean; 1: drift above --fail-on-drift-* or a zero-spend / default-price / unit-error
    mismatch; 2: unreadable input (or any skipped row with --strict).

    Example: costctl reconcile config.yaml spend_logs.csv.gz --group-by model_group --group-by day
    """
    from costctl import api
    from costctl.errors import CostctlError
    from costctl.reconcile import Options
    from costctl.report import formatter
    from costctl.report.common import RenderOptions, counted

    mapping: dict[str, str] = {}
    for item in map_ or []:
        field, sep, column = item.partition("=")
        if not sep or not field or not column:
            raise CostctlError(f"--map expects FIELD=COLUMN, not {item!r}")
        mapping[field.strip()] = column.strip()
    options = Options(
        tolerance_usd=_decimal(tolerance_usd, "--tolerance-usd"),  # type: ignore[arg-type]
        tolerance_pct=_decimal(tolerance_pct, "--tolerance-pct"),  # type: ignore[arg-type]
        since=_time(since, "--since"),
        until=_time(until, "--until"),
        group_by=tuple(g.value for g in group_by) if group_by else (
            ("model_group", "day") if fmt.value == "html" else ("model_group",)),
        top=top,
    )
    _refuse([output, mismatches_out], [config, *logs])
    out_file = _state["outputs"].open(mismatches_out) if mismatches_out is not None else None
    with _progress(logs, quiet) as on_read:
        result = api.reconcile(
            config, logs, catalog=catalog, options=options,
            input_format=input_format.value if input_format else None, mapping=mapping,
            fail_on_drift_usd=_decimal(fail_on_drift_usd, "--fail-on-drift-usd"),
            fail_on_drift_pct=_decimal(fail_on_drift_pct, "--fail-on-drift-pct"),
            mismatches_out=out_file, on_read=on_read, engine=engine.value, strict=strict,
            table=table, statement_timeout=statement_timeout,
        )
    t = result.outcome.totals
    _emit(formatter("reconcile", fmt.value).reconcile(result, RenderOptions(color=_color(output))), output)
    sys.stderr.write(f"{counted(t.rows_read, 'row')} read: {t.rows_reconciled:,} reconciled, {t.rows_skipped:,} "
                     f"skipped; {t.mismatched_rows:,} mismatched" + ("; " + "; ".join(result.failures) if result.failures else "")
                     + "\n")
    raise typer.Exit(1 if result.failed else 0)


@app.command()
def diff(
    base: str = typer.Argument(..., help="The config before: a path, or git:REF:PATH (e.g. git:origin/main:config.yaml).",
                               show_default=False),
    head: str = typer.Argument(..., help="The config after: a path, or git:REF:PATH.", show_default=False),
    usage: Optional[list[str]] = typer.Option(None, "--usage", help="Spend logs (as for reconcile, repeatable): "
                                              "project their traffic's cost under both configs."),
    table: str = typer.Option('"LiteLLM_SpendLogs"', "--table", help="For a postgresql:// log: the table to "
                              "read (schema-qualified names allowed)."),
    statement_timeout: float = typer.Option(600, "--statement-timeout", min=0.001, help="For a postgresql:// "
                                            "log: cancel any query running longer than this many seconds."),
    catalog: str = typer.Option("bundled", "--catalog", help="Catalog for HEAD. " + CATALOG_HELP),
    base_catalog: Optional[str] = typer.Option(None, "--base-catalog",
                                               help="Catalog for BASE (default: the same as --catalog)."),
    fmt: DiffFormat = typer.Option(DiffFormat("table"), "--format", "-f", help="Output format."),
    since: Optional[str] = typer.Option(None, "--since", help="Only usage rows with startTime >= this (UTC)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only usage rows with startTime < this (UTC)."),
    fail_on_increase_pct: Optional[str] = typer.Option(None, "--fail-on-increase-pct",
                                                       help="Exit 1 when the projected spend rises more than this %."),
    fail_on_increase_usd: Optional[str] = typer.Option(None, "--fail-on-increase-usd",
                                                       help="Exit 1 when the projected spend rises more than this "
                                                       "many USD per 30 days."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to FILE instead of stdout."),
) -> None:
    """What a config change does to prices and to the bill.

    Lists deployments added, removed and repriced (every price field whose value or source
    changes, old -> new), matched by deployment id, else by model_name + model. With --usage,
    prices the logged requests under both configs and scales the change to 30 days. A catalog
    change alone is a diff too: --base-catalog OLD --catalog NEW on the same config.

    Exit 0: done; 1: the projected increase passes a --fail-on-increase-* threshold; 2: bad input
    (a missing file or git ref, an unreadable config or log).

    Example: costctl diff git:origin/main:proxy/config.yaml proxy/config.yaml --usage logs.csv -f markdown
    """
    from costctl import api
    from costctl.report import formatter
    from costctl.report.common import RenderOptions

    _refuse([output], [base, head, *(usage or [])])
    result = api.diff(base, head, usage=usage, catalog=catalog, base_catalog=base_catalog,
                      fail_on_increase_pct=_decimal(fail_on_increase_pct, "--fail-on-increase-pct"),
                      fail_on_increase_usd=_decimal(fail_on_increase_usd, "--fail-on-increase-usd"),
                      table=table, statement_timeout=statement_timeout, since=_time(since, "--since"),
                      until=_time(until, "--until"))
    _emit(formatter("diff", fmt.value).diff(result, RenderOptions(color=_color(output))), output)
    if result.failures:
        sys.stderr.write("; ".join(result.failures) + "\n")
    raise typer.Exit(1 if result.failed else 0)


@app.command()
def verify(
    config: Path = typer.Argument(..., help="The LiteLLM config the proxy runs.", show_default=False),
    proxy: str = typer.Option(..., "--proxy", help="The proxy's base URL, e.g. http://127.0.0.1:4000.",
                              show_default=False),
    key_env: str = typer.Option("LITELLM_MASTER_KEY", "--key-env",
                                help="Environment variable holding the proxy key (never printed)."),
    probe: bool = typer.Option(False, "--probe", help="Send each deployment two mocked requests and check what "
                               "they are charged (needs a key allowed to send mock_response)."),
    catalog: str = typer.Option("bundled", "--catalog", help=CATALOG_HELP),
    fmt: Optional[VerifyFormat] = typer.Option(
        None, "--format", "-f", help="Output format [default: text; github when GITHUB_ACTIONS=true]."),
    fail_on: Level = typer.Option(Level("error"), "--fail-on", help="Exit 1 when a finding is at or above this severity."),
    select: Optional[list[str]] = typer.Option(None, "--select", help="Only these checks: codes, prefixes or names."),
    ignore: Optional[list[str]] = typer.Option(None, "--ignore", help="Skip these checks: codes, prefixes or names."),
    concurrency: int = typer.Option(8, "--concurrency", min=1, max=64, help="Probes in flight at once."),
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, help="Seconds to wait for each response."),
    retries: int = typer.Option(2, "--retries", min=0, max=10,
                                help="Retries (with backoff) when the proxy is unreachable or busy."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to FILE instead of stdout."),
    include_root: Optional[Path] = typer.Option(
        None, "--include-root", help="Folder that include: files may come from (default: the config's folder)."),
) -> None:
    """Check that a running LiteLLM proxy shows and charges what its config says.

    Compares, deployment by deployment: the ids the proxy serves; the prices of its API
    (/model/info) and of its Model Hub (/model_group/info, /public/model_hub); with --probe, the
    charge of mocked requests (x-litellm-response-cost) against costctl's expected cost, twice in
    two orders so a price leaking between deployments shows. Also reads the proxy's LiteLLM
    version (CST118: known billing bugs of that release this config triggers) and whether it
    prices from another catalog. Checks: costctl rules (CST3xx).

    Exit 0: nothing at or above --fail-on; 1: findings at or above it; 2: the proxy cannot be
    reached, refuses the key or the probes' mock responses, or the config is bad.

    Example: LITELLM_MASTER_KEY=sk-... costctl verify config.yaml --proxy http://127.0.0.1:4000 --probe
    """
    from costctl import api
    from costctl.report import formatter
    from costctl.report.common import RenderOptions
    from costctl.report.findings import verify_summary_line

    key = os.environ.get(key_env) or None
    if key is None:
        sys.stderr.write(f"costctl: ${key_env} is not set: calling the proxy without a key\n")
    chosen = fmt.value if fmt else ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    _refuse([output], [config])
    with _probe_progress(quiet or not probe) as on_probe:
        result = api.verify(config, proxy, key, catalog=catalog, probe=probe, concurrency=concurrency, timeout=timeout,
                            retries=retries, fail_on=fail_on.value, select=_split(select), ignore=_split(ignore),
                            include_root=include_root, on_probe=on_probe)
    opts = RenderOptions(color=_color(output) and chosen == "text")
    _emit(formatter("verify", chosen).verify(result, opts), output)
    sys.stderr.write(verify_summary_line(result) + "\n")
    raise typer.Exit(1 if result.failed else 0)


class _probe_progress:
    """A spinner counting probes on stderr, only when stderr is a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(SpinnerColumn(), TextColumn("verify: {task.completed} probes"), TimeElapsedColumn(),
                            console=Console(file=sys.stderr), transient=True)
        self.bar.start()
        task = self.bar.add_task("probes", total=None)
        bar = self.bar
        return lambda _probe: bar.update(task, advance=1)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


class _progress:
    """A rich progress bar of bytes read on stderr, only when stderr is a terminal."""

    def __init__(self, logs: list[str], quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.total = None
        if self.enabled and all(os.path.isfile(p) for p in logs):  # not for stdin or pipes
            self.total = sum(os.path.getsize(p) for p in logs)
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

        self.bar = Progress(TextColumn("reconcile"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                            TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                            console=Console(file=sys.stderr), transient=True)
        self.bar.start()
        task = self.bar.add_task("read", total=self.total, rate="")
        bar = self.bar

        def advance(n: int, rows: int) -> None:
            elapsed = bar.tasks[0].elapsed or 0
            bar.update(task, advance=n, rate=f"{rows / elapsed:,.0f} rows/s" if elapsed > 0.5 and rows > 0 else "")

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command()
def rules(
    code: Optional[str] = typer.Argument(None, help="A rule code or name: print its full documentation."),
) -> None:
    """List the validation rules (CST0xx-CST1xx) and verify's checks (CST3xx), or explain one.

    Example: costctl rules CST104
    """
    from costctl.errors import CostctlError
    from costctl.proxy.checks import VERIFY_CHECKS
    from costctl.rules import RULES

    every = {**RULES, **VERIFY_CHECKS}
    if code is None:
        for title, registry in (("validate", RULES), ("verify", VERIFY_CHECKS)):
            typer.echo(f"# {title}")
            for r in sorted(registry.values(), key=lambda r: r.code):
                typer.echo(f"{r.code}  {r.name:<28} {r.severity:<8} {r.summary}")
        return
    found = every.get(code.upper()) or next((r for r in every.values() if r.name == code.lower()), None)
    if found is None:
        raise CostctlError(f"no rule {code} (costctl rules lists them)")
    typer.echo(f"{found.code} {found.name} ({found.severity})\n\n{found.doc}")


@catalog_app.command("info")
def catalog_info(
    catalog: str = typer.Option("bundled", "--catalog", help=CATALOG_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Provenance of the price catalog: LiteLLM version, sha256, entries, providers.

    Example: costctl catalog info --catalog litellm
    """
    from costctl import api
    from costctl.report import formatter
    from costctl.report.common import RenderOptions

    result = api.catalog_info(catalog)
    _emit(formatter("catalog_info", "json" if as_json else "text").catalog_info(result, RenderOptions()), None)


@catalog_app.command("lookup")
def catalog_lookup(
    model: str = typer.Argument(..., help="Model as written in litellm_params.model, e.g. azure/gpt-4o."),
    provider: Optional[str] = typer.Option(None, "--provider", help="custom_llm_provider, when the model has no prefix."),
    catalog: str = typer.Option("bundled", "--catalog", help=CATALOG_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Which catalog key LiteLLM prices MODEL with, and its prices (or the closest keys).

    Exits 1 when no key matches. Example: costctl catalog lookup bedrock/anthropic.claude-3-haiku-20240307-v1:0
    """
    from costctl import api
    from costctl.report import formatter
    from costctl.report.common import RenderOptions

    result = api.catalog_lookup(model, provider, catalog)
    _emit(formatter("catalog_lookup", "json" if as_json else "text").catalog_lookup(result, RenderOptions()), None)
    if result.resolution.key is None:
        raise typer.Exit(1)


# What --help shows for an option's value (typer would show the Python type: <str>, <int range>)
_METAVARS = {
    "--catalog": "SPEC", "--base-catalog": "SPEC", "--output": "FILE", "--mismatches-out": "FILE",
    "--include-root": "DIR", "--since": "TIME", "--until": "TIME", "--tolerance-usd": "USD",
    "--tolerance-pct": "PERCENT", "--fail-on-drift-usd": "USD", "--fail-on-drift-pct": "PERCENT",
    "--fail-on-increase-usd": "USD", "--fail-on-increase-pct": "PERCENT", "--max-deviation": "PERCENT",
    "--top": "N", "--concurrency": "N", "--retries": "N", "--timeout": "SECONDS", "--map": "FIELD=COLUMN",
    "--select": "CODES", "--ignore": "CODES", "--usage": "LOG", "--proxy": "URL", "--key-env": "VARIABLE",
    "--provider": "PROVIDER", "--table": "TABLE", "--statement-timeout": "SECONDS",
    "--settings": "FILE", "--litellm-version": "VERSION", "--group-by": "|".join(GROUP_KEYS),
}


def _name_values() -> None:
    """Give every option that takes a value, and every argument, a readable name in --help."""
    import inspect

    from typer.models import ArgumentInfo, OptionInfo

    commands = list(app.registered_commands) + [c for g in app.registered_groups if g.typer_instance
                                                for c in g.typer_instance.registered_commands]
    for command in commands:
        if command.callback is None:
            continue
        for name, parameter in inspect.signature(command.callback).parameters.items():
            info = parameter.default
            if isinstance(info, OptionInfo) and info.metavar is None:
                for decl in info.param_decls or ():
                    if decl in _METAVARS:
                        info.metavar = _METAVARS[decl]
            elif isinstance(info, ArgumentInfo) and info.metavar is None:
                info.metavar = name.upper().rstrip("S") if name.endswith("s") else name.upper()
    # Typer also prints an argument's Python type after its name (CONFIG <path>, BASE <str>);
    # the argument's help already says what it takes.
    from typer import core

    if hasattr(core.TyperArgument, "display_type_rich"):
        core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]


_name_values()


def main() -> None:
    """Console-script entry: one error boundary. Exit 0/1 as the command decides, 2 with one
    `costctl: error: …` line for anything that stopped it (usage errors included), 130 on
    Ctrl-C. Output files appear only on 0 or 1 (output.py)."""
    from costctl.output import Outputs

    outputs = _state["outputs"] = Outputs()
    code = 2
    try:
        code = _run()
    finally:
        if code in (0, 1):
            code = _guarded(outputs.commit, 2) or code
        else:
            outputs.discard()
    sys.exit(code)


def _run() -> int:
    """The command's exit code (its errors written as one line)."""
    try:
        result = app(standalone_mode=False)  # typer returns the exit code (130: it caught Ctrl-C)
        if result == 130:
            sys.stderr.write("costctl: interrupted\n")
        return result if isinstance(result, int) else 0
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("costctl: interrupted\n")
        return 130
    except BrokenPipeError:
        return 2
    except typer.Exit as exc:
        code = int(getattr(exc, "exit_code", 0))
        if isinstance(exc.__cause__, KeyboardInterrupt):  # typer's own answer to Ctrl-C
            sys.stderr.write("costctl: interrupted\n")
            return 130
        return code
    except Exception as exc:  # noqa: BLE001 - the one boundary
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click's usage errors (vendored or not)
            if type(exc).__name__ == "NoArgsIsHelpError":
                sys.stderr.write(exc.format_message() + "\n")
            else:
                sys.stderr.write(f"costctl: error: {_usage_message(exc)}\n")
            return int(exc.exit_code)
        return _failed(exc)


def _guarded(step: Any, failure: int) -> int:
    """Run `step`; on an exception, its one line and `failure`, else 0."""
    try:
        step()
    except Exception as exc:  # noqa: BLE001
        _failed(exc)
        return failure
    return 0


def _failed(exc: BaseException) -> int:
    from costctl.config.secrets import redact
    from costctl.errors import CostctlError

    if _state["debug"]:
        import traceback

        traceback.print_exception(exc)
    if isinstance(exc, CostctlError):
        sys.stderr.write(f"costctl: error: {redact(str(exc))}\n")
    else:
        sys.stderr.write(f"costctl: internal error: {type(exc).__name__}: {redact(str(exc))} "
                         "(run with --debug for a traceback)\n")
    return 2


def _usage_message(exc: Any) -> str:
    """A usage error in one line and plain words (typer reports option types in pydantic's)."""
    import re

    text = " ".join(exc.format_message().split())
    text = re.sub(r"Input should be a valid (integer|number)[^.;]*", r"expected a whole number"
                  if "integer" in text else r"expected a number", text)
    text = re.sub(r"Input should be ", "expected ", text).replace("Value error, ", "")
    command = getattr(getattr(exc, "ctx", None), "command_path", "costctl")
    return f"{text} (see {command} --help)"
