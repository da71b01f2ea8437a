"""The fast paths give what the slow ones gave: indented JSON, redaction, PyYAML's native values,
the collector pause."""

from __future__ import annotations

import gc
import json
import re

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from costctl.config import secrets
from costctl.config.yaml_source import _Builder, _Loader
from costctl.gcpause import gc_paused
from costctl.report import jsontext

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text())
_keys = st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none())
_documents = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(_documents, st.booleans())
def test_jsontext_writes_what_json_dumps_writes(doc, ensure_ascii):
    assert jsontext.dumps(doc, ensure_ascii=ensure_ascii) == json.dumps(doc, indent=2, ensure_ascii=ensure_ascii)


def test_jsontext_refuses_what_json_refuses():
    for bad in ({"a": {1, 2}}, {(1, 2): 3}, object()):
        try:
            json.dumps(bad, indent=2)
        except TypeError as expected:
            try:
                jsontext.dumps(bad)
            except TypeError as got:
                assert str(got) == str(expected)
            else:  # pragma: no cover
                raise AssertionError("no TypeError")


def _full_redact(text: str) -> str:
    """redact() without the pre-check and the memo: the pattern alone."""
    def sub(match: re.Match[str]) -> str:
        return match.group(0) if re.fullmatch(r"[0-9a-f]{64}", match.group(0)) else secrets.REDACTED

    return secrets._SECRET_VALUE.sub(sub, text) if text else text


_pieces = st.sampled_from(["sk-", "pk-", "rk-", "AKIA", "AIza", "ghp_", "xoxb-", "eyJ", ".", "://", "u:p@", "@", ":",
                           "/", " ", "-", "_", "-----BEGIN RSA PRIVATE KEY-----", "A1" * 8, "0123456789abcdef" * 4,
                           "x" * 31, "7"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_pieces, st.text(alphabet="aZ09_-:/@. é", max_size=40)), max_size=8))
def test_redact_pre_check_never_skips_a_secret(parts):
    text = "".join(parts)
    assert secrets.redact(text) == _full_redact(text)


def test_native_values_are_pyyaml_values():
    text = """
    plain:
      z: 2001-12-14t21:59:43.10-05:00
      w: !!binary aGVsbG8=
      octal: 017
      hex: 0x1F
      sexagesimal: 1:30.5
      flag: yes
      nothing: ~
      twice: {a: 1, a: 2}
      nested: [a, [b, {c: d}], &x {p: 1.0}, *x]
      small: 1e-6
      float: 2.5e-06
      nan: .nan
      1: int key
      2001-01-01: date key
    merged:
      <<: {a: 1, b: 2}
      b: 3
    special:
      s: !!set {a, b}
    """
    root = yaml.compose(text, Loader=_Loader)
    for _key, node in root.value:
        assert repr(_Builder("c.yaml").native(node)) == repr(_Loader("").construct_object(node, deep=True))


def test_gc_paused_restores_the_collector():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
