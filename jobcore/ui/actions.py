"""Which buttons a job's detail shows: only the actions valid for its type and state, as
the job type declares them (its rollback and follow-ups) and the job's state allows.
"""

from __future__ import annotations

from jobcore.jobs.base import FollowUp
from jobcore.jobs.registry import get_handler
from jobcore.jobs.store import JobSummary

PROCESS, RUN, STOP, CANCEL, ROLLBACK = "process", "run", "stop", "cancel", "rollback"
RESUME = "resume"
RETRY = FollowUp.RETRY_ERRORS.value
DEDUP_SWEEP = FollowUp.DEDUP_SWEEP.value
REVIEW_CLUSTERS = FollowUp.REVIEW_CLUSTERS.value
UNDO_MERGE = FollowUp.UNDO_MERGE.value


def available_actions(job: JobSummary, *, running: bool, rollback_id: str | None,
                      undo_id: str | None = None) -> list[str]:
    """The actions to offer, in display order.

    ``running``: the page is driving this job chunk by chunk (Run was pressed).
    ``rollback_id``: the job's existing rollback, if any; ``undo_id``: a merge job's undo.
    """
    if not job.is_finished:
        return [STOP, CANCEL] if running else [PROCESS, RUN, CANCEL]
    # a failed job whose staged LLM answers retention removed cannot go on
    resume = [RESUME] if job.status == "failed" and not job.staged_pruned else []
    handler = get_handler(job.job_type)
    completed = job.status == "completed"
    is_rollback = bool(job.config.get("rollbackOf"))
    offered = {
        # a job that changed nothing has nothing to roll back
        ROLLBACK: handler.rollback is not None and completed and not is_rollback
        and rollback_id is None and job.success_count > 0,
        RETRY: handler.retry_errors_refusal(job) is None,
        # changed embeddings can create new near-duplicates
        DEDUP_SWEEP: completed and job.success_count > 0,
        REVIEW_CLUSTERS: True,
        UNDO_MERGE: completed and not job.config.get("undoOf") and job.success_count > 0
        and undo_id is None,
    }
    declared = {ROLLBACK, *(f.value for f in handler.follow_ups)}
    return resume + [action for action in (ROLLBACK, RETRY, DEDUP_SWEEP, REVIEW_CLUSTERS,
                                           UNDO_MERGE)
                     if action in declared and offered[action]]
