"""`--catalog URL`: a LiteLLM-format map fetched over HTTP, cached, and recorded in reports."""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import invoke

CONFIG = """
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
"""
MAP = {"gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 3e-06,
                  "output_cost_per_token": 1.2e-05}}


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A folder served on 127.0.0.1; yields (folder, base URL). The cache goes to tmp_path."""
    folder = tmp_path / "www"
    folder.mkdir()
    monkeypatch.setenv("COSTCTL_CACHE_DIR", str(tmp_path / "cache"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_fetched_map_prices_the_report_and_is_recorded(served, write):
    folder, base = served
    data = json.dumps(MAP).encode()
    (folder / "map.json").write_bytes(data)
    config = write("config.yaml", CONFIG)
    result = invoke("show", str(config), "--catalog", f"{base}/map.json?token=s3cr3t-signature", "-f", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["catalog"]["url"] == f"{base}/map.json" and doc["catalog"]["source"] == f"{base}/map.json"
    assert doc["catalog"]["sha256"] == hashlib.sha256(data).hexdigest() and doc["catalog"]["fetched"]
    assert doc["deployments"][0]["prices"]["input_cost_per_token"]["value"] == "0.000003"
    assert "s3cr3t" not in result.stdout + result.stderr
    # within the hour the cached copy is used: the server no longer has it
    (folder / "map.json").unlink()
    again = invoke("show", str(config), "--catalog", f"{base}/map.json?token=s3cr3t-signature", "-f", "json")
    assert again.returncode == 0 and json.loads(again.stdout)["catalog"]["fetched"] == doc["catalog"]["fetched"]


def test_an_unreachable_or_invalid_map_is_bad_input(served, write):
    folder, base = served
    config = write("config.yaml", CONFIG)
    result = invoke("validate", str(config), "--catalog", f"{base}/missing.json")
    assert result.returncode == 2 and result.stderr.startswith("costctl: error: cannot fetch the catalog from")
    assert "HTTP 404" in result.stderr and result.stdout == ""
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    result = invoke("show", str(config), "--catalog", f"{base}/broken.json")
    assert result.returncode == 2 and f"{base}/broken.json" in result.stderr and "Traceback" not in result.stderr
