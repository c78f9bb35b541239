"""The embedded server: starts on first use, shared by every process of the project."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from jobcore.config import Settings
from jobcore.db import describe_database, driver_cursor, is_connection_error, resolve_url
from jobcore.migrate import head_revision


def test_embedded_server_starts_on_first_use_and_is_shared_across_processes(tmp_path):
    settings = Settings(database_url=None, data_dir=tmp_path)
    url = resolve_url(settings)
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        assert conn.execute(sa.text(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'")).scalar()
    assert (tmp_path / "pg" / "PG_VERSION").exists()

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATA_DIR"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-m", "jobcore", "db", "status"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"embedded PostgreSQL in {tmp_path / 'pg'}" in result.stdout
    assert f"schema revision: {head_revision()} (latest {head_revision()})" in result.stdout

    # The other process has exited; the server it shared is still up for this one.
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid
        assert conn.execute(sa.text("SELECT count(*) FROM admin_jobs")).scalar() == 0


def test_external_database_label_hides_the_password():
    info = describe_database(Settings(database_url="postgresql://ana:hunter2@db.example:6543/cat"))
    assert info.kind == "external"
    assert info.label == "db.example:6543/cat (DATABASE_URL)"


def test_a_driver_cursors_errors_read_as_sqlalchemys_and_a_lost_server_as_lost(engine):
    with engine.connect() as conn:  # a statement's error: the work's, not the connection's
        with pytest.raises(sa.exc.ProgrammingError, match="no_such_table") as bad, \
                driver_cursor(conn) as cursor:
            cursor.execute("SELECT * FROM no_such_table")
        assert not is_connection_error(bad.value)
    with engine.connect() as conn:  # the server ends the backend: tried again by a runner
        with pytest.raises(sa.exc.DBAPIError) as lost, \
                driver_cursor(conn, binary=True) as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            cursor.execute("SELECT 1")
        assert is_connection_error(lost.value) and conn.invalidated
    with engine.connect() as conn:  # the pool hands out a working connection afterwards
        assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
