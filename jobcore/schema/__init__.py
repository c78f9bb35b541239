"""Tables of the catalogue and the job system (SQLAlchemy 2 Core), by area: catalog, jobs,
dedup (one metadata, in base).

The migrations in ``jobcore/migrations`` create these tables; a test checks that the two
agree. Allowed values of statuses and enumerations are enforced by CHECK constraints in
the database (see the migrations); the tuples below are what Python code reads (job
statuses for filters, platforms for credentials), and a test keeps them and the job
registry equal to the constraints.
"""

from jobcore.schema.base import (
    EMBEDDING_DIMENSIONS,
    FINISHED_STATUSES,
    JOB_STATUSES,
    PLATFORMS,
    UNFINISHED_STATUSES,
    metadata,
)
from jobcore.schema.catalog import (
    activations,
    classification_exemplars,
    demo_near_misses,
    demo_planted_duplicates,
    org_topics,
    organizations,
    sync_credentials,
    taxonomy_nodes,
    topic_embeddings,
    topic_history,
    topics,
)
from jobcore.schema.dedup import (
    claude_pair_verdicts,
    cluster_decisions,
    dedup_cluster_members,
    dedup_clusters,
    dedup_verify_pairs,
    merges,
    not_duplicate_pairs,
)
from jobcore.schema.jobs import (
    AUDIT_OUTCOMES,
    AUDIT_VIA,
    JOB_EVENT_KINDS,
    admin_job_chunks,
    admin_job_errors,
    admin_job_events,
    admin_jobs,
    audit_log,
    batch_results_staging,
    llm_batches,
    pruned_jobs,
)

__all__ = [
    "AUDIT_OUTCOMES",
    "AUDIT_VIA",
    "EMBEDDING_DIMENSIONS",
    "FINISHED_STATUSES",
    "JOB_EVENT_KINDS",
    "JOB_STATUSES",
    "PLATFORMS",
    "UNFINISHED_STATUSES",
    "activations",
    "admin_job_chunks",
    "admin_job_errors",
    "admin_job_events",
    "admin_jobs",
    "audit_log",
    "batch_results_staging",
    "classification_exemplars",
    "claude_pair_verdicts",
    "cluster_decisions",
    "dedup_cluster_members",
    "dedup_clusters",
    "dedup_verify_pairs",
    "demo_near_misses",
    "demo_planted_duplicates",
    "llm_batches",
    "merges",
    "metadata",
    "not_duplicate_pairs",
    "org_topics",
    "organizations",
    "pruned_jobs",
    "sync_credentials",
    "taxonomy_nodes",
    "topic_embeddings",
    "topic_history",
    "topics",
]
