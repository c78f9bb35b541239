"""The job store: the only code that writes ``admin_jobs`` (and its chunk log, errors and
events), split by concern: ``records`` (what a job is, as read), ``changes`` (its state
changes and events), ``chunks`` (the chunk log, the chunks in flight now) and ``related``
(the jobs a job names, and those that name it).

Every function takes an open connection (keyword ``conn``) and runs inside the caller's
transaction, so that a chunk's item writes and the job's counters commit together.
"""

from jobcore.jobs.store.changes import (
    JobEvent,
    Progress,
    cancel_job,
    create_job,
    fail_job,
    job_events,
    lock_job,
    new_job_id,
    record_event,
    release_driver,
    resume_job,
    set_background,
    update_progress,
)
from jobcore.jobs.store.chunks import (
    ChunkInFlight,
    ChunkRecord,
    chunk_application_name,
    chunks_in_flight,
    list_chunks,
    stop_chunk,
)
from jobcore.jobs.store.records import (
    FILTER_STATUSES,
    LIST_LIMIT_DEFAULT,
    LIST_LIMIT_MAX,
    LISTED_WITHOUT,
    Job,
    JobFilter,
    JobSummary,
    error_topic_ids,
    get_job,
    get_summary,
    job_errors,
    list_jobs,
    matching_jobs,
    not_found,
    pruned_job,
)
from jobcore.jobs.store.related import jobs_named_by, jobs_naming

__all__ = [
    "FILTER_STATUSES",
    "LISTED_WITHOUT",
    "LIST_LIMIT_DEFAULT",
    "LIST_LIMIT_MAX",
    "ChunkInFlight",
    "ChunkRecord",
    "Job",
    "JobEvent",
    "JobFilter",
    "JobSummary",
    "Progress",
    "cancel_job",
    "chunk_application_name",
    "chunks_in_flight",
    "create_job",
    "error_topic_ids",
    "fail_job",
    "get_job",
    "get_summary",
    "job_errors",
    "job_events",
    "jobs_named_by",
    "jobs_naming",
    "list_chunks",
    "list_jobs",
    "lock_job",
    "matching_jobs",
    "new_job_id",
    "not_found",
    "pruned_job",
    "record_event",
    "release_driver",
    "resume_job",
    "set_background",
    "stop_chunk",
    "update_progress",
]
