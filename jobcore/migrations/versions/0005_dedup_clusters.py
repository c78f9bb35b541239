"""Clusters proposed by dedup sweeps, one row each (appending to a growing JSONB array in
admin_jobs.result rewrote the whole list on every chunk).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE dedup_clusters (
        job_id text NOT NULL REFERENCES admin_jobs (id) ON DELETE CASCADE,
        seq integer NOT NULL CHECK (seq >= 1),
        winner_topic_id bigint NOT NULL REFERENCES topics (id),
        members bigint[] NOT NULL CHECK (cardinality(members) >= 2),
        losers jsonb NOT NULL CHECK (jsonb_typeof(losers) = 'array'),
        weakest double precision NOT NULL,
        PRIMARY KEY (job_id, seq)
    )""")
    op.execute("CREATE INDEX ix_dedup_clusters_members ON dedup_clusters USING gin (members)")


def downgrade() -> None:
    op.execute("DROP TABLE dedup_clusters")
