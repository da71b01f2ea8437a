"""Regenerate costctl's bundled catalog from a LiteLLM release.

    python scripts/update_catalog.py --litellm-version 1.110.2

Downloads the `litellm` wheel of that version with pip (no other network access), and writes
into costctl/data/:
- litellm_model_prices.json   the wheel's model_prices_and_context_window_backup.json, unchanged;
- litellm_fields.json         the custom price keys (`CustomPricingLiteLLMParams` and its bases)
                              and provider names (`LlmProviders`), read from the wheel's
                              litellm/types/utils.py with `ast` (litellm is never imported);
- catalog_provenance.json     version, wheel name, sha256, entry count, date taken.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "costctl" / "data"
MAP_MEMBER = "litellm/model_prices_and_context_window_backup.json"
TYPES_MEMBER = "litellm/types/utils.py"
# Versions never to install or download (a compromised release).
REFUSED = {"1.107.0"}


def download_wheel(version: str, dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(dest),
         f"litellm=={version}"],
        check=True,
    )
    wheels = sorted(dest.glob("litellm-*.whl"))
    if not wheels:
        raise SystemExit(f"pip downloaded no litellm wheel for {version}")
    return wheels[0]


def class_fields(tree: ast.Module, name: str) -> list[str]:
    """Annotated fields of class `name`, bases (defined in the same module) first."""
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    cls = classes[name]
    fields: list[str] = []
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in classes:
            fields += class_fields(tree, base.id)
    fields += [s.target.id for s in cls.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
    return list(dict.fromkeys(fields))


def enum_values(tree: ast.Module, name: str) -> list[str]:
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    return sorted(s.value.value for s in cls.body
                  if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str))


def count_entries(data: bytes) -> int:
    sys.path.insert(0, str(DATA.parent.parent))
    from costctl.catalog.store import _parse

    entries, _aliases, _rules = _parse(data, MAP_MEMBER)
    return len(entries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--litellm-version", required=True)
    args = parser.parse_args()
    if args.litellm_version in REFUSED:
        raise SystemExit(f"litellm {args.litellm_version} is a compromised release; pick another version")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = download_wheel(args.litellm_version, Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            prices = zf.read(MAP_MEMBER)
            types_src = zf.read(TYPES_MEMBER).decode("utf-8")
    tree = ast.parse(types_src)
    fields = {
        "litellm_version": args.litellm_version,
        "source": "litellm/types/utils.py CustomPricingLiteLLMParams and litellm.LlmProviders",
        "price_keys": class_fields(tree, "CustomPricingLiteLLMParams"),
        "model_info_only_price_keys": ["off_peak_pricing"],
        "providers": enum_values(tree, "LlmProviders"),
    }
    (DATA / "litellm_model_prices.json").write_bytes(prices)
    (DATA / "litellm_fields.json").write_text(json.dumps(fields, indent=1) + "\n", encoding="utf-8")
    provenance = {
        "file": "litellm_model_prices.json",
        "litellm_version": args.litellm_version,
        "wheel": wheel.name,
        "member": MAP_MEMBER,
        "sha256": hashlib.sha256(prices).hexdigest(),
        "entries": count_entries(prices),
        "taken": dt.date.today().isoformat(),
    }
    (DATA / "catalog_provenance.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    print(f"catalog: litellm {args.litellm_version}, {provenance['entries']} entries, sha256 {provenance['sha256'][:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
