"""What LiteLLM 1.110.2 does to a request's cost after pricing it: the provider discount
(`cost_discount_config`), then the margin (`cost_margin_config`), both from `litellm_settings`.

`completion_cost` adds built-in tool costs, subtracts the discount, then adds the margin:
cost x (1 - discount) x (1 + percentage) + fixed_amount.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from costctl.pricing import parse_price

ZERO = Decimal(0)


def discount_for(config: Mapping[str, Any], provider: str | None, model: str | None) -> Decimal:
    """LiteLLM's cost_discount_config lookup: `provider/model` exact, then glob patterns (the
    most literal wins), then `provider`."""
    if not provider or not config:
        return ZERO
    names = [model] if model else []
    if model and model.startswith(provider + "/"):
        names.append(model[len(provider) + 1:])
    patterns = [k.split("/", 1)[1] for k in config if "/" in k and k.split("/", 1)[0] == provider]
    for name in names:
        if name in patterns and not any(c in name for c in "*?["):
            return _fraction(config[f"{provider}/{name}"])
    globbed = [p for p in patterns if any(c in p for c in "*?[") and any(fnmatch.fnmatchcase(n, p) for n in names)]
    if globbed:
        best = max(globbed, key=lambda p: sum(1 for c in p if c not in "*?"))
        return _fraction(config[f"{provider}/{best}"])
    return _fraction(config.get(provider))


def _fraction(value: Any) -> Decimal:
    number, _ = parse_price(value)
    return number if number is not None else ZERO


@dataclass(frozen=True)
class Margin:
    """A margin LiteLLM adds after the discount: `percentage` of the cost plus `fixed` USD.
    `error` says why LiteLLM cannot apply it (it then logs no cost at all)."""

    percentage: Decimal = ZERO
    fixed: Decimal = ZERO
    key: str | None = None  # the cost_margin_config key it came from
    error: str | None = None

    def apply(self, cost: Decimal) -> Decimal:
        if self.percentage:
            cost += cost * self.percentage
        return cost + self.fixed if self.fixed else cost


NO_MARGIN = Margin()


def margin_for(config: Any, provider: str | None) -> Margin:
    """The margin of `provider`'s requests as LiteLLM 1.110.2 reads `cost_margin_config`
    (`_apply_cost_margin`): the provider's own key if present (even when null), else `global`.
    A number (a bool counts as 0 or 1) is a percentage; a mapping may give `percentage` and
    `fixed_amount`, each a number or numeric text; anything else is ignored."""
    if config is None:
        return NO_MARGIN
    if not isinstance(config, Mapping):
        return Margin(error=f"cost_margin_config is {type(config).__name__}, not a mapping: LiteLLM fails to price "
                            "every request")
    key = provider if provider and provider in config else "global" if "global" in config else None
    if key is None:
        return NO_MARGIN
    value = config[key]
    if isinstance(value, (bool, int, Decimal, float)):
        number = _litellm_float(value)
        if number is None:
            return Margin(key=key, error=f"cost_margin_config.{key} is {value}: LiteLLM cannot use it")
        return Margin(percentage=number, key=key)
    if not isinstance(value, Mapping):
        return Margin(key=key)  # a string or a list: LiteLLM applies no margin
    parts = {}
    for name in ("percentage", "fixed_amount"):
        if name in value:
            number = _litellm_float(value[name])
            if number is None:
                return Margin(key=key, error=f"cost_margin_config.{key}.{name} is {value[name]!r}, not a number: "
                                             "LiteLLM fails to price the request and logs no cost")
            parts[name] = number
    return Margin(parts.get("percentage", ZERO), parts.get("fixed_amount", ZERO), key)


def _litellm_float(value: Any) -> Decimal | None:
    """`float(value)` as Python reads it, exactly; None where it raises or gives NaN/infinity."""
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None
