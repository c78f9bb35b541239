"""Retention and filtered job lists.

- ``admin_jobs.log_pruned_at``: when retention removed a finished job's chunk log and staged
  LLM results (``staged_pruned``: how many staged results went; such a job cannot be
  resumed, its answers are gone).
- ``pruned_jobs``: what is left of a finished job that retention removed (its type, status,
  dates and counts), so that a link, a rollback or an undo of it says so instead of "no
  such job".
- ``topic_history.batch_id`` and ``merges.job_id`` lose their foreign keys: a topic's
  history and its merges outlive the job that wrote them (they name a pruned job by id).
- Indexes for the job list's filters (type, status, creator; newest first) and for finding
  what retention removes; event kinds ``cancelled`` (who cancelled, one job or many) and
  ``pruned`` (what retention removed from a job it kept).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_OLD_KINDS = "'failed', 'resumed', 'chunk_stopped', 'to_background', 'taken_over'"
_FINISHED = "status IN ('completed', 'failed', 'cancelled')"


def upgrade() -> None:
    op.execute("ALTER TABLE admin_jobs ADD COLUMN log_pruned_at timestamptz")
    op.execute("ALTER TABLE admin_jobs ADD COLUMN staged_pruned integer NOT NULL DEFAULT 0")
    op.execute("""
    CREATE TABLE pruned_jobs (
        id text PRIMARY KEY,
        job_type text NOT NULL,
        status text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        completed_at timestamptz,
        total_items integer NOT NULL,
        success_count integer NOT NULL,
        error_count integer NOT NULL,
        pruned_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute("ALTER TABLE topic_history DROP CONSTRAINT topic_history_batch_id_fkey")
    op.execute("ALTER TABLE merges DROP CONSTRAINT merges_job_id_fkey")
    op.execute("DROP INDEX ix_admin_jobs_type_status")
    op.execute("CREATE INDEX ix_admin_jobs_type_status_created ON admin_jobs "
               "(job_type, status, created_at DESC)")
    op.execute("CREATE INDEX ix_admin_jobs_status_created ON admin_jobs "
               "(status, created_at DESC)")
    op.execute("CREATE INDEX ix_admin_jobs_creator_created ON admin_jobs "
               "(created_by, created_at DESC)")
    op.execute(f"CREATE INDEX ix_admin_jobs_log_to_prune ON admin_jobs (completed_at) "
               f"WHERE log_pruned_at IS NULL AND {_FINISHED}")
    op.execute(f"CREATE INDEX ix_admin_jobs_finished ON admin_jobs (completed_at) "
               f"WHERE {_FINISHED}")
    # removing a job unlinks these rows (ON DELETE SET NULL): without an index each removed
    # job would scan the whole table
    op.execute("CREATE INDEX ix_not_duplicate_pairs_job ON not_duplicate_pairs (job_id)")
    op.execute("CREATE INDEX ix_claude_pair_verdicts_job ON claude_pair_verdicts (job_id)")
    op.execute("ALTER TABLE admin_job_events DROP CONSTRAINT admin_job_events_kind_check")
    op.execute("ALTER TABLE admin_job_events ADD CONSTRAINT admin_job_events_kind_check "
               f"CHECK (kind IN ({_OLD_KINDS}, 'cancelled', 'pruned'))")


def downgrade() -> None:
    op.execute("DELETE FROM admin_job_events WHERE kind IN ('cancelled', 'pruned')")
    op.execute("ALTER TABLE admin_job_events DROP CONSTRAINT admin_job_events_kind_check")
    op.execute("ALTER TABLE admin_job_events ADD CONSTRAINT admin_job_events_kind_check "
               f"CHECK (kind IN ({_OLD_KINDS}))")
    op.execute("DROP INDEX ix_claude_pair_verdicts_job")
    op.execute("DROP INDEX ix_not_duplicate_pairs_job")
    op.execute("DROP INDEX ix_admin_jobs_finished")
    op.execute("DROP INDEX ix_admin_jobs_log_to_prune")
    op.execute("DROP INDEX ix_admin_jobs_creator_created")
    op.execute("DROP INDEX ix_admin_jobs_status_created")
    op.execute("DROP INDEX ix_admin_jobs_type_status_created")
    op.execute("CREATE INDEX ix_admin_jobs_type_status ON admin_jobs (job_type, status)")
    # history and merges of pruned jobs name jobs that are gone: unlink them
    op.execute("UPDATE topic_history SET batch_id = NULL WHERE batch_id IS NOT NULL AND "
               "NOT EXISTS (SELECT 1 FROM admin_jobs j WHERE j.id = batch_id)")
    op.execute("UPDATE merges SET job_id = NULL WHERE job_id IS NOT NULL AND "
               "NOT EXISTS (SELECT 1 FROM admin_jobs j WHERE j.id = job_id)")
    op.execute("ALTER TABLE merges ADD CONSTRAINT merges_job_id_fkey FOREIGN KEY (job_id) "
               "REFERENCES admin_jobs(id)")
    op.execute("ALTER TABLE topic_history ADD CONSTRAINT topic_history_batch_id_fkey "
               "FOREIGN KEY (batch_id) REFERENCES admin_jobs(id)")
    op.execute("DROP TABLE pruned_jobs")
    op.execute("ALTER TABLE admin_jobs DROP COLUMN staged_pruned")
    op.execute("ALTER TABLE admin_jobs DROP COLUMN log_pruned_at")
