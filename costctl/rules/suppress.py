"""Inline suppression: `# costctl: ignore[CST105]` on a YAML line silences that code on that
line and in the mapping that starts there (`# costctl: ignore` alone silences every code)."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from costctl.config.yaml_source import YamlList, YamlMap

_COMMENT = re.compile(r"#\s*costctl:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
ALL = "*"

# file -> list of (first line, last line, codes)
Spans = dict[str, list[tuple[int, int, frozenset[str]]]]


def _last_line(node: Any) -> int:
    end = node.end_mark
    return end.line if end.column == 0 else end.line + 1


def _mapping_spans(value: Any, key_line: int | None, out: dict[int, int]) -> None:
    """line a mapping is 'on' (its first key, or the key it is the value of) -> its last line."""
    if isinstance(value, YamlMap):
        if value.node is not None:
            last = _last_line(value.node)
            for line in {value.pos[0], key_line}:
                if line is not None:
                    out[line] = max(out.get(line, 0), last)
        for key, child in value.items():
            _mapping_spans(child, value.key_pos.get(key, value.pos)[0], out)
    elif isinstance(value, YamlList):
        for pos, child in zip(value.item_pos, value, strict=True):
            _mapping_spans(child, pos[0], out)


def suppression_spans(sources: dict[str, tuple[Any, str]]) -> Spans:
    spans: Spans = defaultdict(list)
    for file, (tree, text) in sources.items():
        if "costctl:" not in text:
            continue
        mapping_ends: dict[int, int] = {}
        _mapping_spans(tree, None, mapping_ends)
        for number, line in enumerate(text.splitlines(), start=1):
            match = _COMMENT.search(line)
            if not match:
                continue
            codes = match.group("codes")
            parsed = frozenset(c.strip().upper() for c in codes.split(",") if c.strip()) if codes else frozenset({ALL})
            spans[file].append((number, max(number, mapping_ends.get(number, number)), parsed))
    return spans


def is_suppressed(spans: Spans, file: str, line: int, code: str, name: str) -> bool:
    for first, last, codes in spans.get(file, ()):
        if first <= line <= last and (ALL in codes or code in codes or name.upper() in codes):
            return True
    return False
