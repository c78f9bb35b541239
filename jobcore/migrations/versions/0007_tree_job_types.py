"""Job types of the taxonomy tree tools (realign_subcategories, fix_subcategory_level0,
backfill_taxonomy_nodes) and the history actions they record (subcategory_fixed,
node_assigned; realigned was there from the start).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BEFORE = ("reclassify", "dedup_sweep", "merge", "refresh_activations", "sync_trade_desk")
_AFTER = (*_BEFORE, "realign_subcategories", "fix_subcategory_level0",
          "backfill_taxonomy_nodes")


_ACTIONS_BEFORE = ("reclassified", "merged", "unmerged", "rolled_back", "manual_edit",
                   "review_resolved", "realigned")
_ACTIONS_AFTER = (*_ACTIONS_BEFORE, "subcategory_fixed", "node_assigned")


def _allow(table: str, column: str, values: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{v}'" for v in values)
    constraint = f"{table}_{column}_check"
    op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} "
               f"CHECK ({column} IN ({listed}))")


def upgrade() -> None:
    _allow("admin_jobs", "job_type", _AFTER)
    _allow("topic_history", "action", _ACTIONS_AFTER)


def downgrade() -> None:
    _allow("admin_jobs", "job_type", _BEFORE)
    _allow("topic_history", "action", _ACTIONS_BEFORE)
