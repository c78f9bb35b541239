"""The dedup job types' relations and follow-ups: a sweep of the topics a job changed, the
review of a sweep's clusters, a merge of a sweep's clusters and its undo. Light to import:
the reclassify job offers a sweep of its topics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine

from jobcore.jobs import runner, store
from jobcore.jobs.follow_ups import FollowUp, RelatedJob, Relation, UndoFollowUp

SOURCE_BATCH = Relation("sourceBatchId", "dedup sweep of the topics changed by", "swept by",
                        kind="Dedup sweep of changed topics")
SOURCE_SWEEP = Relation("sourceSweepId", "merge of clusters proposed by", "merged by")
UNDO_OF = Relation("undoOf", "undo of", "undone by", kind="Undo merge",
                   unique_index="uq_admin_jobs_one_undo",
                   conflict="Merge job {source} already has an undo.")


class SweepChangedTopics(FollowUp):
    """A dedup sweep of the topics a job changed (changed embeddings can make new
    near-duplicates).
    """

    action = "dedup_sweep"
    label = "Dedup sweep these topics"
    icon = ":material/join:"
    help = "Look for near-duplicates among the topics this job changed"

    def refusal(self, job: store.JobSummary, came_of: Sequence[RelatedJob]) -> str | None:
        if not job.is_finished:
            return f"still {job.status}: sweep the topics it changed once it has finished"
        if job.success_count == 0:
            return "it changed no topic"
        return None

    def create(self, job_id: str, *, created_by: str | None = None,
               engine: Engine | None = None, **options: Any) -> runner.CreatedJob:
        return runner.create_job("dedup_sweep", {SOURCE_BATCH.key: job_id},
                                 created_by=created_by, engine=engine)


class ReviewClusters(FollowUp):
    """The Dedup clusters screen, on the sweep's clusters."""

    action = "review_clusters"
    label = "Review clusters"
    icon = ":material/join:"
    opens = "dedup"

    def refusal(self, job: store.JobSummary, came_of: Sequence[RelatedJob]) -> str | None:
        return None


class UndoMerge(UndoFollowUp):
    """A merge job that restores what a completed merge merged."""

    action = "undo_merge"
    label = "Undo merge"
    icon = ":material/undo:"
    confirm = ("Restore every merged topic with its org links, activations and history. "
               "Clusters changed since the merge are reported, not undone.")
    confirm_label = "Create undo job"
    creates = "merge"
    relation = UNDO_OF
    noun, verb, done_verb, undoes = "an undo", "undo", "undone", "merge"


SWEEP_CHANGED_TOPICS = SweepChangedTopics()
REVIEW_CLUSTERS = ReviewClusters()
UNDO_MERGE = UndoMerge()
