"""The job system's tables: jobs, their errors, events and chunk log, what retention left of
pruned jobs, the audit log, and the LLM jobs' message batches and staged results.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from jobcore.schema.base import (
    created_at_column,
    metadata,
    timestamp,
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
    created_at_column(),
    sa.Column("started_at", timestamp, nullable=True),
    sa.Column("completed_at", timestamp, nullable=True),
    sa.Column("updated_at", timestamp, nullable=False, server_default=sa.func.now()),
    sa.Column("last_progress_at", timestamp, nullable=True),
    sa.Column("failure_message", sa.Text, nullable=True),
    sa.Column("cursor", JSONB, nullable=False, server_default="{}"),
    sa.Column("chunk_count", sa.Integer, nullable=False, server_default="0"),
    # handed to the workers (python -m jobcore worker) rather than driven by a page
    sa.Column("background", sa.Boolean, nullable=False, server_default=sa.false()),
    # who drives it now, between two chunks too (a page's user, "<user> (command line)"):
    # set by each chunk, cleared when that driver stops; None: nobody (jobs.drive)
    sa.Column("driver", sa.Text, nullable=True),
    # retention removed the finished job's chunk log and staged LLM results (how many of
    # those: a job whose staged answers went cannot be resumed)
    sa.Column("log_pruned_at", timestamp, nullable=True),
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
    sa.Index("ix_admin_job_errors_topic", "topic_id",  # a topic's page
             postgresql_where=sa.text("topic_id IS NOT NULL")),
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
    created_at_column(),
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
    sa.Column("at", timestamp, nullable=False, server_default=sa.func.now()),
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
    sa.Column("started_at", timestamp, nullable=False),
    sa.Column("finished_at", timestamp, nullable=False),
    sa.Column("processed", sa.Integer, nullable=False),
    sa.Column("success", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("skips", sa.Integer, nullable=False),
    sa.Column("driven_by", sa.Text, nullable=True),  # the page's user, the CLI's, a token's
    # a one-time load inside the chunk (an embedding model): its seconds and what it was
    sa.Column("load_seconds", sa.Float, nullable=False, server_default="0"),
    sa.Column("loaded", sa.Text, nullable=True),
)

# What is left of a finished job that retention removed.
pruned_jobs = sa.Table(
    "pruned_jobs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("job_type", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", timestamp, nullable=False),
    sa.Column("completed_at", timestamp, nullable=True),
    sa.Column("total_items", sa.Integer, nullable=False),
    sa.Column("success_count", sa.Integer, nullable=False),
    sa.Column("error_count", sa.Integer, nullable=False),
    sa.Column("pruned_at", timestamp, nullable=False, server_default=sa.func.now()),
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
    created_at_column(),
    sa.UniqueConstraint("job_id", "custom_id", name="uq_staging_job_custom_id"),
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
    created_at_column(),
    sa.Index("ix_llm_batches_job_id", "job_id"),
)
