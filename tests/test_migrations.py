"""Migrations create exactly the tables of jobcore.schema, and the database enforces values."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from jobcore.migrate import current_revision, head_revision, upgrade
from jobcore.schema import metadata


def test_migrated_database_matches_the_schema_module(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()
    assert upgrade(engine) == head_revision()  # a second upgrade is a no-op


@pytest.mark.parametrize("statement", [
    "INSERT INTO admin_jobs (id, job_type, created_by, status) "
    "VALUES ('job_1_a', 'reclassify', 'x', 'running')",
    "INSERT INTO admin_jobs (id, job_type, created_by) VALUES ('job_1_a', 'teleport', 'x')",
    "INSERT INTO admin_jobs (id, job_type, created_by, processed_items) "
    "VALUES ('job_1_a', 'reclassify', 'x', 3)",
    "INSERT INTO admin_jobs (id, job_type, created_by) VALUES ('bad id', 'reclassify', 'x')",
    "INSERT INTO admin_jobs (id, job_type, created_by, total_items, processed_items, "
    "success_count) VALUES ('job_1_a', 'reclassify', 'x', 1, 2, 2)",
    "INSERT INTO topics (name, review_status) VALUES ('x', 'needs_review')",
    "INSERT INTO topics (name, segment_type) VALUES ('x', 'b2z')",
    "INSERT INTO topics (name) VALUES ('   ')",
])
def test_database_refuses_invalid_values(engine, statement):
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(statement))
