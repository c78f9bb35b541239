"""The job a job came from in two columns of its own (``source_key``: rollbackOf, retryOf,
sourceBatchId, sourceSweepId or undoOf; ``source_job_id``), instead of indexes over
``config``: the GIN index over the whole config and the three unique indexes on config keys
made every progress update of a job with a large config (a merge of 40,000 clusters: 1.5 MB)
decompress it and index it again, 0.26 s a chunk. The same rules (one rollback, one undo,
one live retry of a job) are now unique indexes on the two columns.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_KEYS = "'rollbackOf', 'retryOf', 'sourceBatchId', 'sourceSweepId', 'undoOf'"


def upgrade() -> None:
    op.execute("ALTER TABLE admin_jobs ADD COLUMN source_key text, "
               "ADD COLUMN source_job_id text")
    op.execute(f"""
    UPDATE admin_jobs AS j SET source_key = s.key, source_job_id = s.value
    FROM (SELECT DISTINCT ON (a.id) a.id, e.key, e.value
          FROM admin_jobs AS a, jsonb_each_text(a.config) AS e(key, value)
          WHERE e.key IN ({_KEYS}) AND e.value IS NOT NULL
          ORDER BY a.id, array_position(ARRAY[{_KEYS}], e.key)) AS s
    WHERE j.id = s.id""")
    op.execute(f"""
    ALTER TABLE admin_jobs ADD CONSTRAINT admin_jobs_source_check CHECK (
        (source_key IS NULL) = (source_job_id IS NULL) AND source_key IN ({_KEYS}))""")
    op.execute("DROP INDEX ix_admin_jobs_config")
    op.execute("DROP INDEX uq_admin_jobs_one_rollback")
    op.execute("DROP INDEX uq_admin_jobs_one_undo")
    op.execute("DROP INDEX uq_admin_jobs_one_live_retry")
    op.execute("CREATE INDEX ix_admin_jobs_source ON admin_jobs (source_job_id) "
               "WHERE source_job_id IS NOT NULL")
    op.execute("CREATE UNIQUE INDEX uq_admin_jobs_one_rollback ON admin_jobs (source_job_id) "
               "WHERE source_key = 'rollbackOf' "
               "AND status IN ('pending', 'processing', 'completed')")
    op.execute("CREATE UNIQUE INDEX uq_admin_jobs_one_undo ON admin_jobs (source_job_id) "
               "WHERE source_key = 'undoOf' AND status IN ('pending', 'processing', 'completed')")
    op.execute("CREATE UNIQUE INDEX uq_admin_jobs_one_live_retry ON admin_jobs (source_job_id) "
               "WHERE source_key = 'retryOf' AND status IN ('pending', 'processing')")


def downgrade() -> None:
    op.execute("DROP INDEX uq_admin_jobs_one_live_retry")
    op.execute("DROP INDEX uq_admin_jobs_one_undo")
    op.execute("DROP INDEX uq_admin_jobs_one_rollback")
    op.execute("DROP INDEX ix_admin_jobs_source")
    op.execute("CREATE INDEX ix_admin_jobs_config ON admin_jobs USING gin (config jsonb_path_ops)")
    op.execute(
        "CREATE UNIQUE INDEX uq_admin_jobs_one_rollback ON admin_jobs ((config ->> 'rollbackOf')) "
        "WHERE config ? 'rollbackOf' AND config ->> 'rollbackOf' IS NOT NULL "
        "AND status IN ('pending', 'processing', 'completed')")
    op.execute(
        "CREATE UNIQUE INDEX uq_admin_jobs_one_undo ON admin_jobs ((config ->> 'undoOf')) "
        "WHERE config ? 'undoOf' AND config ->> 'undoOf' IS NOT NULL "
        "AND status IN ('pending', 'processing', 'completed')")
    op.execute(
        "CREATE UNIQUE INDEX uq_admin_jobs_one_live_retry ON admin_jobs ((config ->> 'retryOf')) "
        "WHERE config ? 'retryOf' AND config ->> 'retryOf' IS NOT NULL "
        "AND status IN ('pending', 'processing')")
    op.execute("ALTER TABLE admin_jobs DROP CONSTRAINT admin_jobs_source_check, "
               "DROP COLUMN source_key, DROP COLUMN source_job_id")
