"""Shared fixtures: paths, a config writer, and the CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "corpus"  # copied from shared/corpus/litellm-configs (LiteLLM, MIT licence)


@pytest.fixture
def write(tmp_path: Path):
    """write("name.yaml", text) -> path, with the text dedented."""

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


def run_process(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `python -m costctl ARGS` in a new process, for what only a process shows (the entry
    point, start-up, signals, pipes)."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "costctl", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=full_env, timeout=120)


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the CLI as a user would, in this process (see `invoke`), from `cwd` (default: the
    repository root, so relative paths in tests read as in the README)."""
    previous = os.getcwd()
    os.chdir(cwd or ROOT)
    try:
        return invoke(*args, env=env)
    finally:
        os.chdir(previous)


@pytest.fixture
def cli():
    return run_cli


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from current output")


def invoke(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in this process (through `main`, its one error boundary): fast, and the same
    exit code, stdout and stderr as `run_cli`."""
    import contextlib
    import io
    from unittest import mock

    from costctl import cli

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with mock.patch.dict(os.environ, {"NO_COLOR": "1", "COLUMNS": "200", **(env or {})}), \
            mock.patch.object(sys, "argv", ["costctl", *args]), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            cli._state["debug"] = False
    return subprocess.CompletedProcess(["costctl", *args], code, out.getvalue(), err.getvalue())
