"""The catalogue's tables: topics and their embeddings, history and exemplars, the taxonomy
trees, organisations and their links, activations and platform credentials, the demo's
planted pairs.
"""

from __future__ import annotations

import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import JSONB

from jobcore.schema.base import (
    EMBEDDING_DIMENSIONS,
    created_at_column,
    metadata,
    timestamp,
)

organizations = sa.Table(
    "organizations",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    created_at_column(),
)

taxonomy_nodes = sa.Table(
    "taxonomy_nodes",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("taxonomy", sa.Text, nullable=False),
    sa.Column("source_id", sa.Text, nullable=False),
    sa.Column("parent_id", sa.Text, sa.ForeignKey("taxonomy_nodes.id"), nullable=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    created_at_column(),
    sa.Column("updated_at", timestamp, nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("taxonomy", "source_id", name="uq_taxonomy_nodes_source"),
    sa.Index("ix_taxonomy_nodes_parent", "parent_id"),
)

# a topic no longer live (deleted or merged): the predicate of ix_topics_gone, which a query
# must repeat word for word for the planner to use that index
GONE_TOPIC_SQL = "deleted_at IS NOT NULL OR merged_into IS NOT NULL"

topics = sa.Table(
    "topics",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("segment_type", sa.Text, nullable=True),
    sa.Column("taxonomy_type", sa.Text, nullable=True),
    sa.Column("parent_category", sa.Text, nullable=True),
    sa.Column("subcategory", sa.Text, nullable=True),
    sa.Column("audience_type", sa.Text, nullable=True),
    sa.Column("taxonomy_node_id", sa.Text, sa.ForeignKey("taxonomy_nodes.id"), nullable=True),
    sa.Column("classification_version", sa.Text, nullable=True),
    sa.Column("classification_source", sa.Text, nullable=True),
    sa.Column("classification_detail", JSONB, nullable=True),
    sa.Column("classified_at", timestamp, nullable=True),
    sa.Column("review_status", sa.Text, nullable=False, server_default="ok"),
    sa.Column("review_reason", sa.Text, nullable=True),
    # to embed: stale or never embedded (the vector lives in topic_embeddings)
    sa.Column("embedding_stale", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("merged_into", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=True),
    sa.Column("deleted_at", timestamp, nullable=True),
    created_at_column(),
    sa.Column("updated_at", timestamp, nullable=False, server_default=sa.func.now()),
    sa.Index("ix_topics_parent_category", "parent_category"),
    sa.Index("ix_topics_needs_review", "updated_at",
             postgresql_where=sa.text("review_status = 'needs_review'")),
    sa.Index("ix_topics_taxonomy_node", "taxonomy_node_id",
             postgresql_where=sa.text("taxonomy_node_id IS NOT NULL")),
    sa.Index("ix_topics_embedding_pending", "id",
             postgresql_where=sa.text("embedding_stale "
                                      "AND deleted_at IS NULL AND merged_into IS NULL")),
    # the topics no longer live and where each went (jobcore.dedup.sweep_clusters)
    sa.Index("ix_topics_gone", "id", postgresql_include=["merged_into"],
             postgresql_where=sa.text(GONE_TOPIC_SQL)),
)

# A topic's embedding, off the topics table so that a topic write never touches the vector
# index (migration 0019): the vector, the encoder that made it and the hash of its text.
topic_embeddings = sa.Table(
    "topic_embeddings",
    metadata,
    sa.Column("topic_id", sa.BigInteger, sa.ForeignKey("topics.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("embedding", Vector(EMBEDDING_DIMENSIONS), nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("text_hash", sa.Text, nullable=False),
    sa.Column("embedded_at", timestamp, nullable=False, server_default=sa.func.now()),
    sa.Index("ix_topic_embeddings_hnsw", "embedding", postgresql_using="hnsw",
             postgresql_ops={"embedding": "vector_cosine_ops"}),
)

# A classification an analyst saved or accepted, which close names follow (one live
# exemplar per match key: the parsed leaf and framing).
classification_exemplars = sa.Table(
    "classification_exemplars",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("match_key", sa.Text, nullable=False),
    sa.Column("taxonomy_node_id", sa.Text, nullable=True),
    sa.Column("segment_type", sa.Text, nullable=False),
    sa.Column("taxonomy_type", sa.Text, nullable=False),
    sa.Column("parent_category", sa.Text, nullable=False),
    sa.Column("subcategory", sa.Text, nullable=True),
    sa.Column("audience_type", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    created_at_column(),
    sa.Column("removed_at", timestamp, nullable=True),
    sa.Column("removed_by", sa.Text, nullable=True),
    sa.CheckConstraint("length(match_key) > 0", name="classification_exemplars_match_key_check"),
    sa.Index("uq_classification_exemplars_key", "match_key", unique=True,
             postgresql_where=sa.text("removed_at IS NULL")),
)

org_topics = sa.Table(
    "org_topics",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("org_id", sa.BigInteger, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=False),
    created_at_column(),
    sa.UniqueConstraint("org_id", "topic_id", name="uq_org_topics_org_topic"),
    sa.Index("ix_org_topics_topic", "topic_id"),
)

activations = sa.Table(
    "activations",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("org_id", sa.BigInteger, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=False),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("external_segment_id", sa.Text, nullable=True),
    sa.Column("pushed_name", sa.Text, nullable=True),
    sa.Column("pushed_description", sa.Text, nullable=True),
    sa.Column("pushed_topic_version", sa.Integer, nullable=True),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("last_pushed_at", timestamp, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    created_at_column(),
    sa.Column("updated_at", timestamp, nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("org_id", "topic_id", "platform", name="uq_activations_org_topic_platform"),
    sa.Index("ix_activations_topic", "topic_id"),
)

topic_history = sa.Table(
    "topic_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=False),
    # no foreign key: a topic's history outlives the job that wrote it (retention)
    sa.Column("job_id", sa.Text, nullable=True),  # the job that wrote it (none: an edit)
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("previous_values", JSONB, nullable=False, server_default="{}"),
    sa.Column("new_values", JSONB, nullable=False, server_default="{}"),
    created_at_column(),
    sa.Column("created_by", sa.Text, nullable=True),
    sa.Index("ix_topic_history_job", "job_id", "id"),
    sa.Index("ix_topic_history_topic", "topic_id", sa.text("created_at DESC")),
)

sync_credentials = sa.Table(
    "sync_credentials",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("org_id", sa.BigInteger, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("encrypted", sa.Boolean, nullable=False, server_default=sa.false()),
    created_at_column(),
    sa.Column("updated_at", timestamp, nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("org_id", "platform", name="uq_sync_credentials_org_platform"),
)

demo_planted_duplicates = sa.Table(
    "demo_planted_duplicates",
    metadata,
    sa.Column("topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), primary_key=True),
    sa.Column("original_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=False),
    sa.Column("variant", sa.Text, nullable=False),
)

demo_near_misses = sa.Table(
    "demo_near_misses",
    metadata,
    sa.Column("topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), primary_key=True),
    sa.Column("other_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
)
