"""Jobs run in the background: ``admin_jobs.background`` hands a pending or processing job to
the workers (``python -m jobcore worker``), which drive it through the same process_chunk as
a page; a page can take it back. The handing over and the taking back are events.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE admin_jobs ADD COLUMN background boolean NOT NULL DEFAULT false")
    # what a worker looks for: unfinished background jobs, the least recently advanced first
    op.execute("CREATE INDEX ix_admin_jobs_background ON admin_jobs (last_progress_at) "
               "WHERE background AND status IN ('pending', 'processing')")
    op.execute("ALTER TABLE admin_job_events DROP CONSTRAINT admin_job_events_kind_check")
    op.execute("ALTER TABLE admin_job_events ADD CONSTRAINT admin_job_events_kind_check "
               "CHECK (kind IN ('failed', 'resumed', 'chunk_stopped', 'to_background', "
               "'taken_over'))")


def downgrade() -> None:
    op.execute("DELETE FROM admin_job_events WHERE kind IN ('to_background', 'taken_over')")
    op.execute("ALTER TABLE admin_job_events DROP CONSTRAINT admin_job_events_kind_check")
    op.execute("ALTER TABLE admin_job_events ADD CONSTRAINT admin_job_events_kind_check "
               "CHECK (kind IN ('failed', 'resumed', 'chunk_stopped'))")
    op.execute("DROP INDEX ix_admin_jobs_background")
    op.execute("ALTER TABLE admin_jobs DROP COLUMN background")
