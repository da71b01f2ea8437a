"""What every formatter shares: units, number text, field selection, redaction of shown strings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from costctl.config.secrets import redact
from costctl.money import number
from costctl.pricing import FIELD_LABELS, MAIN_FIELDS, EffectivePrices, Price, is_token_price

UNITS = {"token": Decimal(1), "1k": Decimal(1000), "1m": Decimal(1_000_000)}
UNIT_LABEL = {"token": "per token", "1k": "per 1K tokens", "1m": "per 1M tokens"}
SHORT_NAMES = FIELD_LABELS


@dataclass(frozen=True)
class RenderOptions:
    unit: str = "1m"
    all_fields: bool = False
    color: bool = False
    width: int | None = None


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def counted(n: int, noun: str) -> str:
    """`1 deployment`, `2 deployments`, `1,204 rows` (nouns that take an s)."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def safe(text: Any) -> str:
    """A string from a config, a log or a catalog as it may be shown: secret-looking parts
    replaced, and control characters (terminal escapes, CR, LF) written as `\\x1b`, so that
    no name can move the cursor, recolour a terminal or split a row."""
    shown = redact("" if text is None else str(text))
    if _CONTROL.search(shown) is None:
        return shown
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", shown)


def scaled(price: Price, unit: str) -> Decimal | None:
    """A per-token price in the unit shown (only token prices scale)."""
    return None if price.value is None else price.value * UNITS[unit]


def shown_fields(ep: EffectivePrices, all_fields: bool) -> list[str]:
    """The four main fields, then (with all_fields) every other priced field, sorted."""
    names = list(MAIN_FIELDS)
    if all_fields:
        names += sorted(n for n in ep.prices if n not in MAIN_FIELDS)
    return names


def price_text(name: str, price: Price, unit: str) -> str:
    if price.structured is not None:
        return "(table)"
    if price.value is None:
        if price.source == "none":
            return "0"
        origin = price.origin or ""
        return "by tier" if origin.startswith("tiered_pricing") else "per second" if "seconds" in origin else "per model"
    return number(price.value * UNITS[unit] if is_token_price(name) else price.value)


def origin_text(price: Price) -> str:
    """Where a price comes from, in words: `litellm_params:14`, `catalog azure/gpt-4o`, …"""
    if price.source == "custom":
        where = f"{price.origin}:{price.line}" if price.line else str(price.origin)
        return where + (f" (written as {price.written_as})" if price.written_as else "")
    if price.source == "default":
        return f"catalog {safe(price.origin)}"
    if price.source == "fallback":
        return f"= {price.origin}"
    return "billed $0"


def plain_structure(value: Any) -> Any:
    """A structured price (tier table, off-peak block) with Decimals as strings, for JSON."""
    if isinstance(value, dict):
        return {str(k): plain_structure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_structure(v) for v in value]
    if isinstance(value, Decimal):
        return number(value)
    return value
