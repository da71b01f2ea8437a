"""verify's checks: one registry of stable codes (CST3xx), each a function over what a running
proxy shows and charges; its docstring is its documentation (`costctl rules CST310`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from costctl.catalog.store import Catalog
from costctl.config.model import Config
from costctl.money import number
from costctl.pricing import CACHE_READ, DEFAULT, FALLBACK, FIELD_LABELS, INPUT, MAIN_FIELDS, NONE, OUTPUT, EffectivePrices
from costctl.proxy.probes import Probe
from costctl.proxy.state import ProxyState, mapping, shown_number
from costctl.rules.base import Hit, Rule

MILLION = Decimal(1_000_000)
HUB_FIELDS = (INPUT, OUTPUT)  # what the Model Hub displays


@dataclass
class Link:
    """One config deployment and the proxy deployment it is (proxy_id None: not served)."""

    prices: EffectivePrices
    proxy_id: str | None
    how: str  # "id": the same id; "env": a generated id that differs with the environment; "missing"


@dataclass
class Charge:
    """A deployment's probes and what costctl expects them to cost (None: not recomputed)."""

    link: Link
    expected: Decimal | None
    why_not: str = ""  # why there is no expected cost, or why it was not probed
    probes: list[Probe] = field(default_factory=list)


@dataclass
class VerifyContext:
    config: Config
    catalog: Catalog
    prices: list[EffectivePrices]
    state: ProxyState
    links: list[Link]
    unexpected: list[str]  # proxy ids no config deployment is
    charges: list[Charge]  # empty without --probe
    implemented: str  # the LiteLLM version whose rules costctl implements

    def rows(self, link: Link) -> list[dict[str, Any]]:
        return self.state.deployments.get(link.proxy_id or "", [])

    # what several checks read, worked out once
    @cached_property
    def api_fields(self) -> list[tuple[Link, dict[str, tuple[str, Decimal | None]]]]:
        """Each priced deployment's /model/info prices, classified (CST310-CST312)."""
        return [(link, _fields(link.prices, info, MAIN_FIELDS)) for link, info in _priced_links(self)]

    @cached_property
    def hub_verdicts(self) -> list[tuple[str, Link, str, str]]:
        """What the Model Hub shows wrongly (CST320, CST321)."""
        return list(_hub_verdicts(self))

    @cached_property
    def catalog_compared(self) -> tuple[int, int, list[str]]:
        """(compared, differing, examples) of the proxy's catalog prices (CST350 and the report)."""
        return catalog_differences(self)


VerifyCheck = Callable[[VerifyContext], Iterable[Hit]]
VERIFY_CHECKS: dict[str, Rule] = {}


def verify_check(code: str, name: str, severity: str) -> Callable[[VerifyCheck], VerifyCheck]:
    """Register a verify check under a stable code (never renumbered or reused)."""

    def register(func: VerifyCheck) -> VerifyCheck:
        if code in VERIFY_CHECKS or any(r.name == name for r in VERIFY_CHECKS.values()):
            raise ValueError(f"verify check {code} {name} registered twice")
        VERIFY_CHECKS[code] = Rule(code, name, severity, func)  # type: ignore[arg-type]
        return func

    return register


# --- helpers ----------------------------------------------------------------------------------

def close(a: Decimal | None, b: Decimal | None) -> bool:
    """Equal as LiteLLM's floats allow (None and 0 both mean $0)."""
    a, b = a or Decimal(0), b or Decimal(0)
    return abs(a - b) <= max(abs(a), abs(b)) * Decimal("1e-9") + Decimal("1e-18")


def per_1m(value: Decimal | None) -> str:
    return "none" if value is None else f"${number(value * MILLION)} per 1M"


def usd(value: Decimal | None) -> str:
    return "none" if value is None else f"${number(value)}"


OK, NOT_SHOWN, NOT_CHARGED, DIFFERS = "ok", "not-shown", "not-charged", "differs"


def classify(ep: EffectivePrices, name: str, shown: Decimal | None) -> str:
    """How a shown price relates to what LiteLLM charges for the field:
    ok; not-shown (no price shown for a field billed at a fallback price); not-charged (the
    catalog's price shown for a field LiteLLM bills $0, as 1.110.2's API does when custom
    prices leave it out); differs."""
    price = ep.prices.get(name)
    charged = price.value if price is not None and price.source != NONE else None
    if close(charged, shown):
        return OK
    if price is not None and price.source == FALLBACK and shown is None:
        return NOT_SHOWN
    default = shown_number((ep.catalog.entry or {}).get(name))
    if (price is None or price.source == NONE) and shown is not None and close(default, shown):
        return NOT_CHARGED
    return DIFFERS


def _hit(link: Link, about: str, message: str, expected: str | None = None, actual: str | None = None) -> Hit:
    dep = link.prices.deployment
    return Hit(message, dep.file, dep.line, dep.column, dep.key_path, dep.model_name, about,
               link.proxy_id or dep.deployment_id, expected, actual)


def _fields(ep: EffectivePrices, row: dict[str, Any], wanted: tuple[str, ...]) -> dict[str, tuple[str, Decimal | None]]:
    return {name: (classify(ep, name, shown_number(row.get(name))), shown_number(row.get(name))) for name in wanted}


def _charged_text(ep: EffectivePrices, name: str) -> str:
    price = ep.prices.get(name)
    if price is None or price.source == NONE:
        return "$0"
    return f"{per_1m(price.value)} ({price.source})"


def _priced_links(ctx: VerifyContext) -> Iterator[tuple[Link, dict[str, Any]]]:
    """Linked, non-wildcard deployments with the one /model/info row that is theirs."""
    for link in ctx.links:
        rows = ctx.rows(link)
        if link.proxy_id is not None and rows and not link.prices.deployment.wildcard:
            yield link, mapping(rows[0], "model_info")


# --- deployments --------------------------------------------------------------------------------

@verify_check("CST301", "deployment-missing", "error")
def deployment_missing(ctx: VerifyContext) -> Iterator[Hit]:
    """A deployment of the config that the proxy does not serve.

    The proxy runs another config, failed to load this deployment (a bad provider parameter, a
    missing credential at start-up), or has not been redeployed since the change. Ids are
    compared: `model_info.id`, else the id LiteLLM generates from model_name and litellm_params.

    Fix: redeploy the proxy with this config; check its start-up log for the deployment.
    """
    for link in ctx.links:
        if link.how == "missing":
            dep = link.prices.deployment
            yield _hit(link, "deployment", f"the proxy serves no deployment with id {dep.deployment_id} "
                       f"({dep.model_name} -> {dep.model})", dep.deployment_id, None)


@verify_check("CST302", "deployment-unexpected", "warning")
def deployment_unexpected(ctx: VerifyContext) -> Iterator[Hit]:
    """A deployment the proxy serves that is not in the config.

    Added through the UI or API (stored in the proxy's database), or left from an older
    config: its prices are not the ones this config reviews.

    Fix: put it in the config, or delete it from the proxy.
    """
    top = (ctx.config.path, 1)
    for proxy_id in ctx.unexpected:
        rows = ctx.state.deployments[proxy_id]
        row = rows[0]
        params = mapping(row, "litellm_params")
        info = mapping(row, "model_info")
        origin = " (added through the API or UI: db_model)" if info.get("db_model") else ""
        yield Hit(f"the proxy serves deployment {proxy_id} ({row.get('model_name')} -> {params.get('model')}) that "
                  f"is not in the config{origin}", top[0], top[1], 1, "model_list", str(row.get("model_name")),
                  "deployment", proxy_id, None, proxy_id)


@verify_check("CST303", "deployment-id-differs", "warning")
def deployment_id_differs(ctx: VerifyContext) -> Iterator[Hit]:
    """A deployment the proxy serves under another generated id because an `os.environ/` value
    differs between here and the proxy.

    LiteLLM generates a deployment's id by hashing model_name and litellm_params with the
    environment values substituted, so the same config gives other ids where an API key or
    base URL differs. verify pairs the two by model_name and model and compares them as one;
    spend logs carry the proxy's id, which reconcile then matches by model_name and model.

    Fix: run verify with the proxy's environment, or set `model_info.id` on the deployment.
    """
    for link in ctx.links:
        if link.how == "env":
            dep = link.prices.deployment
            names = sorted({r.name for r in dep.env_refs if ".litellm_params." in r.path})
            unset = sorted({r.name for r in dep.env_refs if ".litellm_params." in r.path and not r.resolved})
            detail = f"; unset here: {', '.join(unset)}" if unset else ""
            yield _hit(link, "deployment", f"the proxy's id for this deployment is {link.proxy_id}, not "
                       f"{dep.deployment_id}: the generated id hashes os.environ/ values ({', '.join(names)}) that "
                       f"differ here{detail}", dep.deployment_id, link.proxy_id)


# --- the API: /model/info -----------------------------------------------------------------------

def _api_fields(ctx: VerifyContext, wanted: str) -> Iterator[tuple[Link, list[tuple[str, Decimal | None]]]]:
    for link, fields in ctx.api_fields:
        ep = link.prices
        found = []
        for name, (kind, shown) in fields.items():
            price = ep.prices.get(name)
            from_catalog = price is not None and price.source == DEFAULT
            if kind == wanted and (wanted != DIFFERS or not from_catalog):  # catalog differences: CST350
                found.append((name, shown))
        if found:
            yield link, found


@verify_check("CST310", "api-price-differs", "error")
def api_price_differs(ctx: VerifyContext) -> Iterator[Hit]:
    """The API (`/model/info`) shows a deployment price other than the config's.

    This is what the v1.65 failure looked like from the outside: a custom price that did not
    take effect, or one deployment's price shown (and charged) for another. Prices the
    deployment takes from the catalog are checked by CST350 instead.

    Fix: check that the running proxy loaded this config; `costctl verify --probe` shows
    whether the charge differs too.
    """
    for link, found in _api_fields(ctx, DIFFERS):
        ep = link.prices
        parts = [f"{FIELD_LABELS[n]} {per_1m(shown)} (config: {_charged_text(ep, n)})" for n, shown in found]
        yield _hit(link, "api", "/model/info shows " + ", ".join(parts),
                   "; ".join(f"{FIELD_LABELS[n]}={_charged_text(ep, n)}" for n, _ in found),
                   "; ".join(f"{FIELD_LABELS[n]}={per_1m(s)}" for n, s in found))


@verify_check("CST311", "api-price-not-shown", "info")
def api_price_not_shown(ctx: VerifyContext) -> Iterator[Hit]:
    """The API shows no price for a field LiteLLM charges at a fallback price.

    LiteLLM 1.110.2's `/model/info` shows `null` for a cache price the entry does not set,
    while it charges those tokens at the input price. Nothing is mis-billed; a dashboard that
    reads the API shows the field as unpriced.

    Fix: none needed; set the cache price explicitly to have it shown.
    """
    for link, found in _api_fields(ctx, NOT_SHOWN):
        ep = link.prices
        parts = [f"{FIELD_LABELS[n]} (charged at the {FIELD_LABELS.get(ep.prices[n].origin or '', ep.prices[n].origin)} "
                 f"price, {per_1m(ep.prices[n].value)})" for n, _ in found]
        yield _hit(link, "api", "/model/info shows no price for " + ", ".join(parts),
                   "; ".join(f"{FIELD_LABELS[n]}={_charged_text(ep, n)}" for n, _ in found), "none")


@verify_check("CST312", "api-price-not-charged", "warning")
def api_price_not_charged(ctx: VerifyContext) -> Iterator[Hit]:
    """The API shows the catalog's price for a field LiteLLM charges $0.

    When custom prices leave a field out (an input price without an output price), LiteLLM
    1.110.2 bills that field $0 but `/model/info` still shows the catalog's price: readers of
    the API believe it is billed. CST105 finds the same config before deploy.

    Fix: set the missing custom price.
    """
    for link, found in _api_fields(ctx, NOT_CHARGED):
        parts = [f"{FIELD_LABELS[n]} {per_1m(shown)}" for n, shown in found]
        yield _hit(link, "api", "/model/info shows the catalog's " + ", ".join(parts) + "; LiteLLM charges $0 for "
                   + ("it" if len(found) == 1 else "them"), "$0", "; ".join(parts))


# --- the UI: the Model Hub's sources ------------------------------------------------------------

def _hub_rows(ctx: VerifyContext) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for group, row in ctx.state.groups.items():
        yield "/model_group/info", group, row
    for group, row in ctx.state.public_hub.items():
        yield "/public/model_hub", group, row


def _hub_verdicts(ctx: VerifyContext) -> Iterator[tuple[str, Link, str, str]]:
    """(kind, link, endpoint, detail) for every deployment a Model Hub row shows wrongly."""
    members: dict[str, list[Link]] = {}
    for link in ctx.links:
        if link.proxy_id is not None and not link.prices.deployment.wildcard:
            members.setdefault(link.prices.deployment.model_name, []).append(link)
    for endpoint, group, row in _hub_rows(ctx):
        links = members.get(group)
        if not links:
            continue
        # the group's own price: one of its deployments' prices
        verdicts = [(link, _fields(link.prices, row, HUB_FIELDS)) for link in links]
        kinds = [{k for k, _ in v.values()} for _, v in verdicts]
        shown = ", ".join(f"{FIELD_LABELS[n]} {per_1m(shown_number(row.get(n)))}" for n in HUB_FIELDS)
        if not any(k <= {OK} for k in kinds):
            quirk = next((i for i, k in enumerate(kinds) if DIFFERS not in k), None)
            link = links[quirk if quirk is not None else 0]
            config = "; ".join(f"{lk.prices.deployment.model_name} " + ", ".join(
                f"{FIELD_LABELS[n]} {_charged_text(lk.prices, n)}" for n in HUB_FIELDS) for lk in links[:3])
            yield (NOT_CHARGED if quirk is not None else DIFFERS), link, endpoint, \
                f"group {group}: {shown}; the config: {config}"
        # 1.110.2 also lists each deployment's prices (without ids): every deployment needs one
        entries = row.get("deployment_pricing")
        if not isinstance(entries, list):
            continue
        costs = [mapping(e, "costs") for e in entries if isinstance(e, dict) and isinstance(e.get("costs"), dict)]
        for link in links:
            ep = link.prices
            if all(ep.prices.get(n) is None or ep.prices[n].source == NONE for n in HUB_FIELDS):
                continue  # unpriced: 1.110.2 lists no entry for it
            found = [{k for k, _ in _fields(ep, c, HUB_FIELDS).values()} for c in costs]
            if any(k <= {OK} for k in found):
                continue
            kind = NOT_CHARGED if any(DIFFERS not in k for k in found) else DIFFERS
            listed = "; ".join(", ".join(f"{FIELD_LABELS[n]} {per_1m(shown_number(c.get(n)))}" for n in HUB_FIELDS)
                               for c in costs[:3]) or "nothing"
            yield kind, link, f"{endpoint} deployment_pricing", f"group {group} lists {listed}; this deployment: " + \
                ", ".join(f"{FIELD_LABELS[n]} {_charged_text(ep, n)}" for n in HUB_FIELDS)


@verify_check("CST320", "hub-price-differs", "error")
def hub_price_differs(ctx: VerifyContext) -> Iterator[Hit]:
    """The Model Hub shows a price for a model group that none of its deployments is billed at.

    The Model Hub page reads `/model_group/info` (and `/public/model_hub` for public groups).
    LiteLLM up to 1.65 showed the catalog default there for a price set in litellm_params until
    the deployment's first request: users picked models by prices that were not the ones billed.

    Fix: upgrade LiteLLM (fixed in 1.66.0); check the group's deployments with --probe.
    """
    for kind, link, endpoint, detail in ctx.hub_verdicts:
        if kind == DIFFERS:
            yield _hit(link, "hub", f"{endpoint} shows {detail}")


@verify_check("CST321", "hub-price-not-charged", "warning")
def hub_price_not_charged(ctx: VerifyContext) -> Iterator[Hit]:
    """The Model Hub shows the catalog's price for a field LiteLLM charges $0.

    As CST312 for the API: custom prices that leave a field out bill it $0, while the Model
    Hub keeps showing the catalog's price for it.

    Fix: set the missing custom price.
    """
    for kind, link, endpoint, detail in ctx.hub_verdicts:
        if kind == NOT_CHARGED:
            yield _hit(link, "hub", f"{endpoint} shows {detail} (a field the config bills $0 shown at the "
                       "catalog's price)")


# --- charges: probes ----------------------------------------------------------------------------

def _matches_other(ctx: VerifyContext, charge: Charge, charged: Decimal | None) -> str:
    for other in ctx.charges:
        if other is not charge and other.expected is not None and charged is not None \
                and not close(other.expected, charge.expected) and close(other.expected, charged):
            dep = other.link.prices.deployment
            return f"; that is the charge expected for {dep.model_name} ({dep.model}, {dep.file}:{dep.line})"
    return ""


@verify_check("CST330", "charge-differs", "error")
def charge_differs(ctx: VerifyContext) -> Iterator[Hit]:
    """A probe was charged another amount than the config's prices give.

    `verify --probe` sends each deployment a mocked request (1,000 prompt tokens of which 200
    cached, 500 completion tokens; no provider is called) and reads the charge from
    `x-litellm-response-cost`. costctl prices the same usage with the deployment's effective
    prices, discount and margin. A different charge is the price that did not take effect,
    or another deployment's price (the message names it when it matches one).

    Fix: see what the proxy charged instead (the message gives its parts); CST331 tells
    whether the charge moved between the two rounds of probes.
    """
    for charge in ctx.charges:
        if charge.expected is None:
            continue
        for probe in charge.probes:
            if close(probe.charged, charge.expected) and (probe.charged is not None or charge.expected == 0):
                continue
            parts = ", ".join(f"{k} {usd(v)}" for k, v in probe.parts.items() if k in ("input", "output", "cache-read"))
            charged = usd(probe.charged) if probe.charged is not None else "nothing (no cost header)"
            served = (f"; served by {probe.served_by}" if probe.served_by and probe.served_by != probe.deployment_id
                      else "")
            yield _hit(charge.link, "charge", f"probe {probe.round} was charged {charged}"
                       + (f" ({parts})" if parts else "") + f", the config's prices give {usd(charge.expected)}"
                       + served + _matches_other(ctx, charge, probe.charged), usd(charge.expected), usd(probe.charged))
            break  # one finding a deployment: the first differing probe


@verify_check("CST331", "charge-changed", "error")
def charge_changed(ctx: VerifyContext) -> Iterator[Hit]:
    """A deployment charged differently for the same request before and after the others
    were called.

    Probes go to every deployment, then to all again in reverse order. A charge that moves is
    a price leaking between deployments: LiteLLM up to 1.65 wrote a custom price into the one
    catalog entry the deployments of a backend model share, so the last one called set the
    price of the others.

    Fix: upgrade LiteLLM past the leak (see CST118 for the version's known bugs); until then
    give each custom-priced deployment a backend model of its own.
    """
    for charge in ctx.charges:
        by_round = {p.round: p for p in charge.probes}
        first, second = by_round.get(1), by_round.get(2)
        if first is None or second is None or close(first.charged, second.charged):
            continue
        yield _hit(charge.link, "charge", f"charged {usd(first.charged)} by the first probe and "
                   f"{usd(second.charged)} by the second, after the other deployments were called"
                   + _matches_other(ctx, charge, second.charged), usd(first.charged), usd(second.charged))


@verify_check("CST332", "charge-not-verified", "info")
def charge_not_verified(ctx: VerifyContext) -> Iterator[Hit]:
    """A deployment whose charge verify does not check, and why.

    A wildcard deployment (each request is priced by the model it names), a per-second price
    (the charge depends on the request's duration), or a billing rule costctl does not
    recompute (named, as reconcile's skip reasons are).

    Fix: none; the deployment's prices are still checked against the API and the Model Hub.
    """
    for charge in ctx.charges:
        if charge.expected is None and charge.link.proxy_id is not None:
            yield _hit(charge.link, "charge", f"charge not verified: {charge.why_not}")


# --- version and catalog ------------------------------------------------------------------------

def _top(ctx: VerifyContext, about: str, message: str, expected: str | None, actual: str | None) -> Hit:
    return Hit(message, ctx.config.path, 1, 1, "", None, about, None, expected, actual)


@verify_check("CST340", "version-differs", "warning")
def version_differs(ctx: VerifyContext) -> Iterator[Hit]:
    """The proxy runs another LiteLLM release than the one whose billing rules costctl implements.

    costctl's expected costs are LiteLLM 1.110.2's; releases differ in billing rules and in
    their bugs (CST118 lists the known ones this config triggers). Differences verify reports
    may then be the release's, not the config's.

    Fix: none needed; read findings with the release in mind, or upgrade the proxy.
    """
    version = ctx.state.version
    if version and version != ctx.implemented:
        yield _top(ctx, "version", f"the proxy runs LiteLLM {version} (read from {ctx.state.version_source}); "
                   f"costctl implements the billing rules of LiteLLM {ctx.implemented}", ctx.implemented, version)


@verify_check("CST341", "version-unknown", "warning")
def version_unknown(ctx: VerifyContext) -> Iterator[Hit]:
    """The proxy's LiteLLM version could not be read.

    verify reads it from `/public/model_hub/info`, `/health/readiness`, `/openapi.json` and
    the `x-litellm-version` header of probe responses; a proxy behind a gateway that hides
    them leaves the version's known billing bugs unchecked.

    Fix: run `costctl validate --litellm-version X` with the version you deployed.
    """
    if not ctx.state.version:
        yield _top(ctx, "version", "the proxy's LiteLLM version could not be read (known billing bugs of the "
                   "release are not checked)", ctx.implemented, None)


def catalog_differences(ctx: VerifyContext) -> tuple[int, int, list[str]]:
    """(compared, differing, examples): catalog prices the proxy reports for deployments and
    wildcard models without custom prices, against costctl's catalog."""
    compared = differing = 0
    examples: list[str] = []
    for link in ctx.links:
        ep = link.prices
        for row in ctx.rows(link):
            info = mapping(row, "model_info")
            if ep.deployment.wildcard:
                entry = ctx.catalog.entries.get(str(info.get("key"))) if info.get("key") else None
                if entry is None:
                    continue
                pairs = [(n, shown_number(entry.get(n)), shown_number(info.get(n))) for n in (INPUT, OUTPUT, CACHE_READ)]
                label = str(info.get("key"))
            else:
                pairs = [(n, ep.prices[n].value, shown_number(info.get(n))) for n in MAIN_FIELDS
                         if n in ep.prices and ep.prices[n].source == DEFAULT]
                label = ep.catalog_key or ep.deployment.model
            if not pairs:
                continue
            compared += 1
            bad = [(n, ours, theirs) for n, ours, theirs in pairs if not close(ours, theirs)]
            if bad:
                differing += 1
                if len(examples) < 5:
                    n, ours, theirs = bad[0]
                    examples.append(f"{label} {FIELD_LABELS[n]} {per_1m(theirs)} (costctl: {per_1m(ours)})")
    return compared, differing, examples


@verify_check("CST350", "catalog-differs", "warning")
def catalog_differs(ctx: VerifyContext) -> Iterator[Hit]:
    """The proxy prices models from another price map than costctl's catalog.

    A proxy downloads LiteLLM's current price map at start-up (unless
    LITELLM_LOCAL_MODEL_COST_MAP=True), so its defaults can differ from costctl's bundled
    snapshot; costctl's expected costs are then not the proxy's for default-priced models.

    Fix: point costctl at the map the proxy uses: `--catalog URL` (every command), or pin the
    proxy's map.
    """
    compared, differing, examples = ctx.catalog_compared
    if differing:
        yield _top(ctx, "catalog", f"{differing} of {compared} default-priced deployments and wildcard models are "
                   f"priced differently by the proxy than by costctl's catalog ({ctx.catalog.stamp_line()}), "
                   f"e.g. {'; '.join(examples)}; use --catalog with the map the proxy loads", ctx.catalog.sha256, None)


# --- pairing config deployments with the proxy's ------------------------------------------------

def link_deployments(prices: list[EffectivePrices], state: ProxyState) -> tuple[list[Link], list[str]]:
    """Each config deployment with the proxy deployment it is, and the proxy's ids left over.

    By id first; a generated id the proxy does not have, of a deployment with os.environ/
    values in litellm_params, pairs with the one unclaimed proxy deployment of the same
    model_name and model (its id differs because an environment value differs)."""
    claimed: set[str] = set()
    links = []
    for ep in prices:
        dep_id = ep.deployment.deployment_id
        if dep_id in state.deployments:
            claimed.add(dep_id)
            links.append(Link(ep, dep_id, "id"))
        else:
            links.append(Link(ep, None, "missing"))
    for link in links:
        dep = link.prices.deployment
        if link.how != "missing" or dep.id_source == "model_info" or not any(
                ".litellm_params." in r.path for r in dep.env_refs):
            continue
        candidates = [pid for pid, rows in state.deployments.items() if pid not in claimed and any(
            r.get("model_name") == dep.model_name and isinstance(r.get("litellm_params"), dict)
            and r["litellm_params"].get("model") == dep.model for r in rows)]
        if len(candidates) == 1:
            claimed.add(candidates[0])
            link.proxy_id, link.how = candidates[0], "env"
    return links, [pid for pid in state.deployments if pid not in claimed]
