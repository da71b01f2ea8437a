"""Reading one YAML file into Decimal-exact values that remember where every key and value sits.

PyYAML's own constructor turns `2.5e-06` into a float and `1e-6` into a string and forgets lines;
this module composes the node graph (with libyaml when present) and builds the values itself:

- mappings become `YamlMap` (a dict) and sequences `YamlList` (a list), each with 1-based
  line/column of itself, of every key and of every value;
- YAML ints and floats become exact `Decimal` from their source text (never via float);
- strings stay `str` (so `1e-6` stays the string PyYAML sees; pricing reads it as a number and
  remembers it was a string);
- a key repeated inside one mapping is recorded in `YamlMap.duplicates` (the last value wins, as
  in PyYAML and so in LiteLLM);
- merge keys (`<<: *anchor`) are applied as PyYAML applies them.

`native(node)` gives the value exactly as PyYAML's SafeLoader would (floats, `1e-6` strings):
LiteLLM hashes that form into deployment ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from costctl.errors import CostctlError

try:  # libyaml is several times faster; the pure-Python loader gives the same nodes.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

# A config's bytes, this file and its includes together: 8 MiB is ~37,000 deployments (a 2,000-
# deployment config is 0.4 MB) and parses in under 1 GB of memory; the cap holds for any file kind
# (a device or a FIFO reports no size), because no more than this is ever read.
MAX_FILE_BYTES = 8 * 1024 * 1024
# Values built from one file (aliases count each time they are expanded): far above any real
# config, far below what would exhaust memory. Stops "billion laughs" alias bombs quickly.
MAX_VALUES = 1_000_000

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_VALUE = "tag:yaml.org,2002:value"

Pos = tuple[int, int]


@dataclass(frozen=True)
class Duplicate:
    """A key written again in one mapping (line/column of the repeat; its value is the one kept)."""

    key: str
    line: int
    column: int
    first_line: int


class YamlMap(dict):
    """A YAML mapping with the position of itself, its keys and its values."""

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos: dict[Any, Pos] = {}
        self.value_pos: dict[Any, Pos] = {}
        self.duplicates: list[Duplicate] = []
        self.node: yaml.MappingNode | None = None

    def line_of(self, key: Any) -> int:
        return self.key_pos.get(key, self.pos)[0]


class YamlList(list):
    """A YAML sequence with the position of itself and of every item."""

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos: list[Pos] = []


def _pos(node: yaml.Node) -> Pos:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


_CLEAN_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.count = 0
        self.text = ""
        self.has_duplicates = False  # a key repeated anywhere in the file (else nothing to look for)
        self._native = _Loader("")

    def build(self, node: yaml.Node) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            line, col = _pos(node)
            raise CostctlError(
                f"more than {MAX_VALUES:,} YAML values (an alias bomb?); refusing to expand",
                self.file, line, col,
            )
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if isinstance(node, yaml.SequenceNode):
            seq = YamlList(_pos(node))
            for item in node.value:
                seq.item_pos.append(_pos(item))
                seq.append(self.build(item))
            return seq
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node)
        raise CostctlError("unsupported YAML node", self.file, *_pos(node))  # pragma: no cover

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR:  # most scalars: what PyYAML's str constructor returns, without its dispatch
            return node.value
        if node.tag == _NULL:
            return None
        if node.tag == _INT:
            return Decimal(int(self._native.construct_yaml_int(node)))
        if node.tag == _FLOAT:
            text = node.value.replace("_", "")
            if _CLEAN_NUMBER.match(text):
                return Decimal(text)
            value = self._native.construct_yaml_float(node)  # .inf, .nan, 1:30.5
            try:
                return Decimal(repr(value))
            except InvalidOperation:  # pragma: no cover
                return Decimal(str(value))
        try:
            value = self._native.construct_object(node)
        except yaml.YAMLError as exc:
            raise CostctlError(f"invalid YAML value: {getattr(exc, 'problem', None) or exc}", self.file, *_pos(node)) from None
        if isinstance(value, (str, bool)) or value is None:
            return value
        return node.value  # timestamps, binary: keep the text

    def mapping(self, node: yaml.MappingNode) -> YamlMap:
        out = YamlMap(_pos(node))
        out.node = node
        pairs = self._flatten(node)
        for key_node, value_node in pairs:
            key = self.build(key_node)
            if isinstance(key, (YamlMap, YamlList)):
                raise CostctlError("a mapping key must be a scalar", self.file, *_pos(key_node))
            if isinstance(key, Decimal):
                key = str(key_node.value)
            value = self.build(value_node)
            if key in out:
                kept = out.key_pos[key]
                # PyYAML (and so LiteLLM) keeps the first key's position and the last value.
                out.duplicates.append(Duplicate(str(key), *_pos(key_node), kept[0]))
                self.has_duplicates = True
                out[key] = value
                out.value_pos[key] = _pos(value_node)
                continue
            out[key] = value
            out.key_pos[key] = _pos(key_node)
            out.value_pos[key] = _pos(value_node)
        return out

    def _flatten(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        """Apply `<<` merge keys: merged pairs come first, so explicit keys override them."""
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        own: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise CostctlError(
                            "a merge key (<<) must refer to a mapping", self.file, *_pos(source)
                        )
                    merged.extend(self._flatten(source))
            else:
                own.append((key_node, value_node))
        if not merged:
            return own
        own_keys = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        seen: set[str] = set()
        inherited = []
        for key_node, value_node in merged:
            if key_node.value in own_keys or key_node.value in seen:
                continue
            seen.add(key_node.value)
            inherited.append((key_node, value_node))
        return inherited + own

    def native(self, node: yaml.Node) -> Any:
        """The value exactly as PyYAML's SafeLoader constructs it. Plain trees are walked here,
        with PyYAML's own constructors for every scalar but strings and nulls; its per-node
        bookkeeping was most of the time. Anything unusual (merge keys, `!!set`, `!!omap`, …)
        is left to PyYAML's constructor whole."""
        try:
            return self._plain_native(node)
        except _Unusual:
            return self._native.construct_object(node, deep=True)

    def _plain_native(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:
                return node.value
            if node.tag == _NULL:
                return None
            return self._native.construct_object(node)
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            return [self._plain_native(item) for item in node.value]
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            out = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag in (_MERGE, _VALUE):
                    raise _Unusual
                out[self._plain_native(key_node)] = self._plain_native(value_node)
            return out
        raise _Unusual


class _Unusual(Exception):
    """A node `_Builder.native` leaves to PyYAML's constructor."""


def read_text(path: Path, shown: str, limit: int | None = None) -> str:
    """The file's text, or a CostctlError naming what is wrong with it; at most `limit` bytes
    (default MAX_FILE_BYTES) are read, whatever kind of file it is."""
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise CostctlError("file not found", shown) from None
    except OSError as exc:
        raise CostctlError(f"cannot read file: {exc.strerror}", shown) from None
    if path.is_dir():
        raise CostctlError("is a directory, expected a YAML file", shown)
    too_big = CostctlError(f"configs over {MAX_FILE_BYTES:,} bytes (with their includes) are refused", shown)
    if size > limit:
        raise too_big
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise CostctlError(f"cannot read file: {exc.strerror}", shown) from None
    if len(data) > limit:
        raise too_big
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise CostctlError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8", shown, line, col
        ) from None


MAX_FLOW_DEPTH = 10_000  # libyaml's composer recurses in C: ~100,000 nested brackets crash the process


def _check_depth(text: str, shown: str) -> None:
    """Refuse brackets nested deeper than MAX_FLOW_DEPTH before libyaml sees them (counted
    only when there are that many brackets at all; brackets in strings count too)."""
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return
    depth = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth += 1 if match.group() in "[{" else -1
        if depth > MAX_FLOW_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            raise CostctlError(f"brackets nested more than {MAX_FLOW_DEPTH:,} deep: not a config", shown, line)


def load_yaml(path: Path, shown: str | None = None, limit: int | None = None) -> tuple[Any, _Builder]:
    """Parse one YAML file (at most `limit` bytes); returns the built root value and the
    builder (for `native`)."""
    shown = shown if shown is not None else str(path)
    text = read_text(path, shown, limit)
    _check_depth(text, shown)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except RecursionError:
        raise CostctlError("nesting too deep to follow: not a config", shown) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is not None:
            raise CostctlError(f"YAML syntax error: {problem}", shown, mark.line + 1, mark.column + 1) from None
        raise CostctlError(f"YAML syntax error: {problem}", shown) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, by offset in the text
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character or "\0")
        raise CostctlError(f"YAML does not allow the character U+{char:04X} ({exc.reason}): write it "
                           "escaped in a double-quoted string", shown, line, column) from None
    except yaml.YAMLError as exc:
        raise CostctlError(f"YAML error: {' '.join(str(exc).split())}", shown) from None
    builder = _Builder(shown)
    builder.text = text
    if node is None:
        return None, builder
    try:
        return builder.build(node), builder
    except RecursionError:  # `a: &a [*a]`, `a: &a {<<: *a}`, or thousands of nested brackets
        raise CostctlError("an alias that contains itself, or nesting too deep to follow: not a config",
                           shown) from None
