"""A loopback fake of an OpenAI-compatible /embeddings endpoint.

Vectors are deterministic: each text's SHA-256 spread over 384 dimensions, so equal texts
get equal vectors. ``fail(status, body)`` answers the next request that way once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIMENSIONS = 384


def fake_vector(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [((digest[i % 32] + i) % 17) - 8.0 for i in range(dimensions)]


class FakeEmbeddingsServer:
    def __init__(self, dimensions: int = DIMENSIONS) -> None:
        self.dimensions = dimensions
        self.requests: list[dict] = []
        self.failures: list[tuple[int, dict, dict]] = []
        state = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                state.requests.append({"path": self.path, "body": body,
                                       "auth": self.headers.get("Authorization")})
                if state.failures:
                    status, headers, payload = state.failures.pop(0)
                else:
                    status, headers = 200, {}
                    payload = {"object": "list", "model": body["model"], "data": [
                        {"object": "embedding", "index": i,
                         "embedding": fake_vector(text, state.dimensions)}
                        for i, text in enumerate(body["input"])]}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def fail(self, status: int, body: dict, headers: dict | None = None) -> None:
        self.failures.append((status, headers or {}, body))

    def __enter__(self) -> FakeEmbeddingsServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
