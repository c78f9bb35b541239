"""What the tables share: the metadata, the timestamp type, the statuses and platforms the
constraints allow."""

from __future__ import annotations

import sqlalchemy as sa

JOB_STATUSES = ("pending", "processing", "completed", "failed", "cancelled")
FINISHED_STATUSES = ("completed", "failed", "cancelled")
UNFINISHED_STATUSES = ("pending", "processing")
PLATFORMS = ("liveramp", "the_trade_desk")
EMBEDDING_DIMENSIONS = 384

metadata = sa.MetaData()

timestamp = sa.DateTime(timezone=True)


def created_at_column() -> sa.Column:
    """created_at, stamped by the database."""
    return sa.Column("created_at", timestamp, nullable=False, server_default=sa.func.now())
