"""Where a sweep's chunks placed each topic: one row per clustered topic of a sweep, with its
score in its cluster (a winner: its best loser's), read by the sweep's later chunks by
topic id. The same question asked of ``dedup_clusters`` compared a chunk's 500 ids with
every cluster's members array, a cost that grew with the sweep (about 0.1 s a chunk at
15,000 clusters).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE dedup_cluster_members (
        job_id text NOT NULL REFERENCES admin_jobs (id) ON DELETE CASCADE,
        topic_id bigint NOT NULL,
        similarity double precision NOT NULL,
        PRIMARY KEY (job_id, topic_id)
    )""")
    op.execute("""
    INSERT INTO dedup_cluster_members (job_id, topic_id, similarity)
    SELECT c.job_id, m.id, max(m.similarity)
    FROM dedup_clusters c
    CROSS JOIN LATERAL (
        SELECT (l ->> 'id')::bigint, (l ->> 'similarity')::float8
        FROM jsonb_array_elements(c.losers) AS l
        UNION ALL SELECT c.winner_topic_id,
                         (SELECT max((l ->> 'similarity')::float8)
                          FROM jsonb_array_elements(c.losers) AS l)
    ) AS m(id, similarity)
    WHERE m.similarity IS NOT NULL
    GROUP BY c.job_id, m.id""")


def downgrade() -> None:
    op.execute("DROP TABLE dedup_cluster_members")
