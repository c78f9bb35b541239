"""Which buttons a job's detail shows: only the actions valid for its type and state."""

from __future__ import annotations

from jobcore.jobs.rollback import ROLLBACK_SOURCES
from jobcore.store import JobSummary

PROCESS, RUN, STOP, CANCEL, ROLLBACK, RETRY = (
    "process", "run", "stop", "cancel", "rollback", "retry")
DEDUP_SWEEP, REVIEW_CLUSTERS, UNDO_MERGE = "dedup_sweep", "review_clusters", "undo_merge"


def available_actions(job: JobSummary, *, running: bool, rollback_id: str | None,
                      undo_id: str | None = None) -> list[str]:
    """The actions to offer, in display order.

    ``running``: the page is driving this job chunk by chunk (Run was pressed).
    ``rollback_id``: the job's existing rollback, if any; ``undo_id``: a merge job's undo.
    """
    actions: list[str] = []
    if not job.is_finished:
        actions += [STOP] if running else [PROCESS, RUN]
        actions.append(CANCEL)
        return actions
    is_reclassify = job.job_type == "reclassify"
    is_rollback = bool(job.config.get("rollbackOf"))
    rollbackable = job.job_type in ROLLBACK_SOURCES
    if rollbackable and job.status == "completed" and not is_rollback and rollback_id is None:
        actions.append(ROLLBACK)
    if is_reclassify and not is_rollback and job.error_count > 0:
        actions.append(RETRY)
    if is_reclassify and job.status == "completed" and job.success_count > 0:
        actions.append(DEDUP_SWEEP)  # changed embeddings can create new near-duplicates
    if job.job_type == "dedup_sweep":
        actions.append(REVIEW_CLUSTERS)
    if (job.job_type == "merge" and job.status == "completed" and not job.config.get("undoOf")
            and job.success_count > 0 and undo_id is None):
        actions.append(UNDO_MERGE)
    return actions
