"""The import graph: no module imports a layer above its own (design.md's layout), nothing
imports the CLI, and no module reaches into another's private names."""

from __future__ import annotations

import ast

from conftest import ROOT

PACKAGE = ROOT / "costctl"
# lower number = lower layer; a module may import its own layer or any lower one
LAYERS = {
    "costctl.choices": 0, "costctl.errors": 0, "costctl.money": 0, "costctl.output": 0, "costctl.gcpause": 0,
    "costctl.config": 1, "costctl.catalog": 1,
    "costctl.pricing": 2, "costctl.adjustments": 2, "costctl.advisories": 3,
    "costctl.usage": 3, "costctl.rules": 4, "costctl.reconcile": 4,
    "costctl.diff": 5, "costctl.proxy": 5, "costctl.results": 6,
    "costctl.report": 7, "costctl.api": 7, "costctl.cli": 9, "costctl.__main__": 10, "costctl": 0,
}


def layer(module: str) -> int:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYERS:
            return LAYERS[".".join(parts[:n])]
    raise AssertionError(f"{module}: no layer")


def imports() -> list[tuple[str, str, set[str]]]:
    out = []
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("costctl"):
                out.append((module, node.module, {a.name for a in node.names}))
            elif isinstance(node, ast.Import):
                out.extend((module, a.name, set()) for a in node.names if a.name.startswith("costctl"))
    return out


def test_no_import_runs_up_the_layers():
    upward = [(m, target) for m, target, _ in imports()
              if target != "costctl" and layer(target) > layer(m) and not m.startswith(target)]
    assert not upward, upward


def test_nothing_imports_the_cli():
    assert not [m for m, target, _ in imports() if target == "costctl.cli" and m != "costctl.__main__"]


def test_no_private_names_across_modules():
    crossing = [(m, target, name) for m, target, names in imports() for name in names
                if name.startswith("_") and name != "__version__" and target != m]
    assert not crossing, crossing
