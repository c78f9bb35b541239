"""Tables of the catalogue and the job system (SQLAlchemy 2 Core).

The migrations in ``jobcore/migrations`` create these tables; a test checks that the two
agree. Allowed values of statuses and enumerations are enforced by CHECK constraints in
the database (see the migrations); the tuples below are what Python code reads (job
statuses for filters, platforms for credentials), and a test keeps them and the job
registry equal to the constraints.
"""

from __future__ import annotations

import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import JSONB

JOB_STATUSES = ("pending", "processing", "completed", "failed", "cancelled")
FINISHED_STATUSES = ("completed", "failed", "cancelled")
UNFINISHED_STATUSES = ("pending", "processing")
PLATFORMS = ("liveramp", "the_trade_desk")
EMBEDDING_DIMENSIONS = 384

metadata = sa.MetaData()

_ts = sa.DateTime(timezone=True)


def _created_at() -> sa.Column:
    return sa.Column("created_at", _ts, nullable=False, server_default=sa.func.now())


organizations = sa.Table(
    "organizations",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    _created_at(),
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
    _created_at(),
    sa.Column("updated_at", _ts, nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("taxonomy", "source_id", name="uq_taxonomy_nodes_source"),
    sa.Index("ix_taxonomy_nodes_parent", "parent_id"),
)

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
    sa.Column("classified_at", _ts, nullable=True),
    sa.Column("review_status", sa.Text, nullable=False, server_default="ok"),
    sa.Column("review_reason", sa.Text, nullable=True),
    # to embed: stale or never embedded (the vector lives in topic_embeddings)
    sa.Column("embedding_stale", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("merged_into", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=True),
    sa.Column("deleted_at", _ts, nullable=True),
    _created_at(),
    sa.Column("updated_at", _ts, nullable=False, server_default=sa.func.now()),
    sa.Index("ix_topics_parent_category", "parent_category"),
    sa.Index("ix_topics_needs_review", "updated_at",
             postgresql_where=sa.text("review_status = 'needs_review'")),
    sa.Index("ix_topics_taxonomy_node", "taxonomy_node_id",
             postgresql_where=sa.text("taxonomy_node_id IS NOT NULL")),
    sa.Index("ix_topics_embedding_pending", "id",
             postgresql_where=sa.text("embedding_stale "
                                      "AND deleted_at IS NULL AND merged_into IS NULL")),
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
    sa.Column("embedded_at", _ts, nullable=False, server_default=sa.func.now()),
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
    _created_at(),
    sa.Column("removed_at", _ts, nullable=True),
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
    _created_at(),
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
    sa.Column("last_pushed_at", _ts, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    _created_at(),
    sa.Column("updated_at", _ts, nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("org_id", "topic_id", "platform", name="uq_activations_org_topic_platform"),
    sa.Index("ix_activations_topic", "topic_id"),
)

admin_jobs = sa.Table(
    "admin_jobs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("job_type", sa.Text, nullable=False),
    sa.Column("org_id", sa.BigInteger, sa.ForeignKey("organizations.id"), nullable=True),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("config", JSONB, nullable=False, server_default="{}"),
    sa.Column("total_items", sa.Integer, nullable=False, server_default="0"),
    sa.Column("processed_items", sa.Integer, nullable=False, server_default="0"),
    sa.Column("success_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("skip_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("result", JSONB, nullable=False, server_default="{}"),
    _created_at(),
    sa.Column("started_at", _ts, nullable=True),
    sa.Column("completed_at", _ts, nullable=True),
    sa.Column("updated_at", _ts, nullable=False, server_default=sa.func.now()),
    sa.Column("last_progress_at", _ts, nullable=True),
    sa.Column("failure_message", sa.Text, nullable=True),
    sa.Column("cursor", JSONB, nullable=False, server_default="{}"),
    sa.Column("chunk_count", sa.Integer, nullable=False, server_default="0"),
    # handed to the workers (python -m jobcore worker) rather than driven by a page
    sa.Column("background", sa.Boolean, nullable=False, server_default=sa.false()),
    # retention removed the finished job's chunk log and staged LLM results (how many of
    # those: a job whose staged answers went cannot be resumed)
    sa.Column("log_pruned_at", _ts, nullable=True),
    sa.Column("staged_pruned", sa.Integer, nullable=False, server_default="0"),
    # the job this one came from and how (a handler's Relation: "rollbackOf" and the like, as
    # its config names it); columns of their own so that no index reads the config, which a
    # merge makes large and every progress update would decompress
    sa.Column("source_key", sa.Text, nullable=True),
    sa.Column("source_job_id", sa.Text, nullable=True),
    sa.CheckConstraint("(source_key IS NULL) = (source_job_id IS NULL) AND source_key IN "
                       "('rollbackOf', 'retryOf', 'sourceBatchId', 'sourceSweepId', 'undoOf')",
                       name="admin_jobs_source_check"),
    sa.Index("ix_admin_jobs_source", "source_job_id",
             postgresql_where=sa.text("source_job_id IS NOT NULL")),
    # the job list's filters, newest first
    sa.Index("ix_admin_jobs_type_status_created", "job_type", "status",
             sa.text("created_at DESC")),
    sa.Index("ix_admin_jobs_status_created", "status", sa.text("created_at DESC")),
    sa.Index("ix_admin_jobs_creator_created", "created_by", sa.text("created_at DESC")),
    # what retention looks for
    sa.Index("ix_admin_jobs_log_to_prune", "completed_at",
             postgresql_where=sa.text("log_pruned_at IS NULL AND status IN ('completed', "
                                      "'failed', 'cancelled')")),
    sa.Index("ix_admin_jobs_finished", "completed_at",
             postgresql_where=sa.text("status IN ('completed', 'failed', 'cancelled')")),
    sa.Index("ix_admin_jobs_background", "last_progress_at",
             postgresql_where=sa.text("background AND status IN ('pending', 'processing')")),
    sa.Index("ix_admin_jobs_created_at", sa.text("created_at DESC")),
    sa.Index("ix_admin_jobs_org_created_at", "org_id", sa.text("created_at DESC")),
    sa.Index("uq_admin_jobs_one_rollback", "source_job_id", unique=True,
             postgresql_where=sa.text("source_key = 'rollbackOf' AND status IN ('pending', "
                                      "'processing', 'completed')")),
    sa.Index("uq_admin_jobs_one_undo", "source_job_id", unique=True,
             postgresql_where=sa.text("source_key = 'undoOf' AND status IN ('pending', "
                                      "'processing', 'completed')")),
    sa.Index("uq_admin_jobs_one_live_retry", "source_job_id", unique=True,
             postgresql_where=sa.text("source_key = 'retryOf' AND status IN ('pending', "
                                      "'processing')")),
    sa.CheckConstraint("processed_items <= total_items",
                       name="admin_jobs_processed_within_total"),
)

# A job's item errors ({id?, name?, message}), in the order recorded.
admin_job_errors = sa.Table(
    "admin_job_errors",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("topic_id", sa.BigInteger, nullable=True),
    sa.Column("error", JSONB, nullable=False),
    sa.Index("ix_admin_job_errors_job", "job_id", "id"),
)

JOB_EVENT_KINDS = ("failed", "resumed", "chunk_stopped", "to_background", "taken_over",
                   "cancelled", "pruned")

# What happened to a job besides its chunks, with who and why.
admin_job_events = sa.Table(
    "admin_job_events",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("created_by", sa.Text, nullable=True),
    _created_at(),
    sa.CheckConstraint(f"kind IN ({', '.join(repr(k) for k in JOB_EVENT_KINDS)})",
                       name="admin_job_events_kind_check"),
    sa.Index("ix_admin_job_events_job", "job_id", "id"),
)

AUDIT_OUTCOMES = ("done", "refused", "failed")
AUDIT_VIA = ("page", "api", "cli", "worker", "library")

# Every action people (and tokens) take, append-only for the application: a trigger refuses
# UPDATE, and DELETE unless retention sets jobcore.audit_prune (migration 0021).
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("at", _ts, nullable=False, server_default=sa.func.now()),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("via", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=True),  # a job id, topic ids, an organisation
    sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=True),
    sa.CheckConstraint(f"outcome IN ({', '.join(repr(o) for o in AUDIT_OUTCOMES)})",
                       name="audit_log_outcome_check"),
    sa.CheckConstraint(f"via IN ({', '.join(repr(v) for v in AUDIT_VIA)})",
                       name="audit_log_via_check"),
    sa.Index("ix_audit_log_at", "at"),
    sa.Index("ix_audit_log_actor_at", "actor", "at"),
)

admin_job_chunks = sa.Table(
    "admin_job_chunks",
    metadata,
    sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("started_at", _ts, nullable=False),
    sa.Column("finished_at", _ts, nullable=False),
    sa.Column("processed", sa.Integer, nullable=False),
    sa.Column("success", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("skips", sa.Integer, nullable=False),
    sa.Column("driven_by", sa.Text, nullable=True),  # the page's user, the CLI's, a token's
    # a one-time load inside the chunk (an embedding model): its seconds and what it was
    sa.Column("load_seconds", sa.Float, nullable=False, server_default="0"),
    sa.Column("loaded", sa.Text, nullable=True),
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
    _created_at(),
    sa.Column("created_by", sa.Text, nullable=True),
    sa.Index("ix_topic_history_job", "job_id", "id"),
    sa.Index("ix_topic_history_topic", "topic_id", sa.text("created_at DESC")),
)

# What is left of a finished job that retention removed.
pruned_jobs = sa.Table(
    "pruned_jobs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("job_type", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("completed_at", _ts, nullable=True),
    sa.Column("total_items", sa.Integer, nullable=False),
    sa.Column("success_count", sa.Integer, nullable=False),
    sa.Column("error_count", sa.Integer, nullable=False),
    sa.Column("pruned_at", _ts, nullable=False, server_default=sa.func.now()),
)

batch_results_staging = sa.Table(
    "batch_results_staging",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("custom_id", sa.Text, nullable=False),
    sa.Column("batch_id", sa.Text, nullable=False),
    sa.Column("result_type", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    _created_at(),
    sa.UniqueConstraint("job_id", "custom_id", name="uq_staging_job_custom_id"),
)

merges = sa.Table(
    "merges",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("job_id", sa.Text, nullable=True),  # no foreign key: outlives a pruned job
    sa.Column("winner_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=False),
    sa.Column("loser_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), nullable=False),
    sa.Column("similarity", sa.Float, nullable=True),
    sa.Column("moved", JSONB, nullable=False, server_default="{}"),
    _created_at(),
    sa.Column("undone_at", _ts, nullable=True),
    sa.Index("ix_merges_job", "job_id"),
    sa.Index("ix_merges_loser", "loser_topic_id"),
)

not_duplicate_pairs = sa.Table(
    "not_duplicate_pairs",
    metadata,
    sa.Column("low_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), primary_key=True),
    sa.Column("high_topic_id", sa.BigInteger, sa.ForeignKey("topics.id"), primary_key=True),
    sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("created_by", sa.Text, nullable=False),
    _created_at(),
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

# where a sweep's chunks placed each topic (read by its later chunks by topic id)
dedup_cluster_members = sa.Table(
    "dedup_cluster_members",
    metadata,
    sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("topic_id", sa.BigInteger, primary_key=True),
    sa.Column("similarity", sa.Float, nullable=False),
)

llm_batches = sa.Table(
    "llm_batches",
    metadata,
    sa.Column("batch_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, nullable=False),  # no FK: see migration 0006
    # the custom ids of its requests: topic ids, or a sweep's request numbers
    sa.Column("request_ids", sa.ARRAY(sa.BigInteger), nullable=False),
    sa.Column("confirmed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("status", sa.Text, nullable=False, server_default="in_progress"),
    sa.Column("counts", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("results_url", sa.Text),
    sa.Column("staged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
    _created_at(),
    sa.Index("ix_llm_batches_job_id", "job_id"),
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
    _created_at(),
    sa.Index("ix_claude_pair_verdicts_high", "high_topic_id"),
    sa.Index("ix_claude_pair_verdicts_job", "job_id"),  # a pruned job's verdicts are unlinked
)

sync_credentials = sa.Table(
    "sync_credentials",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("org_id", sa.BigInteger, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("encrypted", sa.Boolean, nullable=False, server_default=sa.false()),
    _created_at(),
    sa.Column("updated_at", _ts, nullable=False, server_default=sa.func.now()),
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
