"""HTTP overhead: process calls through the API on 127.0.0.1 against direct process_chunk.

Each round seeds the same 20,000-topic demo catalogue into three fresh databases and runs
the same local reclassify job to the end on each: by direct process_chunk calls, and
through ``POST /api/admin/jobs/{id}/process`` against ``python -m jobcore serve`` (uvicorn,
a separate process) driven by a keep-alive httpx client and by a keep-alive http.client
(stdlib) client. The order rotates between rounds and a CHECKPOINT precedes each run, so
that no run pays for another's writes. Prints the median time per chunk and what HTTP adds.

    python bench/api.py
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from jobcore.api import hash_token  # noqa: E402
from jobcore.catalog.demo import seed_demo  # noqa: E402
from jobcore.config import get_settings  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.jobs import drive, runner  # noqa: E402

TOKEN = "bench-token-0123456789abcdef0123456789abcdef"
TOPICS = 20_000
ROUNDS = 3


def _catalogue(server: str, name: str) -> tuple[str, sa.Engine]:
    url = create_database(server, name)
    engine = create_engine_for(url)
    seed_demo(engine, topics_count=TOPICS, seed=5)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    return url, engine


def _direct(engine: sa.Engine) -> tuple[int, float]:
    created = runner.create_job("reclassify", {}, engine=engine)
    started = time.perf_counter()
    report = drive.run_to_completion(created.id, engine=engine)
    assert report.status == "completed"
    return runner.get_job(created.id, engine=engine).chunk_count, time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _drive_with_httpx(base: str, job_id: str) -> int:
    calls = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"},
                      timeout=120) as client:
        while True:
            calls += 1
            if client.post(f"/api/admin/jobs/{job_id}/process").json()["done"]:
                return calls


def _drive_with_stdlib(base: str, job_id: str) -> int:
    """A lean keep-alive client (http.client): what a script's own loop would cost."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    calls = 0
    try:
        while True:
            calls += 1
            connection.request("POST", f"/api/admin/jobs/{job_id}/process",
                               headers={"Authorization": f"Bearer {TOKEN}"})
            if json.loads(connection.getresponse().read())["done"]:
                return calls
    finally:
        connection.close()


def _over_http(url: str, driver) -> tuple[int, float]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "API_TOKENS": f"bench:{hash_token(TOKEN)}"}
    server = subprocess.Popen([sys.executable, "-m", "jobcore", "serve", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=120) as client:
            for _ in range(200):
                try:
                    client.get("/openapi.json")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            job_id = client.post("/api/admin/jobs", json={"jobType": "reclassify",
                                                          "config": {}}).json()["jobId"]
        started = time.perf_counter()
        calls = driver(base, job_id)
        return calls, time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=20)


def _checkpoint(url: str) -> None:
    """Flush the WAL so that no checkpoint from an earlier run lands inside this timing."""
    engine = create_engine_for(url, migrate=False)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("CHECKPOINT"))
    engine.dispose()


def main() -> None:
    get_settings.cache_clear()
    server = resolve_url()
    results: dict[str, list[float]] = {"direct": [], "httpx": [], "http.client": []}

    def run_direct(url: str) -> None:
        engine = create_engine_for(url, migrate=False)
        chunks, seconds = _direct(engine)
        engine.dispose()
        results["direct"].append(seconds / chunks * 1000)

    def run_http(label: str, driver):
        def run(url: str) -> None:
            calls, seconds = _over_http(url, driver)
            results[label].append(seconds / calls * 1000)
        return run

    variants = [("direct", run_direct), ("httpx", run_http("httpx", _drive_with_httpx)),
                ("http.client", run_http("http.client", _drive_with_stdlib))]
    for round_no in range(1, ROUNDS + 1):
        names = [f"bench_api_{round_no}_{i}" for i in range(len(variants))]
        order = variants[round_no - 1:] + variants[:round_no - 1]  # each goes first once
        try:
            urls = [_catalogue(server, name)[0] for name in names]
            for (_, run), url in zip(order, urls, strict=True):
                _checkpoint(url)
                run(url)
        finally:
            for name in names:
                drop_database(server, name)
        print(f"round {round_no}: " + ", ".join(f"{k} {v[-1]:.2f} ms" for k, v in
                                                 results.items()), flush=True)
    direct = statistics.median(results["direct"])
    print(f"\none local reclassify job per run on {TOPICS:,} seeded topics, 50 a chunk")
    print(f"direct process_chunk      : median {direct:.2f} ms a chunk = {1000 / direct:,.0f} "
          "chunks/s")
    for label in ("httpx", "http.client"):
        http = statistics.median(results[label])
        print(f"HTTP, {label:<11} client : median {http:.2f} ms a call = {1000 / http:,.0f} "
              f"calls/s; adds {http - direct:.2f} ms = {(http / direct - 1) * 100:.1f} % "
              "(target < 20 %)")


if __name__ == "__main__":
    main()
