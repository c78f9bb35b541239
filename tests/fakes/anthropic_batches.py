"""A loopback fake of Anthropic's Message Batches API, in the wire format the SDK uses.

Routes: ``POST /v1/messages/batches`` (create), ``GET /v1/messages/batches/{id}``
(retrieve), ``POST /v1/messages/batches/{id}/cancel`` and ``GET {results_url}`` (JSONL,
one newline-terminated line per request, in a shuffled order). A batch is
``in_progress`` until ``finish()`` ends it, or until it has been retrieved
``polls_to_end`` times (None: only ``finish()``); answers come from
``responder(request) -> result`` when set (``pair_verdicts`` answers a sweep's pair
questions), else the classification named in ``answers`` by topic name, else a fixed
one. Failures are scripted with ``fail(method, path_prefix, status)``,
answered once each.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_ANSWER = {"segment_type": "b2c", "taxonomy_type": "Interest",
                  "parent_category": "Hobbies & Interests", "subcategory": None,
                  "audience_type": "interest"}


def succeeded(text: str, *, input_tokens: int = 1200, output_tokens: int = 60,
              cache_read: int = 9000, searches: int = 0) -> dict[str, Any]:
    """A succeeded result whose message's text is ``text``."""
    return {"type": "succeeded", "message": {
        "id": "msg_fake", "type": "message", "role": "assistant", "model": "claude-fake",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                  "cache_read_input_tokens": cache_read, "cache_creation_input_tokens": 0,
                  "server_tool_use": {"web_search_requests": searches}}}}


def errored(message: str = "Overloaded") -> dict[str, Any]:
    return {"type": "errored", "error": {"type": "error", "error": {
        "type": "overloaded_error", "message": message}}}


_TOKEN = re.compile(r"[A-Za-z]{1,6}|\d{1,3}|[^\sA-Za-z\d]")


def tokens_of(text: str) -> int:
    """A tokenizer-like count: letters in pieces of up to six, digits in up to three, each
    other visible character one token (Claude's own counts run about 1 token per 3.5-4
    characters of English).
    """
    return len(_TOKEN.findall(text))


def request_tokens(request: dict) -> int:
    """The input tokens of a request by ``tokens_of``: system, messages and the schema."""
    params = request["params"]
    system = params.get("system") or []
    texts = [b["text"] for b in system] if isinstance(system, list) else [system]
    texts += [m["content"] for m in params["messages"] if isinstance(m["content"], str)]
    schema = ((params.get("output_config") or {}).get("format") or {}).get("schema")
    if schema:
        texts.append(json.dumps(schema))
    return sum(tokens_of(t) for t in texts)


_PAIR = re.compile(r"Pair (\d+):\n  A: (.*)\n(?:.*\n)*?  B: (.*)\n")


def pair_verdicts(judge: Callable[[str, str], Any]) -> Callable[[dict], dict]:
    """A responder for a sweep's pair questions: ``judge(name_a, name_b)`` says True (the
    same), False (different), "malformed" (the answer is not valid), or returns a whole
    result (``errored()``, ``{"type": "expired"}``) for the request. Token counts follow
    ``request_tokens`` and ``tokens_of``.
    """
    def respond(request: dict) -> dict:
        content = request["params"]["messages"][0]["content"] + "\n"
        verdicts = []
        for number, a, b in _PAIR.findall(content):
            said = judge(a, b)
            if isinstance(said, dict):
                return said
            if said == "malformed":
                return succeeded('{"verdicts": [{"pair": 1, "same": "maybe"}]}',
                                 input_tokens=request_tokens(request), output_tokens=12,
                                 cache_read=0)
            verdicts.append({"pair": int(number), "same": bool(said), "confidence": 0.9,
                             "reason": "Both names describe the same people, worded "
                                       "differently." if said else "The names describe "
                                       "different audiences of the same subject."})
        text = json.dumps({"verdicts": verdicts})
        return succeeded(text, input_tokens=request_tokens(request),
                         output_tokens=tokens_of(text), cache_read=0)

    return respond


@dataclass
class FakeBatches:
    answers: dict[str, dict] = field(default_factory=dict)  # topic name -> answer fields
    special: dict[str, dict] = field(default_factory=dict)  # topic name -> whole result
    polls_to_end: int | None = 1
    batches: dict[str, dict] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seed: int = 7
    responder: Callable[[dict], dict] | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fail(self, method: str, path_prefix: str, status: int) -> None:
        with self.lock:
            self.failures.append((method, path_prefix, status))

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p.startswith(prefix))

    def finish(self) -> None:
        """End every batch still in progress."""
        with self.lock:
            for batch in self.batches.values():
                if batch["processing_status"] == "in_progress":
                    self._end(batch)

    def result_for(self, request: dict) -> dict:
        if self.responder is not None:
            return self.responder(request)
        content = request["params"]["messages"][0]["content"]
        name = content.split("\n")[0].removeprefix("Topic: ")
        if name in self.special:
            return self.special[name]
        fields = dict(self.answers.get(name, DEFAULT_ANSWER))
        schema = request["params"]["output_config"]["format"]["schema"]
        if schema["required"] == ["node_id"]:  # a narrow question: one of the offered ids
            offered = schema["properties"]["node_id"]["enum"]
            chosen = fields.get("node_id")
            return succeeded(json.dumps({"node_id": chosen if chosen else offered[0]}))
        return succeeded(json.dumps({k: fields.get(k) for k in schema["required"]}))

    def _end(self, batch: dict) -> None:
        lines = [{"custom_id": r["custom_id"],
                  "result": {"type": "canceled"} if batch["processing_status"] == "canceling"
                  else self.result_for(r)} for r in batch["_requests"]]
        random.Random(self.seed).shuffle(lines)  # results are not in request order
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for line in lines:
            counts[line["result"]["type"]] += 1
        batch.update(processing_status="ended", request_counts=counts,
                     ended_at=_now(), results_url=f"{batch['_base']}/v1/messages/batches/"
                                                  f"{batch['id']}/results", _lines=lines)

    def _scripted(self, method: str, path: str) -> int | None:
        with self.lock:
            for i, (m, prefix, status) in enumerate(self.failures):
                if m == method and path.startswith(prefix):
                    self.failures.pop(i)
                    return status
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _public(batch: dict) -> dict:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def _handler(state: FakeBatches, base_url: Callable[[], str]):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("request-id", "req_fake")
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status: int, body: dict) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def _error(self, status: int) -> None:
            kind = {429: "rate_limit_error", 500: "api_error", 529: "overloaded_error",
                    404: "not_found_error", 401: "authentication_error"}.get(status, "api_error")
            self._json(status, {"type": "error", "error": {"type": kind,
                                                           "message": f"fake {status}"}})

        def _route(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            if path.startswith("/_fake/"):  # control routes of the standalone server
                return self._control(method, path)
            with state.lock:
                state.requests.append((method, path))
            if not (self.headers.get("x-api-key") or self.headers.get("authorization")):
                return self._error(401)
            status = state._scripted(method, path)
            if status is not None:
                return self._error(status)
            parts = path.strip("/").split("/")  # v1 messages batches [id] [cancel|results]
            if parts[:3] != ["v1", "messages", "batches"]:
                return self._error(404)
            if method == "POST" and len(parts) == 3:
                return self._create(json.loads(raw))
            with state.lock:
                batch = state.batches.get(parts[3]) if len(parts) > 3 else None
            if batch is None:
                return self._error(404)
            if method == "GET" and len(parts) == 4:
                with state.lock:
                    batch["_polls"] += 1
                    if (state.polls_to_end is not None and batch["_polls"] > state.polls_to_end
                            and batch["processing_status"] == "in_progress"):
                        state._end(batch)
                return self._json(200, _public(batch))
            if method == "POST" and parts[4:] == ["cancel"]:
                with state.lock:
                    if batch["processing_status"] == "in_progress":
                        batch.update(processing_status="canceling", cancel_initiated_at=_now())
                        state._end(batch)
                return self._json(200, _public(batch))
            if method == "GET" and parts[4:] == ["results"] and "_lines" in batch:
                data = "".join(json.dumps(line) + "\n" for line in batch["_lines"]).encode()
                return self._send(200, data, "application/binary")
            return self._error(404)

        def _control(self, method: str, path: str) -> None:
            if method == "POST" and path == "/_fake/finish":
                state.finish()
            elif method != "GET" or path != "/_fake/requests":
                return self._error(404)
            with state.lock:
                return self._json(200, {"requests": len(state.requests)})

        def _create(self, body: dict) -> None:
            requests = body["requests"]
            batch_id = f"msgbatch_fake{next(state._ids):04d}"
            batch = {"id": batch_id, "type": "message_batch", "processing_status": "in_progress",
                     "request_counts": {"processing": len(requests), "succeeded": 0,
                                        "errored": 0, "canceled": 0, "expired": 0},
                     "ended_at": None, "created_at": _now(),
                     "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                     "archived_at": None, "cancel_initiated_at": None, "results_url": None,
                     "_requests": requests, "_base": base_url(), "_polls": 0}
            with state.lock:
                state.batches[batch_id] = batch
            self._json(200, _public(batch))

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


class FakeBatchesServer:
    """``with FakeBatchesServer() as server:`` ... ``server.url``, ``server.state``."""

    def __init__(self, state: FakeBatches | None = None) -> None:
        self.state = state or FakeBatches()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state,
                                                                    lambda: self.url))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeBatchesServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


if __name__ == "__main__":
    # Standalone (for bench/, so that the fake's own work does not share the benchmarked
    # process): prints its URL, serves until killed; POST /_fake/finish ends every batch,
    # GET /_fake/requests counts the API requests so far. With --pairs it answers a
    # sweep's pair questions (pair_verdicts) instead of classifications.
    import sys

    state = FakeBatches(polls_to_end=None)
    if "--pairs" in sys.argv:  # a sweep's pair questions: four in five pairs the same
        state.responder = pair_verdicts(lambda a, b: sum(map(ord, a + b)) % 5 != 0)
    with FakeBatchesServer(state) as standalone:
        print(standalone.url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin
