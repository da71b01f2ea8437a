"""HTTP to a running LiteLLM proxy: JSON requests with a timeout, retries with backoff, the key
sent as a bearer token and never shown; failures that leave verify without a result raise
CostctlError (exit 2) in one line."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from costctl.config.secrets import shown_url
from costctl.errors import CostctlError

RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    text: str = ""

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


class Client:
    """One proxy: `get` / `post` return a Response for every HTTP status; a proxy that cannot be
    reached after the retries raises CostctlError."""

    def __init__(self, url: str, key: str | None, *, timeout: float = 10.0, retries: int = 2,
                 backoff: float = 0.5) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CostctlError(f"--proxy expects an http(s) URL such as http://127.0.0.1:4000, not {shown_url(url)!r}")
        self.base = urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path.rstrip("/"),
                                             "", ""))
        self.shown = shown_url(url)
        self._key = key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        # no environment proxies: the gateway is addressed directly, and the key goes nowhere else
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def get(self, path: str, *, auth: bool = True) -> Response:
        return self._send("GET", path, None, auth)

    def post(self, path: str, body: Any) -> Response:
        return self._send("POST", path, json.dumps(body).encode(), True)

    def _send(self, method: str, path: str, data: bytes | None, auth: bool) -> Response:
        headers = {"Accept": "application/json", "User-Agent": "costctl-verify"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if auth and self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
            try:
                with self._opener.open(request, timeout=self.timeout) as resp:
                    return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()},
                                    resp.read().decode("utf-8", "replace"))
            except urllib.error.HTTPError as exc:
                response = Response(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()},
                                    exc.read().decode("utf-8", "replace") if exc.fp else "")
                if exc.code not in RETRY_STATUSES or attempt == self.retries:
                    return response
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                last = str(reason) if not isinstance(reason, str) else reason
        tries = self.retries + 1
        raise CostctlError(f"cannot reach the LiteLLM proxy at {self.shown} ({method} {path}: {last}, "
                           f"{tries} tr{'y' if tries == 1 else 'ies'})")

    def require(self, response: Response, what: str) -> Any:
        """The JSON body of a successful response, or CostctlError saying why not."""
        if response.status in (401, 403):
            raise CostctlError(f"the LiteLLM proxy at {self.shown} refused the key ({what}: HTTP {response.status}); "
                               "check the key's environment variable (--key-env)")
        if response.status != 200:
            raise CostctlError(f"the LiteLLM proxy at {self.shown} answered {what} with HTTP {response.status}")
        body = response.json()
        if body is None:
            raise CostctlError(f"the LiteLLM proxy at {self.shown} answered {what} with something that is not JSON")
        return body
