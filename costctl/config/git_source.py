"""Configs read from git: `git:REF:PATH` (e.g. `git:origin/main:proxy/config.yaml`), through `git show`.

PATH is relative to the repository's top folder, as in `git show REF:PATH`. The file and the files
it includes (followed as the loader follows them) are written to a temporary folder with the same
layout, so the loader reads them exactly as it reads a checkout.
"""

from __future__ import annotations

import posixpath
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from costctl.errors import CostctlError

PREFIX = "git:"


def is_git_spec(spec: str) -> bool:
    return spec.startswith(PREFIX)


def _git(args: list[str], cwd: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise CostctlError("git is not installed (needed for git:REF:PATH)") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise CostctlError(message[-1] if message else f"git {' '.join(args)} failed")
    return done.stdout


class GitConfig:
    """A context manager: the local path of the config named by `spec`, removed on exit."""

    def __init__(self, spec: str, cwd: str = ".") -> None:
        body = spec[len(PREFIX):]
        ref, sep, path = body.rpartition(":")
        if not sep or not ref or not path:
            raise CostctlError(f"{spec}: expected git:REF:PATH, e.g. git:origin/main:proxy/config.yaml")
        inside = posixpath.normpath(path.lstrip("/"))
        if inside == ".." or inside.startswith("../"):
            raise CostctlError(f"{spec}: PATH is relative to the repository's top folder and may not leave it")
        self.spec, self.ref, self.path, self.cwd = spec, ref, inside, cwd
        self.tmp: str | None = None

    def __enter__(self) -> Path:
        try:
            top = _git(["rev-parse", "--show-toplevel"], self.cwd).decode().strip()
        except CostctlError:
            raise CostctlError(f"{self.spec}: not inside a git repository") from None
        try:
            _git(["rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}"], top)
        except CostctlError:
            raise CostctlError(f"{self.spec}: no such git ref {self.ref!r}") from None
        self.tmp = tempfile.mkdtemp(prefix="costctl-git-")
        self._fetch(top, self.path, set(), required=True)
        return Path(self.tmp) / self.path

    def _fetch(self, top: str, path: str, done: set[str], required: bool) -> None:
        if path in done or path.startswith("../"):
            return
        done.add(path)
        try:
            data = _git(["show", f"{self.ref}:{path}"], top)
        except CostctlError:
            if required:
                raise CostctlError(f"{self.spec}: {path} does not exist at {self.ref}") from None
            return  # a missing include: the loader reports it with its line
        target = Path(self.tmp or ".") / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        try:
            doc = yaml.safe_load(data)
        except yaml.YAMLError:
            return  # the loader reports it with its line
        includes = doc.get("include") if isinstance(doc, dict) else None
        for item in includes if isinstance(includes, list) else []:
            if isinstance(item, str):
                self._fetch(top, posixpath.normpath(posixpath.join(posixpath.dirname(path), item)), done, False)

    def __exit__(self, *exc: object) -> None:
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
