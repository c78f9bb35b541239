"""Hardening of the job contract.

- ``admin_job_errors``: a job's item errors, one row each (appending costs the same at 0
  and 100,000 stored errors; the job record still shows them all as ``errors``). Existing
  errors move there, in order; ``admin_jobs.errors`` is dropped.
- ``admin_job_events``: what happened to a job besides its chunks (failed, resumed), with
  who and why.
- ``processed_items <= total_items`` (a job's item set is fixed when it is created).
- At most one live (pending or processing) retry per source job.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE admin_job_errors (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            job_id text NOT NULL REFERENCES admin_jobs(id) ON DELETE CASCADE,
            topic_id bigint,
            error jsonb NOT NULL
        )
    """)
    op.execute("CREATE INDEX ix_admin_job_errors_job ON admin_job_errors (job_id, id)")
    op.execute("""
        INSERT INTO admin_job_errors (job_id, topic_id, error)
        SELECT j.id,
               CASE WHEN jsonb_typeof(e.value -> 'id') = 'number'
                         AND e.value ->> 'id' ~ '^-?[0-9]{1,18}$'
                    THEN (e.value ->> 'id')::bigint END,
               e.value
        FROM admin_jobs j
        CROSS JOIN LATERAL jsonb_array_elements(j.errors) WITH ORDINALITY AS e(value, n)
        ORDER BY j.created_at, j.id, e.n
    """)
    op.execute("ALTER TABLE admin_jobs DROP COLUMN errors")
    op.execute("""
        CREATE TABLE admin_job_events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            job_id text NOT NULL REFERENCES admin_jobs(id) ON DELETE CASCADE,
            kind text NOT NULL CONSTRAINT admin_job_events_kind_check
                CHECK (kind IN ('failed', 'resumed')),
            message text,
            created_by text,
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE INDEX ix_admin_job_events_job ON admin_job_events (job_id, id)")
    # a job planned before the total was a bound may hold more (an LLM job may have
    # submitted more topics than its total): its total grows to what it holds
    op.execute("""
        UPDATE admin_jobs SET total_items = GREATEST(
            total_items, processed_items,
            CASE WHEN status IN ('pending', 'processing')
                 THEN coalesce((cursor ->> 'submitted')::int, 0)
                      + coalesce((cursor ->> 'unsent')::int, 0) ELSE 0 END)
        WHERE processed_items > total_items
           OR (status IN ('pending', 'processing')
               AND coalesce((cursor ->> 'submitted')::int, 0)
                   + coalesce((cursor ->> 'unsent')::int, 0) > total_items)
    """)
    op.execute("ALTER TABLE admin_jobs ADD CONSTRAINT admin_jobs_processed_within_total "
               "CHECK (processed_items <= total_items)")
    # two live retries of one job could be made before: the newer ones are cancelled
    op.execute("""
        UPDATE admin_jobs j SET status = 'cancelled', completed_at = now(), updated_at = now()
        WHERE j.config ? 'retryOf' AND j.status IN ('pending', 'processing')
          AND EXISTS (SELECT 1 FROM admin_jobs o
                      WHERE o.config ->> 'retryOf' = j.config ->> 'retryOf'
                        AND o.status IN ('pending', 'processing')
                        AND (o.created_at, o.id) < (j.created_at, j.id))
    """)
    op.execute(
        "CREATE UNIQUE INDEX uq_admin_jobs_one_live_retry ON admin_jobs ((config ->> 'retryOf')) "
        "WHERE config ? 'retryOf' AND config ->> 'retryOf' IS NOT NULL "
        "AND status IN ('pending', 'processing')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX uq_admin_jobs_one_live_retry")
    op.execute("ALTER TABLE admin_jobs DROP CONSTRAINT admin_jobs_processed_within_total")
    op.execute("DROP TABLE admin_job_events")
    op.execute("ALTER TABLE admin_jobs ADD COLUMN errors jsonb NOT NULL DEFAULT '[]'")
    op.execute("""
        UPDATE admin_jobs j SET errors = e.errors
        FROM (SELECT job_id, jsonb_agg(error ORDER BY id) AS errors FROM admin_job_errors
              GROUP BY job_id) e
        WHERE e.job_id = j.id
    """)
    op.execute("DROP TABLE admin_job_errors")
