"""Known LiteLLM billing bugs by version range (data/billing_advisories.json) and which
deployments of a config trigger them: for `validate --litellm-version` and `verify`."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from costctl.pricing import CUSTOM, EffectivePrices

# The LiteLLM release whose billing rules costctl implements (its pricing, its catalog snapshot).
IMPLEMENTED_VERSION = "1.110.2"

_VERSION = re.compile(r"v?(\d+(?:\.\d+)*)")


def parse_version(text: str) -> tuple[int, ...] | None:
    """`1.65.0`, `v1.66.0-stable`, `main-v1.65.0-stable` -> (1, 65, 0); None when no number."""
    match = _VERSION.search(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    parts = tuple(int(p) for p in match.group(1).split("."))
    return parts + (0,) * (3 - len(parts)) if len(parts) < 3 else parts


@dataclass(frozen=True)
class Advisory:
    id: str
    title: str
    affected: tuple[tuple[str | None, str | None], ...]
    trigger: str
    effect: str
    links: tuple[str, ...]

    def affects(self, version: tuple[int, ...]) -> bool:
        for low, high in self.affected:
            low_v = parse_version(low) if low else None
            high_v = parse_version(high) if high else None
            if (low_v is None or version >= low_v) and (high_v is None or version < high_v):
                return True
        return False

    @property
    def ranges(self) -> str:
        """`< 1.66.0`, `>= 1.66.0, < 1.81.9`."""
        out = []
        for low, high in self.affected:
            bounds = ([f">= {low}"] if low else []) + ([f"< {high}"] if high else [])
            out.append(", ".join(bounds) or "all versions")
        return "; ".join(out)


@cache
def advisories() -> tuple[Advisory, ...]:
    raw = json.loads(resources.files("costctl.data").joinpath("billing_advisories.json").read_text(encoding="utf-8"))
    return tuple(Advisory(a["id"], a["title"], tuple(tuple(r) for r in a["affected"]), a["trigger"], a["effect"],
                          tuple(a["links"])) for a in raw["advisories"])


def affecting(version: str) -> list[Advisory]:
    parsed = parse_version(version)
    return [] if parsed is None else [a for a in advisories() if a.affects(parsed)]


# --- triggers: which deployments of a config a bug reaches, and why -----------------------------

Trigger = Callable[[list[EffectivePrices]], Iterator[tuple[EffectivePrices, str]]]
TRIGGERS: dict[str, Trigger] = {}


def trigger(name: str) -> Callable[[Trigger], Trigger]:
    def register(func: Trigger) -> Trigger:
        TRIGGERS[name] = func
        return func

    return register


def _custom_origins(ep: EffectivePrices) -> set[str]:
    return {p.origin for p in ep.prices.values() if p.source == CUSTOM and p.origin}


def _by_backend(prices: list[EffectivePrices]) -> dict[str, list[EffectivePrices]]:
    """Deployments by the backend model name LiteLLM registers prices under (litellm_params.model
    without its provider prefix)."""
    out: dict[str, list[EffectivePrices]] = defaultdict(list)
    for ep in prices:
        if not ep.deployment.wildcard:
            out[ep.deployment.model.split("/", 1)[-1]].append(ep)
    return out


@trigger("custom-price-in-litellm-params")
def _litellm_params_prices(prices: list[EffectivePrices]) -> Iterator[tuple[EffectivePrices, str]]:
    for ep in prices:
        if not ep.deployment.wildcard and "litellm_params" in _custom_origins(ep):
            yield ep, "its custom price is in litellm_params"


def _sharing(prices: list[EffectivePrices], origin: str | None,
             plain_only: bool) -> Iterator[tuple[EffectivePrices, str]]:
    """Deployments another deployment's custom prices (from `origin`, None = anywhere) can reach."""
    for model, members in _by_backend(prices).items():
        sources = [ep for ep in members if (origin in _custom_origins(ep) if origin else ep.custom)]
        for ep in members:
            if plain_only and ep.custom:
                continue
            others = [s for s in sources if s is not ep]
            if others:
                names = ", ".join(sorted({s.deployment.model_name for s in others}))
                yield ep, f"it shares backend model {model} with {names} ({origin or 'custom'} prices)"


@trigger("litellm-params-price-shares-backend")
def _params_shared(prices: list[EffectivePrices]) -> Iterator[tuple[EffectivePrices, str]]:
    return _sharing(prices, "litellm_params", plain_only=False)


@trigger("custom-price-shares-backend")
def _custom_shared(prices: list[EffectivePrices]) -> Iterator[tuple[EffectivePrices, str]]:
    return _sharing(prices, None, plain_only=True)


@dataclass(frozen=True)
class Exposure:
    """One deployment a known bug of the running version reaches."""

    advisory: Advisory
    prices: EffectivePrices
    why: str

    def message(self, version: str) -> str:
        return (f"LiteLLM {version} bug {self.advisory.id} ({self.advisory.ranges}): {self.advisory.effect}; "
                f"{self.why} [{', '.join(self.advisory.links)}]")


def exposures(version: str, prices: list[EffectivePrices]) -> list[Exposure]:
    """Every (bug, deployment) pair: the known billing bugs of `version` this config triggers."""
    out: list[Exposure] = []
    for advisory in affecting(version):
        out.extend(Exposure(advisory, ep, why) for ep, why in TRIGGERS[advisory.trigger](prices))
    return out


def check_version(value: Any, shown: str) -> str:
    """A LiteLLM version setting as text, or CostctlError naming where it came from."""
    from costctl.errors import CostctlError

    text = str(value).strip() if value is not None else ""
    if parse_version(text) is None:
        raise CostctlError(f"{shown} expects a LiteLLM version such as 1.65.0, not {value!r}")
    return text
