"""Test fixtures: a real PostgreSQL with pgvector, a fresh database per test.

The server is the embedded one (or DATABASE_URL's). Migrations run once into a template
database; each test gets its own copy (CREATE DATABASE ... TEMPLATE), so tests that commit,
run threads or drive the CLI and the app stay isolated from each other.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine

from jobcore import db
from jobcore.activations.platforms import liveramp
from jobcore.classify import reclassify
from jobcore.config import get_settings
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url
from jobcore.dedup import merge_job
from jobcore.schema import organizations, topics
from tests.fakes.platforms import FakePlatforms, FakePlatformServer

TEMPLATE = f"jobcore_test_template_{os.getpid()}"


@pytest.fixture(scope="session")
def server_url() -> str:
    return resolve_url()


@pytest.fixture(scope="session")
def template_database(server_url: str) -> Iterator[str]:
    engine = create_engine_for(create_database(server_url, TEMPLATE))  # migrates
    engine.dispose()
    yield TEMPLATE
    drop_database(server_url, TEMPLATE)


@pytest.fixture
def database_url(server_url: str, template_database: str) -> Iterator[str]:
    name = f"jobcore_test_{uuid.uuid4().hex[:12]}"
    url = create_database(server_url, name, template=template_database)
    yield url
    drop_database(server_url, name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(database_url, migrate=False)
    yield engine
    engine.dispose()


@pytest.fixture
def app_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the process-wide settings (CLI, app) at this test's database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ADMIN_USER", "test-analyst")
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()
    with db._lock:
        engines = [db._engines.pop(url) for url in list(db._engines) if url == database_url]
    for eng in engines:
        eng.dispose()


@pytest.fixture
def fake_platforms(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePlatformServer]:
    """The loopback fake LiveRamp and Trade Desk, settings pointing at them, a fresh
    CREDENTIALS_KEY, short timeouts and one retry.
    """
    liveramp.forget_tokens()
    with FakePlatformServer(FakePlatforms(timeout_seconds=0.5)) as server:
        for name, value in (("LIVERAMP_BASE_URL", server.url),
                            ("TRADE_DESK_BASE_URL", server.url),
                            ("CREDENTIALS_KEY", Fernet.generate_key().decode()),
                            ("PLATFORM_TIMEOUT_SECONDS", "0.2"), ("PLATFORM_RETRIES", "1")):
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()
    liveramp.forget_tokens()


@pytest.fixture
def make_topic(engine: Engine) -> Callable[..., int]:
    """Builder: insert a topic (name, description, any column) and return its id."""

    def build(name: str, description: str | None = None, **columns: Any) -> int:
        with engine.begin() as conn:
            return conn.execute(
                sa.insert(topics).values(name=name, description=description, **columns)
                .returning(topics.c.id)
            ).scalar_one()

    return build


@pytest.fixture
def make_org(engine: Engine) -> Callable[[str], int]:
    def build(name: str) -> int:
        with engine.begin() as conn:
            return conn.execute(
                sa.insert(organizations).values(name=name).returning(organizations.c.id)
            ).scalar_one()

    return build


@pytest.fixture
def get_topic(engine: Engine) -> Callable[[int], sa.Row]:
    """Reader: the current row of a topic."""

    def read(topic_id: int) -> sa.Row:
        with engine.connect() as conn:
            return conn.execute(sa.select(topics).where(topics.c.id == topic_id)).one()

    return read


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local reclassify chunks of 50 topics (500 in use) and merge chunks of 10 clusters
    (100 in use), so that a few dozen items make a run of several chunks without making
    thousands.
    """
    monkeypatch.setattr(reclassify, "CHUNK_SIZE", 50)
    monkeypatch.setattr(merge_job, "CHUNK_SIZE", 10)


@pytest.fixture
def until_its_chunk_is_gone(engine: Engine) -> Callable[[str], None]:
    """Waiter: until no process is running a chunk of the job. A driver killed mid-chunk
    (os._exit) holds the job's lock until the server notices its connection is gone, which
    can take a moment after the process has ended.
    """
    import time

    from jobcore.jobs import supervision

    def wait(job_id: str) -> None:
        deadline = time.monotonic() + 30
        while supervision.chunk_in_flight(job_id, engine=engine) is not None:
            assert time.monotonic() < deadline, f"a chunk of {job_id} is still in flight"
            time.sleep(0.05)

    return wait


@pytest.fixture
def many_topics(engine: Engine) -> Callable[[int], list[int]]:
    """Builder: n classifiable topics, unclassified, inserted at once (ids in order)."""
    names = ["Yoga Enthusiasts", "Luxury SUV Intenders", "Salesforce Users", "Coffee Lovers",
             "Books & Literature Fans", "Adults 25-29", "Home Improvement Shoppers"]

    def build(n: int) -> list[int]:
        rows = [{"name": f"{names[i % len(names)]} #{i}"} for i in range(n)]
        with engine.begin() as conn:
            return list(conn.execute(sa.insert(topics).returning(
                topics.c.id, sort_by_parameter_order=True), rows).scalars())

    return build


DEMO_TEMPLATE = f"jobcore_test_demo_{os.getpid()}"
DEMO_TOPICS = 800


@pytest.fixture(scope="session")
def embedded_demo_template(server_url: str, template_database: str) -> Iterator[str]:
    """A database with an embedded demo catalogue (real MiniLM vectors), made once."""
    from jobcore.catalog.demo import seed_demo
    from jobcore.dedup import embeddings

    url = create_database(server_url, DEMO_TEMPLATE, template=template_database)
    engine = create_engine_for(url, migrate=False)
    seed_demo(engine, topics_count=DEMO_TOPICS, seed=2)  # holds pairs in the 0.50-0.60 band
    provider, last_id = embeddings.get_provider(), 0
    with engine.begin() as conn:
        while (last_id := embeddings.refresh_batch(conn, provider, after_id=last_id).last_id):
            pass
    engine.dispose()
    yield DEMO_TEMPLATE
    drop_database(server_url, DEMO_TEMPLATE)


@pytest.fixture
def demo_engine(server_url: str, embedded_demo_template: str,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A fresh copy of the embedded demo catalogue; settings (app, CLI) point at it."""
    name = f"jobcore_test_{uuid.uuid4().hex[:12]}"
    url = create_database(server_url, name, template=embedded_demo_template)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ADMIN_USER", "test-analyst")
    get_settings.cache_clear()
    engine = create_engine_for(url, migrate=False)
    yield engine
    engine.dispose()
    get_settings.cache_clear()
    with db._lock:
        engines = [db._engines.pop(u) for u in list(db._engines) if u == url]
    for eng in engines:
        eng.dispose()
    drop_database(server_url, name)


@pytest.fixture
def fake_anthropic(monkeypatch: pytest.MonkeyPatch):
    """The loopback fake Message Batches API; settings point the real SDK at it."""
    from tests.fakes.anthropic_batches import FakeBatchesServer

    with FakeBatchesServer() as server:
        for name, value in (("ANTHROPIC_API_KEY", "sk-ant-fake"),
                            ("ANTHROPIC_BASE_URL", server.url),
                            ("ANTHROPIC_MAX_RETRIES", "2")):
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()


def rules_changed_since(engine: Engine, job_id: str) -> None:
    """As if the local rules had changed since the job ran: its rule misses ("no word of the
    name matches") may match now, so a retry takes them (under the same rules it leaves them
    out, see jobcore.classify.recovery).
    """
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE admin_jobs SET cursor = cursor || "
                             "'{\"rulesVersion\": \"rules-before\"}' WHERE id = :id"),
                     {"id": job_id})
