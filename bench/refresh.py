"""Activation refresh rate against the loopback fake platforms.

In a fresh database: one organisation with LiveRamp and Trade Desk credentials and 10,000
stale activations (half on each platform). A refresh_activations job runs to the end
through process_chunk against the fake servers (answering at once). Prints activations
per second and HTTP requests per activation (token calls counted apart).

    python bench/refresh.py
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from jobcore.activations import credentials  # noqa: E402
from jobcore.activations.credentials import PlatformCredentials  # noqa: E402
from jobcore.config import get_settings  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.jobs import drive, runner  # noqa: E402
from tests.fakes.platforms import serve_forever_in_this_process  # noqa: E402

ACTIVATIONS = int(os.environ.get("BENCH_ACTIVATIONS", "10000"))
DATABASE = "bench_refresh"


def _seed(engine: sa.Engine, key: str) -> int:
    with engine.begin() as conn:
        org = conn.execute(sa.text("INSERT INTO organizations (name) VALUES ('Bench Org') "
                                   "RETURNING id")).scalar_one()
        for platform in ("liveramp", "the_trade_desk"):
            credentials.save(conn, org, platform, PlatformCredentials(
                account_id="acct-1", secret="fake-secret-123"), keys=credentials.key_ring(key))
        conn.execute(sa.text(
            "INSERT INTO topics (name, description, version) SELECT 'Topic ' || g, "
            "'Description ' || g, 2 FROM generate_series(1, :n) g"), {"n": ACTIVATIONS})
        conn.execute(sa.text(
            """
            INSERT INTO activations (org_id, topic_id, platform, pushed_name,
                                     pushed_description, pushed_topic_version, status)
            SELECT :org, t.id, CASE WHEN t.id % 2 = 0 THEN 'liveramp' ELSE 'the_trade_desk'
                   END, 'Old ' || t.name, t.description, 1, 'active'
            FROM topics t
            """), {"org": org})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    return org


def main() -> None:
    server = resolve_url()
    url = create_database(server, DATABASE)
    key = Fernet.generate_key().decode()
    # The fake runs in its own process, as a real platform would: its work does not share
    # this process's interpreter lock.
    port_file = Path(tempfile.mkdtemp()) / "fake.url"
    fake = multiprocessing.Process(target=serve_forever_in_this_process,
                                   args=(str(port_file),), daemon=True)
    fake.start()
    try:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        fake_url = port_file.read_text()
        os.environ.update({"DATABASE_URL": url, "CREDENTIALS_KEY": key,
                           "LIVERAMP_BASE_URL": fake_url, "TRADE_DESK_BASE_URL": fake_url})
        get_settings.cache_clear()
        engine = create_engine_for(url)
        org = _seed(engine, key)
        created = runner.create_job("refresh_activations", {}, org_id=org, engine=engine)
        started = time.perf_counter()
        report = drive.run_to_completion(created.id, engine=engine)
        seconds = time.perf_counter() - started
        engine.dispose()
        requests = httpx.get(fake_url + "/_requests").json()["requests"]
        tokens = sum(1 for method, path in requests if path == "/oauth/token")
        pushes = len(requests) - tokens
    finally:
        fake.terminate()
        drop_database(server, DATABASE)
    assert report.success_count == ACTIVATIONS, report
    print(f"{ACTIVATIONS:,} stale activations refreshed in {seconds:.2f} s = "
          f"{ACTIVATIONS / seconds:,.0f} activations/s  (target >= 500/s)")
    print(f"requests: {pushes:,} pushes = {pushes / ACTIVATIONS:.2f} per activation, plus "
          f"{tokens} token call(s)  (target: 1 per activation plus token calls)")


if __name__ == "__main__":
    main()
