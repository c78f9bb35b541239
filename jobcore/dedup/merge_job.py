"""merge: merge reviewed clusters into their winners, 10 clusters a chunk; or undo one.

``clusters`` are ``{winner, losers: [{id, score?}]}`` as a dedup sweep proposes them
(after review). A cluster with a member already merged or deleted, or a winner that is
gone, is that cluster's error and the job goes on. With ``undoOf`` the job instead undoes
a completed merge job, cluster by cluster (see jobcore.dedup.merging).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import AliasChoices, Field
from sqlalchemy.engine import Connection

from jobcore.catalog import topic_store
from jobcore.dedup import merging
from jobcore.dedup.follow_ups import SOURCE_SWEEP, UNDO_MERGE, UNDO_OF
from jobcore.errors import ConfigError, Conflict
from jobcore.jobs import relations, store
from jobcore.jobs.base import (
    INTERNAL,
    JOB_ID_PATTERN,
    ChunkOutcome,
    ItemError,
    JobConfig,
    JobCursor,
    JobHandler,
    JobPlan,
    JobResult,
    take_slice,
)
from jobcore.jobs.follow_ups import DetailTable
from jobcore.jobs.registry import register
from jobcore.jobs.store import Job, JobSummary
from jobcore.schema import admin_jobs

CHUNK_SIZE = 100  # clusters a chunk (bench/merge.py: 10 a chunk ran at a third of the rate)
MAX_CLUSTERS = 50_000
MAX_LOSERS = 200


class MergeVerdict(JobConfig):
    """Claude's verdict on a pair the sweep was unsure of (kept with the evidence)."""

    confidence: float = Field(ge=0.0, le=1.0)
    reason: str = Field(max_length=2000)
    earlier: bool = False


class MergeLoser(JobConfig):
    """A loser as the sweep proposed it: its score and (kept with the sweep, not the merge)
    the evidence behind it.
    """

    id: int = Field(ge=1, description="Topic merged into the winner.")
    # the pair's score; ``similarity``, its name before, is still read
    score: float | None = Field(default=None, ge=-1.0, le=1.0,
                                validation_alias=AliasChoices("score", "similarity"))
    semantic: float | None = Field(default=None, ge=-1.0, le=1.0)
    lexical: float | None = Field(default=None, ge=0.0, le=1.0)
    shared: list[str] = Field(default_factory=list, max_length=100)
    unshared: list[str] = Field(default_factory=list, max_length=100)
    claude: MergeVerdict | None = None


class MergeCluster(JobConfig):
    winner: int = Field(ge=1, description="Topic that stays.")
    losers: list[MergeLoser] = Field(min_length=1, max_length=MAX_LOSERS)
    number: int | None = Field(default=None, ge=1, le=10**9,
                               description="The cluster's number in its sweep (as reviewed).")


class MergeConfig(JobConfig):
    clusters: list[MergeCluster] = Field(default_factory=list, max_length=MAX_CLUSTERS,
                                         description="Clusters to merge.")
    source_sweep_id: str | None = Field(default=None, pattern=JOB_ID_PATTERN,
                                        description="The dedup sweep they came from.")
    undo_of: str | None = Field(default=None, pattern=JOB_ID_PATTERN,
                                json_schema_extra=INTERNAL)

    def plans(self, start: int = 0, stop: int | None = None) -> list[merging.MergePlan]:
        return [merging.MergePlan(c.winner, tuple((m.id, m.score) for m in c.losers))
                for c in self.clusters[start:stop]]


class MergeResult(JobResult):
    """What a merge (or its undo) did so far."""

    merged_clusters: int = 0
    merged_topics: int = 0
    restored_topics: int = 0  # an undo's


class MergeCursor(JobCursor):
    """Where a merge stands: the number of clusters done (in the config's order); an
    undo's, the merge row it undid last (merged clusters are undone by their first
    merge row's id).
    """

    next: int = 0
    after: int = 0


@register
class MergeHandler(JobHandler[MergeConfig]):
    job_type = "merge"
    label = "Merge"
    description = ("Merge reviewed clusters into their winners (org links, activations, "
                   "history); undoable.")
    config_model = MergeConfig
    result_model = MergeResult
    form_creatable = False  # the Dedup Clusters screen supplies the reviewed clusters
    relations = (SOURCE_SWEEP, UNDO_OF)
    follow_ups = (UNDO_MERGE,)

    def detail_tables(self, conn: Connection, job: JobSummary) -> list[DetailTable]:
        given = MergeConfig.model_validate(job.config).clusters
        if not given:
            return []
        ids = [i for c in given for i in (c.winner, *(m.id for m in c.losers))]
        names = topic_store.names_of(conn, ids)
        merged = "Clusters merged" if job.status == "completed" else "Clusters to merge"
        undo = next((r.job for r in relations.came_of(conn, job)
                     if r.key == UNDO_OF.key and r.job.status == "completed"), None)
        if undo is not None:
            merged = f"Clusters merged, then undone by {undo.id}"
        return [DetailTable(f"{merged} ({len(given):,})", merged_clusters_rows(given, names),
                            expanded=len(given) <= 20,
                            number_formats={"Weakest score": "%.3f"})]

    def normalize_config(self, config: MergeConfig) -> MergeConfig:
        if config.undo_of is not None:
            if config.clusters:
                raise ConfigError("Invalid config for merge: undoOf cannot be combined with "
                                  "clusters", field="clusters")
            return config
        if not config.clusters:
            raise ConfigError("Invalid config for merge: clusters: give at least one cluster",
                              field="clusters")
        seen: dict[int, int] = {}
        for index, cluster in enumerate(config.clusters):
            for topic_id in (cluster.winner, *(m.id for m in cluster.losers)):
                if topic_id in seen:
                    where = ("twice in cluster" if seen[topic_id] == index
                             else f"in clusters {seen[topic_id]} and")
                    raise ConfigError(f"Invalid config for merge: clusters: topic {topic_id} "
                                      f"is {where} {index}", field="clusters")
                seen[topic_id] = index
        return config

    def plan(self, conn: Connection, config: MergeConfig, *, org_id: int | None) -> JobPlan:
        if config.undo_of is not None:
            return JobPlan(total_items=len(check_undo_source(conn, config.undo_of)),
                           cursor=MergeCursor())
        return JobPlan(total_items=len(config.clusters), cursor=MergeCursor())

    def process(self, conn: Connection, job: Job, config: MergeConfig,
                deadline: float) -> ChunkOutcome:
        if config.undo_of is not None:
            return self._undo(conn, job, config.undo_of, deadline)
        start = MergeCursor.of(job.cursor).next
        chunk = take_slice(lambda n: config.plans(start, start + n), size=CHUNK_SIZE,
                           deadline=deadline)
        plans = list(chunk.within_budget())  # merged together, in one statement
        not_merged = merging.merge_clusters(conn, plans, job_id=job.id,
                                         created_by=job.created_by)
        outcome = ChunkOutcome(cursor=MergeCursor(next=start + len(plans)), done=False)
        outcome.errors = [ItemError(reason, id=winner) for winner, reason in not_merged.items()]
        outcome.success = len(plans) - len(not_merged)
        merged = [{"winner": c.winner, "losers": [i for i, _ in c.losers]}
                  for c in plans if c.winner not in not_merged]
        so_far = MergeResult.of(job.result)
        outcome.result_patch = so_far.model_copy(update={
            "merged_clusters": so_far.merged_clusters + len(merged),
            "merged_topics": so_far.merged_topics + sum(len(m["losers"]) for m in merged),
        }).patch("merged_clusters", "merged_topics")
        outcome.done = chunk.done(outcome.processed)
        return outcome

    def _undo(self, conn: Connection, job: Job, source_id: str,
              deadline: float) -> ChunkOutcome:
        after = MergeCursor.of(job.cursor).after
        chunk = take_slice(lambda n: merging.merged_clusters(conn, source_id, after=after,
                                                             limit=n),
                           size=CHUNK_SIZE, deadline=deadline)
        clusters = list(chunk.within_budget())  # undone together
        not_undone = merging.undo_clusters(conn, clusters, job_id=job.id,
                                        created_by=job.created_by)
        outcome = ChunkOutcome(
            cursor=MergeCursor(after=clusters[-1].merge_ids[0] if clusters else after),
            done=False)
        outcome.errors = [ItemError(reason, id=winner) for winner, reason in not_undone.items()]
        outcome.success = len(clusters) - len(not_undone)
        restored = sum(len(c.merge_ids) for c in clusters if c.winner not in not_undone)
        so_far = MergeResult.of(job.result)
        outcome.result_patch = so_far.model_copy(update={
            "restored_topics": so_far.restored_topics + restored}).patch("restored_topics")
        outcome.done = chunk.done(outcome.processed)
        return outcome


def merged_clusters_rows(clusters: list[MergeCluster], names: dict[int, str]
                         ) -> list[dict[str, Any]]:
    """The clusters a merge job was given: winner and losers by name, with the weakest
    score (for its detail).
    """
    rows = []
    for position, cluster in enumerate(clusters, start=1):
        scores = [m.score for m in cluster.losers if m.score is not None]
        rows.append({
            "#": cluster.number or position,
            "Winner": f"{names.get(cluster.winner, '?')} · #{cluster.winner}",
            "Losers": "; ".join(f"{names.get(m.id, '?')} · #{m.id}" for m in cluster.losers),
            "Weakest score": min(scores, default=None),
        })
    return rows


def check_undo_source(conn: Connection, source_id: str) -> list[merging.MergedRecord]:
    """The clusters an undo of ``source_id`` would restore; Conflict unless it is a
    completed merge (not itself an undo) with no other undo, and something to restore.
    """
    source = conn.execute(sa.select(admin_jobs.c.job_type, admin_jobs.c.status,
                                    admin_jobs.c.config)
                          .where(admin_jobs.c.id == source_id)).first()
    if source is None and store.pruned_job(conn, source_id) is not None:
        raise store.not_found(conn, source_id)  # "pruned on <date>": it cannot be undone
    if source is None:
        raise ConfigError(f"Invalid config for merge: undoOf: there is no job {source_id}",
                          field="undoOf")
    if source.job_type != "merge":
        raise ConfigError(f"Invalid config for merge: undoOf: {source_id} is a "
                          f"{source.job_type} job, not a merge job", field="undoOf")
    UNDO_MERGE.check(conn, source_id)
    clusters = merging.merged_clusters(conn, source_id)
    if not clusters:
        raise Conflict(f"Merge job {source_id} has nothing left to undo.")
    return clusters
