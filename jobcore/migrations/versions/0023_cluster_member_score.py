"""A cluster member's ``similarity`` held the pair's hybrid score (semantic and lexical,
not a similarity of one kind): it is called ``score`` in dedup_cluster_members, merges and
each loser of dedup_clusters.losers, as on the screens. Merge configs stored with
``similarity`` still parse (the merge config accepts both words).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_RENAME_LOSER_KEY = """
UPDATE dedup_clusters SET losers = (
    SELECT jsonb_agg(CASE WHEN e ? '{old}'
                          THEN (e - '{old}') || jsonb_build_object('{new}', e -> '{old}')
                          ELSE e END ORDER BY n)
    FROM jsonb_array_elements(losers) WITH ORDINALITY AS x(e, n))
WHERE jsonb_typeof(losers) = 'array' AND jsonb_array_length(losers) > 0
"""


def upgrade() -> None:
    op.execute("ALTER TABLE dedup_cluster_members RENAME COLUMN similarity TO score")
    op.execute("ALTER TABLE merges RENAME COLUMN similarity TO score")
    op.execute(_RENAME_LOSER_KEY.format(old="similarity", new="score"))


def downgrade() -> None:
    op.execute(_RENAME_LOSER_KEY.format(old="score", new="similarity"))
    op.execute("ALTER TABLE merges RENAME COLUMN score TO similarity")
    op.execute("ALTER TABLE dedup_cluster_members RENAME COLUMN score TO similarity")
