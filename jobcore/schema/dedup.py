"""The dedup tables: a sweep's clusters and their members, analysts' decisions on them,
the pairs Claude is asked about and its verdicts, analysts' not-duplicates marks, and
merges.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from jobcore.schema.base import (
    created_at_column,
    metadata,
    timestamp,
)

merges = sa.Table(
    "merges",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("job_id", sa.Text, nullable=True),  # no foreign key: outlives a pruned job
    sa.Column("winner_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=False),
    sa.Column("loser_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=False),
    sa.Column("score", sa.Float, nullable=True),  # the pair's hybrid score
    sa.Column("moved", JSONB, nullable=False, server_default="{}"),
    created_at_column(),
    sa.Column("undone_at", timestamp, nullable=True),
    sa.Index("ix_merges_job", "job_id"),
    sa.Index("ix_merges_loser", "loser_topic_id"),
    sa.Index("ix_merges_winner", "winner_topic_id"),
)

not_duplicate_pairs = sa.Table(
    "not_duplicate_pairs",
    metadata,
    sa.Column("low_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), primary_key=True),
    sa.Column("high_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), primary_key=True),
    sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("created_by", sa.Text, nullable=False),
    created_at_column(),
    sa.Index("ix_not_duplicate_pairs_high", "high_topic_id"),
    sa.Index("ix_not_duplicate_pairs_job", "job_id"),  # a pruned job's marks are unlinked
)

dedup_clusters = sa.Table(
    "dedup_clusters",
    metadata,
    sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("winner_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=False),
    sa.Column("members", sa.ARRAY(sa.BigInteger), nullable=False),
    sa.Column("losers", JSONB, nullable=False),
    sa.Column("weakest", sa.Float, nullable=False),
    sa.Index("ix_dedup_clusters_members", "members", postgresql_using="gin"),
)

# analysts' decisions on a sweep's clusters, as made (jobcore.dedup.cluster_decisions)
cluster_decisions = sa.Table(
    "cluster_decisions",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("cluster", sa.Integer, nullable=False),  # the cluster's number in the sweep
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("topic_id", sa.BigInteger, nullable=True),  # a new winner, a member removed
    sa.Column("decided_by", sa.Text, nullable=False),
    sa.Column("decided_at", timestamp, nullable=False, server_default=sa.func.now()),
    sa.Column("undone_at", timestamp, nullable=True),
    sa.CheckConstraint("action IN ('accept', 'unaccept', 'winner', 'remove', 'reset')",
                       name="cluster_decisions_action_check"),
    sa.CheckConstraint("(action IN ('winner', 'remove')) = (topic_id IS NOT NULL)",
                       name="cluster_decisions_topic_check"),
    sa.CheckConstraint("cluster >= 1", name="cluster_decisions_cluster_check"),
    sa.Index("ix_cluster_decisions_job", "job_id", "id"),
)

# where a sweep's chunks placed each topic (read by its later chunks by topic id)
dedup_cluster_members = sa.Table(
    "dedup_cluster_members",
    metadata,
    sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("topic_id", sa.BigInteger, primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
)

dedup_verify_pairs = sa.Table(
    "dedup_verify_pairs",
    metadata,
    sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("loser_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), primary_key=True),
    sa.Column("winner_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("evidence", JSONB, nullable=False),
    sa.Column("request_no", sa.Integer),
    sa.Column("position", sa.SmallInteger),
    # pending, same, different, failed (never merged) or skipped (over maxPairs)
    sa.Column("state", sa.Text, nullable=False, server_default="pending"),
    sa.Column("confidence", sa.Float),
    sa.Column("reason", sa.Text),
    sa.Index("ix_dedup_verify_pairs_request", "job_id", "request_no"),
    sa.Index("ix_dedup_verify_pairs_winner", "job_id", "winner_topic_id"),
)

claude_pair_verdicts = sa.Table(
    "claude_pair_verdicts",
    metadata,
    sa.Column("low_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), primary_key=True),
    sa.Column("high_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), primary_key=True),
    sa.Column("same", sa.Boolean, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("score", sa.Float, nullable=False),  # the pair's score when it was asked
    sa.Column("matching", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="SET NULL")),
    created_at_column(),
    sa.Index("ix_claude_pair_verdicts_high", "high_topic_id"),
    sa.Index("ix_claude_pair_verdicts_job", "job_id"),  # a pruned job's verdicts are unlinked
)
