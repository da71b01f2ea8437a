"""Indented JSON text, byte for byte what `json.dumps(doc, indent=2, ensure_ascii=...)` writes.

Why not json.dumps: with `indent` set, Python 3.10-3.12 leave the C encoder and walk the document
in pure Python, one generator per container and one `yield` per token; on a 2,000-deployment report
that was about half a second. Here each container is one list comprehension joined once, and every
string still goes through the C escaper json.dumps itself uses, so the text is the same.

Only what JSON reports contain is written here (dict, list, tuple, str, int, float, bool, None,
with json.dumps's key conversions); anything else is handed to json.dumps, which raises the error
it always raised.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any, Callable

_INFINITY = float("inf")


def dumps(doc: Any, *, ensure_ascii: bool = True, indent: int = 2) -> str:
    """`json.dumps(doc, indent=indent, ensure_ascii=ensure_ascii)`, faster."""
    string = encode_basestring_ascii if ensure_ascii else encode_basestring
    return _encoder(string, " " * indent, ensure_ascii)(doc, "\n")


def _float(value: float) -> str:
    """A float as json writes it (allow_nan: NaN and Infinity are written, not refused)."""
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    """A non-string key as json converts it (float, bool, None, int); other keys are refused."""
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _encoder(string: Callable[[str], str], step: str, ensure_ascii: bool) -> Callable[[Any, str], str]:
    """The recursive writer: `value(v, newline)` is v's text, where `newline` is a line break plus
    the indentation of v's depth. The order of the type checks is json's (bool before int)."""

    def value(v: Any, newline: str) -> str:
        if isinstance(v, str):
            return string(v)
        if v is None:
            return "null"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if isinstance(v, int):
            return int.__repr__(v)
        if isinstance(v, float):
            return _float(v)
        if isinstance(v, (list, tuple)):
            if not v:
                return "[]"
            inner = newline + step
            return "[" + inner + ("," + inner).join([value(item, inner) for item in v]) + newline + "]"
        if isinstance(v, dict):
            if not v:
                return "{}"
            inner = newline + step
            return "{" + inner + ("," + inner).join([
                string(k if isinstance(k, str) else _key(k)) + ": " + (string(x) if isinstance(x, str) else value(x, inner))
                for k, x in v.items()
            ]) + newline + "}"
        return json.dumps(v, ensure_ascii=ensure_ascii)  # not JSON: json.dumps raises its usual TypeError

    return value
