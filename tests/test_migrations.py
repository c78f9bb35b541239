"""Migrations create exactly the tables of jobcore.schema, and the database enforces values."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def _database_at(server_url: str, revision: str) -> Iterator[sa.Engine]:
    """A fresh database migrated up to ``revision`` only, dropped afterwards."""
    from jobcore.db import create_database, create_engine_for, drop_database

    name = f"jobcore_test_migrate_{revision}"
    drop_database(server_url, name)
    engine = create_engine_for(create_database(server_url, name), migrate=False)
    try:
        upgrade(engine, revision)
        yield engine
    finally:
        engine.dispose()
        drop_database(server_url, name)


def test_moving_vectors_to_their_own_table_keeps_every_stored_vector(server_url):
    """0019 copies each topic's vector, encoder and hash into topic_embeddings (no
    re-embedding), and a never-embedded topic is marked to embed.
    """
    with _database_at(server_url, "0018") as engine:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO topics (name, embedding, embedding_model, embedding_hash) "
                "VALUES ('Yoga Fans', CAST(:v AS vector), 'm', 'h1'), ('Golf Fans', NULL, "
                "NULL, NULL)"), {"v": "[" + ",".join(["0.5"] * 4 + ["0"] * 380) + "]"})
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT t.name, t.embedding_stale, e.model, e.text_hash, "
                "e.embedding::text AS vector FROM topics t "
                "LEFT JOIN topic_embeddings e ON e.topic_id = t.id ORDER BY t.id")).all()
            hnsw_on_topics = conn.execute(sa.text(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'topics' "
                "AND indexdef ILIKE '%hnsw%'")).scalar_one()
        assert rows[0][:4] == ("Yoga Fans", False, "m", "h1")
        assert rows[0].vector.startswith("[0.5,0.5,0.5,0.5,0")
        assert rows[1][:4] == ("Golf Fans", True, None, None)
        assert hnsw_on_topics == 0


def test_the_job_a_job_came_from_moves_to_its_own_columns(server_url):
    """0020 reads each job's source (rollbackOf, undoOf, ...) out of its config into
    source_key / source_job_id, and the one-rollback rule holds on the new columns.
    """
    with _database_at(server_url, "0019") as engine:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO admin_jobs (id, job_type, created_by, status, config) VALUES "
                "('job_1_a', 'reclassify', 'x', 'pending', '{\"mode\": \"local\"}'), "
                "('job_2_b', 'reclassify', 'x', 'pending', '{\"rollbackOf\": \"job_1_a\"}'), "
                "('job_3_c', 'merge', 'x', 'pending', "
                "'{\"clusters\": [], \"sourceSweepId\": \"job_9_z\"}')"))
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT id, source_key, source_job_id FROM admin_jobs ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("job_1_a", None, None),
                                            ("job_2_b", "rollbackOf", "job_1_a"),
                                            ("job_3_c", "sourceSweepId", "job_9_z")]
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO admin_jobs (id, job_type, created_by, config, source_key, "
                "source_job_id) VALUES ('job_4_d', 'reclassify', 'x', '{}', 'rollbackOf', "
                "'job_1_a')"))


def test_a_sweeps_stored_clusters_read_their_scores_after_the_rename(server_url):
    """0023 renames a cluster member's ``similarity`` (the pair's hybrid score) to
    ``score`` in the stored losers, the sweep's placements and the merge log, keeping the
    losers' order and evidence.
    """
    with _database_at(server_url, "0022") as engine:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO admin_jobs (id, job_type, created_by, status, config) VALUES "
                "('job_1_a', 'dedup_sweep', 'x', 'pending', '{}')"))
            conn.execute(sa.text("INSERT INTO topics (id, name) VALUES (1, 'Yoga Fans'), "
                                 "(2, 'Yoga fans'), (3, 'Yoga-Fans')"))
            conn.execute(sa.text(
                "INSERT INTO dedup_clusters (job_id, seq, winner_topic_id, members, losers, "
                "weakest) VALUES ('job_1_a', 1, 1, '{1,2,3}', CAST(:losers AS jsonb), 0.8)"),
                {"losers": '[{"id": 2, "similarity": 0.9, "semantic": 0.95}, '
                           '{"id": 3, "similarity": 0.8}]'})
            conn.execute(sa.text("INSERT INTO dedup_cluster_members (job_id, topic_id, "
                                 "similarity) VALUES ('job_1_a', 2, 0.9)"))
        upgrade(engine)
        with engine.connect() as conn:
            losers = conn.execute(sa.text("SELECT losers FROM dedup_clusters")).scalar_one()
            placed = conn.execute(sa.text(
                "SELECT score FROM dedup_cluster_members")).scalar_one()
        assert losers == [{"id": 2, "score": 0.9, "semantic": 0.95}, {"id": 3, "score": 0.8}]
        assert placed == 0.9
