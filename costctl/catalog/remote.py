"""A LiteLLM-format price map fetched over HTTP(S) (`--catalog URL`, e.g. the map a proxy
downloads at start-up): a timeout and a size limit, an hour's cache, and its URL and fetch time
recorded in every report's catalog object."""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from costctl.config.secrets import shown_url
from costctl.errors import CostctlError

CACHE_SECONDS = 3600
TIMEOUT_SECONDS = 30
MAX_BYTES = 64 * 1024 * 1024


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def cache_dir() -> Path:
    base = os.environ.get("COSTCTL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "costctl")
    return Path(base) / "catalogs"


def fetch(url: str) -> tuple[bytes, str]:
    """(the map's bytes, when they were fetched): from the cache when fetched within the hour."""
    shown = shown_url(url)
    name = hashlib.sha256(url.encode()).hexdigest()[:32]
    data_path, meta_path = cache_dir() / f"{name}.json", cache_dir() / f"{name}.meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if time.time() - float(meta["fetched_at"]) < CACHE_SECONDS:
            data = data_path.read_bytes()
            if hashlib.sha256(data).hexdigest() == meta["sha256"]:
                return data, str(meta["fetched"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no usable cache: fetch
    request = urllib.request.Request(url, headers={"User-Agent": "costctl", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as resp:
            data = resp.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise CostctlError(f"cannot fetch the catalog from {shown}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise CostctlError(f"cannot fetch the catalog from {shown}: {getattr(exc, 'reason', exc)}") from None
    if len(data) > MAX_BYTES:
        raise CostctlError(f"the catalog at {shown} is larger than {MAX_BYTES // 1024 // 1024} MB")
    fetched = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        for path, content in ((data_path, data), (meta_path, json.dumps({
                "url": shown, "fetched": fetched, "fetched_at": time.time(),
                "sha256": hashlib.sha256(data).hexdigest()}).encode())):
            partial = path.with_suffix(".partial")
            partial.write_bytes(content)
            os.replace(partial, path)
    except OSError:
        pass  # a read-only home: every run fetches
    return data, fetched
