"""Message batches submitted by LLM jobs, one row each (their status, request counts and
how many results are staged), instead of a list in the job's cursor that every chunk
rewrote whole.

A row is written and committed the moment Anthropic accepts a batch, on a connection of
its own outside the chunk's transaction; the chunk then sets ``confirmed``. A row left
unconfirmed means the process died before its chunk committed: the next call adopts the
batch instead of submitting its topics again.

No foreign key to admin_jobs on purpose: the chunk holds its job row FOR UPDATE, which
would block the key-share lock a foreign key check takes from the other connection.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE llm_batches (
        batch_id text PRIMARY KEY,
        job_id text NOT NULL,
        topic_ids bigint[] NOT NULL CHECK (cardinality(topic_ids) >= 1),
        confirmed boolean NOT NULL DEFAULT false,
        status text NOT NULL DEFAULT 'in_progress',
        counts jsonb NOT NULL DEFAULT '{}'::jsonb,
        results_url text,
        staged integer NOT NULL DEFAULT 0,
        done boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute("CREATE INDEX ix_llm_batches_job_id ON llm_batches (job_id)")


def downgrade() -> None:
    op.execute("DROP TABLE llm_batches")
