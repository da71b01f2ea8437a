"""A stand-in LiteLLM proxy on 127.0.0.1 for verify's tests on a bare machine: it serves the
endpoints verify reads from canned JSON and answers probes through a function, so each test
sets exactly what the "proxy" shows and charges. Real proxies: tests/proxies.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, dict[str, str], Any]


class FakeProxy:
    def __init__(self, key: str = "sk-fake-0123456789") -> None:
        self.key = key
        self.get: dict[str, Answer] = {}
        self.chat: Callable[[dict], Answer] = lambda body: (404, {}, {"error": {"message": "no chat"}})
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, answer: Answer) -> None:
                status, headers, body = answer
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                return self.headers.get("Authorization") == f"Bearer {fake.key}"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                fake.requests.append(("GET", self.path, dict(self.headers)))
                answer = fake.get.get(self.path)
                if answer is None:
                    self._answer((404, {}, {"detail": "Not Found"}))
                elif self.path not in PUBLIC and not self._authorised():
                    self._answer((401, {}, {"error": {"message": "Authentication Error"}}))
                else:
                    self._answer(answer)

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                fake.requests.append(("POST", self.path, dict(self.headers)))
                if not self._authorised():
                    self._answer((401, {}, {"error": {"message": "Authentication Error"}}))
                else:
                    self._answer(fake.chat(body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


PUBLIC = {"/openapi.json", "/health/readiness", "/public/model_hub/info", "/health/liveliness"}


def mock_reply(charged: str | None, served_by: str, version: str = "1.110.2") -> Answer:
    headers = {"x-litellm-model-id": served_by, "x-litellm-version": version}
    if charged is not None:
        headers["x-litellm-response-cost"] = charged
    return 200, headers, {"choices": [{"message": {"role": "assistant", "content": "costctl verify probe"}}]}
