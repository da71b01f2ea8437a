"""The example reports as pages, each beside its JSON report: what the HTML tests (in-process
and in a real browser) look at."""

from __future__ import annotations

import json
import os
from pathlib import Path
from unittest import mock

from conftest import run_cli
from fake_proxy import FakeProxy

REPORTS = {
    "show": ["show", "examples/config.yaml"],
    "reconcile": ["reconcile", "examples/config.yaml", "examples/spend_logs.csv", "--group-by", "model_group",
                  "--group-by", "day"],
    "diff": ["diff", "examples/config.yaml", "examples/clean.yaml", "--usage", "examples/spend_logs.csv"],
}


def _write(folder: Path, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
    for fmt in ("html", "json"):
        result = run_cli(*args, "--format", fmt, "-o", str(folder / f"{name}.{fmt}"), env=env)
        assert result.returncode in (0, 1), result.stderr


def build(folder: Path) -> dict[str, tuple[str, dict]]:
    """name -> (the page's HTML, the JSON report of the same run), for show, reconcile, diff and
    verify (against tests/fake_proxy.py playing LiteLLM 1.65.0, whose hub shows catalog prices)."""
    from test_verify import CONFIG, ENV, faithful

    for name, args in REPORTS.items():
        _write(folder, name, args)
    config = folder / "verify-config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    with mock.patch.dict(os.environ, ENV), FakeProxy() as fake:
        faithful(fake, config, version="1.65.0")
        _write(folder, "verify", ["verify", str(config), "--proxy", fake.url, "--probe"],
               env={**ENV, "LITELLM_MASTER_KEY": fake.key})
    return {name: ((folder / f"{name}.html").read_text(encoding="utf-8"),
                   json.loads((folder / f"{name}.json").read_text(encoding="utf-8")))
            for name in (*REPORTS, "verify")}

