"""The demo's near-miss twins: pairs of topics that differ only by an income or age band,
a market, a product version or an audience qualifier, which dedup must never propose
(planted by seed-demo beside demo_planted_duplicates).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE demo_near_misses (
            topic_id bigint PRIMARY KEY REFERENCES topics(id),
            other_topic_id bigint NOT NULL REFERENCES topics(id),
            kind text NOT NULL
        )
    """)


def downgrade() -> None:
    op.execute("DROP TABLE demo_near_misses")
