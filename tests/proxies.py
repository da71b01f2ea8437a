"""Real LiteLLM proxies on 127.0.0.1 for the verify tests, started from scratch virtualenvs.

A virtualenv per LiteLLM version is named by an environment variable (`.ci/run` prepares them;
they are never costctl dependencies): COSTCTL_LITELLM_1_110_2, COSTCTL_LITELLM_1_65_0. Without
one, the tests that need it skip with a one-line reason; with COSTCTL_REQUIRE_PROXIES=1 (CI) a
missing virtualenv fails instead, so CI cannot pass by skipping.

The proxy runs on a copy of the config plus a test-only `custom_auth` module: it accepts the
master key only and marks the key as allowed to send `mock_response` (1.110.2 strips it
otherwise, and there is no database here to create such a key). Neither changes deployment ids.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

# versions that honour mock_response from the master key (no custom_auth needed)
MASTER_KEY_MOCKS = {"1.65.0"}
VENV_VARS = {"1.110.2": "COSTCTL_LITELLM_1_110_2", "1.65.0": "COSTCTL_LITELLM_1_65_0"}

AUTH_MODULE = '''\
"""Test-only auth for costctl's verify tests: the master key, allowed to send mock responses."""
import os

from fastapi import HTTPException
from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth


async def user_api_key_auth(request, api_key):
    if (api_key or "").removeprefix("Bearer ").strip() != os.environ["LITELLM_MASTER_KEY"]:
        raise HTTPException(status_code=401, detail="invalid key")
    return UserAPIKeyAuth(api_key=api_key, user_role=LitellmUserRoles.PROXY_ADMIN,
                          metadata={"allow_client_mock_response": True})
'''

# Dummy provider credentials: mocked requests call no provider, but deployments must load.
DUMMY_ENV = {name: "dummy" for name in (
    "OPENAI_API_KEY", "AZURE_API_KEY", "ANTHROPIC_API_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "GROQ_API_KEY", "MISTRAL_API_KEY", "TOGETHERAI_API_KEY", "DEEPSEEK_API_KEY", "GEMINI_API_KEY")}


def venv_for(version: str) -> Path:
    """The virtualenv with LiteLLM `version`, or a pytest skip (a failure under CI) saying why."""
    var = VENV_VARS[version]
    path = os.environ.get(var)
    litellm = Path(path, "bin", "litellm") if path else None
    if litellm is not None and litellm.exists():
        return Path(path)  # type: ignore[arg-type]
    reason = f"needs a LiteLLM {version} proxy virtualenv in ${var} (.ci/run prepares one)"
    if os.environ.get("COSTCTL_REQUIRE_PROXIES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class Proxy:
    url: str
    key: str
    version: str
    process: subprocess.Popen
    config: Path
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def provider_env() -> dict[str, str]:
    """The environment costctl and the proxy both see (ids generated from os.environ/ use it)."""
    return {**DUMMY_ENV, **{k: v for k, v in os.environ.items() if k in DUMMY_ENV}}


def start_proxy(version: str, config: Path, workdir: Path, extra_env: dict[str, str] | None = None,
                timeout: float = 120) -> Proxy:
    """Start LiteLLM `version` on a copy of `config` (and the files it includes) in `workdir`."""
    venv = venv_for(version)
    workdir.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    for include in data.get("include") or []:
        shutil.copy(config.parent / include, workdir / include)
    if version not in MASTER_KEY_MOCKS:
        data["general_settings"] = {**(data.get("general_settings") or {}),
                                    "custom_auth": "costctl_test_auth.user_api_key_auth"}
        (workdir / "costctl_test_auth.py").write_text(AUTH_MODULE, encoding="utf-8")
    copy = workdir / "config.yaml"
    copy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    key = "sk-" + secrets.token_hex(16)
    port = _free_port()
    env = {**os.environ, **provider_env(), "LITELLM_MASTER_KEY": key, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "LITELLM_LOG": "ERROR", **(extra_env or {})}
    env.pop("DATABASE_URL", None)
    log = workdir / "proxy.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(venv / "bin" / "litellm"), "--config", str(copy), "--host", "127.0.0.1",
                                    "--port", str(port)], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    proxy = Proxy(f"http://127.0.0.1:{port}", key, version, process, copy, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"LiteLLM {version} exited with {process.returncode}: "
                               + log.read_text(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(f"{proxy.url}/health/liveliness", timeout=2) as resp:
                if resp.status == 200:
                    return proxy
        except OSError:
            pass
        time.sleep(0.5)
    proxy.stop()
    raise RuntimeError(f"LiteLLM {version} not ready after {timeout:.0f} s: " + log.read_text(errors="replace")[-2000:])
