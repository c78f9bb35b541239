"""Loopback fakes of LiveRamp and The Trade Desk speaking the shapes our clients use.

One HTTP server on 127.0.0.1 serves both: LiveRamp's token and segment routes and the
Trade Desk's third-party data routes. Failures are scripted: ``fail(path_prefix, status,
headers, body)`` or ``fail(path_prefix, "timeout")`` answers the next matching request
that way once.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class FakePlatforms:
    account_id: str = "acct-1"
    secret: str = "fake-secret-123"
    token_lifetime: int = 3600
    timeout_seconds: float = 2.0
    requests: list[tuple[str, str]] = field(default_factory=list)
    segments: dict[str, dict] = field(default_factory=dict)
    elements: dict[str, dict] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)
    failures: list[tuple[str, object, dict, dict]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, path_prefix: str, status, headers: dict | None = None,
             body: dict | None = None) -> None:
        with self.lock:
            self.failures.append((path_prefix, status, headers or {}, body or {}))

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p.startswith(prefix))

    def _scripted(self, path: str):
        with self.lock:
            for i, failure in enumerate(self.failures):
                if path.startswith(failure[0]):
                    return self.failures.pop(i)
        return None


def _handler(state: FakePlatforms):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs
        disable_nagle_algorithm = True  # headers and body go out without a delayed-ACK wait

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _reply(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))

        def _handle(self, method: str) -> None:
            raw = self._body()
            with state.lock:
                state.requests.append((method, self.path))
            scripted = state._scripted(self.path)
            if scripted is not None:
                _, status, headers, body = scripted
                if status == "timeout":
                    time.sleep(state.timeout_seconds)
                    return self._reply(200, {})
                return self._reply(status, body, headers)
            if self.path == "/oauth/token":
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                if (form.get("client_id"), form.get("client_secret")) != (
                        state.account_id, state.secret):
                    return self._reply(401, {"error": "invalid_client",
                                             "error_description": "bad client credentials"})
                token = f"tok-{next(state._ids)}"
                state.tokens.append(token)
                return self._reply(200, {"access_token": token, "token_type": "bearer",
                                         "expires_in": state.token_lifetime})
            if self.path.startswith("/v2/segments"):
                auth = self.headers.get("Authorization", "")
                if auth.removeprefix("Bearer ") not in state.tokens:
                    return self._reply(401, {"message": "invalid token"})
                payload = json.loads(raw or b"{}")
                if method == "GET":
                    segment_id = self.path.rsplit("/", 1)[1]
                    if segment_id not in state.segments:
                        return self._reply(404, {"message": f"segment {segment_id} not found"})
                    return self._reply(200, {"id": segment_id, **state.segments[segment_id]})
                if method == "POST":
                    segment_id = f"lr-{next(state._ids)}"
                    state.segments[segment_id] = payload
                    return self._reply(201, {"id": segment_id, **payload})
                segment_id = self.path.rsplit("/", 1)[1]
                if segment_id not in state.segments:
                    return self._reply(404, {"message": f"segment {segment_id} not found"})
                state.segments[segment_id] = payload
                return self._reply(200, {"id": segment_id, **payload})
            if self.path.startswith("/v3/thirdpartydata"):
                if self.headers.get("TTD-Auth") != state.secret:
                    return self._reply(401, {"Message": "Authentication failed"})
                payload = json.loads(raw or b"{}")
                if self.path.endswith("/query"):
                    items = sorted(state.elements.values(),
                                   key=lambda e: e["ProviderElementId"])
                    start, size = payload["PageStartIndex"], payload["PageSize"]
                    return self._reply(200, {"Result": items[start:start + size],
                                             "ResultCount": len(items)})
                element = payload["ProviderElementId"]
                if method == "PUT" and element not in state.elements:
                    return self._reply(404, {"Message": f"element {element} not found"})
                if method == "POST" and element in state.elements:
                    return self._reply(409, {"Message": f"element {element} exists"})
                state.elements[element] = payload
                return self._reply(200, payload)
            return self._reply(404, {"message": "no such route"})

        def do_GET(self) -> None:
            if self.path == "/_requests":  # for a fake run in another process (benchmarks)
                with state.lock:
                    return self._reply(200, {"requests": state.requests})
            return self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

    return Handler


class FakePlatformServer:
    """Context manager: the fake on a free port; ``url`` is its base URL."""

    def __init__(self, state: FakePlatforms | None = None) -> None:
        self.state = state or FakePlatforms()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakePlatformServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve_forever_in_this_process(port_file: str) -> None:
    """Run a fake until killed, writing its URL to ``port_file`` (multiprocessing target)."""
    server = FakePlatformServer()
    with open(port_file, "w") as handle:
        handle.write(server.url)
    server._server.serve_forever()
