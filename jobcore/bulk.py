"""Bulk actions over a filter: cancel, or retry the errors of, every job a JobFilter matches.

Two steps, as the Jobs page and the API show them: ``plan`` counts the matching jobs and
says which the action would take and why it would refuse the others (finished, nothing to
retry, a retry already running); ``apply`` then acts on exactly the planned jobs, one at a
time (each in its own transaction, through the same calls as a single job's buttons), and
reports what succeeded and what was refused with the reason (a job that finished or got a
retry meanwhile). At most MAX_JOBS jobs in one action.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jobcore import audit
from jobcore.classify import recovery
from jobcore.classify.segment_classifier import current_version
from jobcore.db import get_engine
from jobcore.errors import JobcoreError, UsageError
from jobcore.jobs import relations, runner, store
from jobcore.jobs.follow_ups import RelatedJob
from jobcore.jobs.registry import get_handler

CANCEL, RETRY_ERRORS = "cancel", "retry_errors"
ACTIONS = (CANCEL, RETRY_ERRORS)
MAX_JOBS = 10_000
CANCEL_WAIT_SECONDS = 3.0  # a job's chunk in flight: wait this long, then refuse it


@dataclass(frozen=True)
class Refusal:
    """A job the action does not (or did not) take, and why."""

    job_id: str
    reason: str


@dataclass(frozen=True)
class BulkPlan:
    """What an action over a filter would do: the jobs it takes, the others and why."""

    action: str
    filters: store.JobFilter
    matching: int
    job_ids: tuple[str, ...]
    refusals: tuple[Refusal, ...]

    def reasons(self) -> list[tuple[str, int]]:
        """The refusals' reasons with their counts, most common first."""
        return Counter(r.reason for r in self.refusals).most_common()

    def question(self) -> str:
        """The confirmation to ask ("Cancel 12 jobs matching ...?")."""
        verb = {CANCEL: "Cancel", RETRY_ERRORS: "Retry the errors of"}[self.action]
        return f"{verb} {_jobs(len(self.job_ids))} {matching(self.filters)}?"

    def count(self) -> str:
        """How many jobs match ("3 jobs match status failed.")."""
        verb = "matches" if self.matching == 1 else "match"
        words = self.filters.describe()
        if not self.matching:
            return f"No job matches {words}." if words else "There are no jobs."
        return (f"{_jobs(self.matching)} {verb} {words}." if words
                else f"{_jobs(self.matching)} in all (no filters set).")


@dataclass(frozen=True)
class Done:
    """A job the action took; ``created``: the retry job it made."""

    job_id: str
    created: str | None = None


@dataclass(frozen=True)
class BulkResult:
    """What an applied action did."""

    action: str
    filters: store.JobFilter
    succeeded: tuple[Done, ...]
    refused: tuple[Refusal, ...]

    def summary(self) -> str:
        """One sentence: what was done over which filters, how many were refused."""
        did = {CANCEL: "Cancelled", RETRY_ERRORS: "Created retry jobs for"}[self.action]
        line = f"{did} {_jobs(len(self.succeeded))} {matching(self.filters)}"
        if self.refused:
            line += f"; refused {len(self.refused):,} (reasons below)"
        return line + "."


def _jobs(n: int) -> str:
    return f"{n:,} job{'s' if n != 1 else ''}"


def matching(filters: store.JobFilter) -> str:
    """"matching status failed", or "(no filters set)"."""
    words = filters.describe()
    return f"matching {words}" if words else "(no filters set)"


def _cancel_refusal(job: store.JobSummary) -> str | None:
    return None if not job.is_finished else f"already {job.status}"


def _retry_refusal(job: store.JobSummary, came_of: list[RelatedJob]) -> str | None:
    retry = relations.follow_up(job, recovery.RETRY_ERRORS.action)
    if retry is None:
        return f"a {get_handler(job.job_type).label} job has no retry of errors"
    return retry.refusal(job, came_of)


def plan(action: str, filters: store.JobFilter, *, engine: Engine | None = None) -> BulkPlan:
    """The jobs ``action`` would take among those ``filters`` match; UsageError when more
    than MAX_JOBS match (narrow the filters) or the action is unknown.
    """
    if action not in ACTIONS:
        raise UsageError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}.")
    engine = engine or get_engine()
    audit.allowed("bulk", details={"bulk": action}, engine=engine)  # the plan: a refusal only
    with engine.connect() as conn:
        jobs = store.matching_jobs(conn, filters, limit=MAX_JOBS + 1)
        if len(jobs) > MAX_JOBS:
            raise UsageError(f"More than {MAX_JOBS:,} jobs {matching(filters)}; a bulk "
                             f"action takes at most {MAX_JOBS:,}: narrow the filters (type, "
                             "status, creator, created since).")
        came_of = (relations.came_of_each(conn, [j for j in jobs if j.error_count])
                   if action == RETRY_ERRORS else {})
        taken: list[str] = []
        refusals: list[Refusal] = []
        for job in jobs:
            reason = (_cancel_refusal(job) if action == CANCEL
                      else _retry_refusal(job, came_of.get(job.id, []))
                      or recovery.only_rule_misses(conn, job, current_version()))
            if reason is None:
                taken.append(job.id)
            else:
                refusals.append(Refusal(job.id, reason))
    return BulkPlan(action, filters, len(jobs), tuple(taken), tuple(refusals))


def confirmed(planned: BulkPlan, job_ids: list[str]) -> BulkPlan:
    """The plan narrowed to the jobs a caller confirmed (a dry run's jobIds): those the
    action still takes; a confirmed job it no longer takes is refused with the reason, and
    a job that matches only now is left alone (nobody confirmed it).
    """
    wanted = set(job_ids)
    reasons = {r.job_id: r.reason for r in planned.refusals}
    refusals = [Refusal(j, reasons.get(j, "no longer matches the filters"))
                for j in sorted(wanted - set(planned.job_ids))]
    return BulkPlan(planned.action, planned.filters, planned.matching,
                    tuple(j for j in planned.job_ids if j in wanted), tuple(refusals))


def apply(planned: BulkPlan, *, by: str, engine: Engine | None = None,
          on_job: Callable[[int], None] | None = None) -> BulkResult:
    """Act on the planned jobs, one transaction each; a job that can no longer be taken
    (finished, busy for more than CANCEL_WAIT_SECONDS, retried meanwhile) is refused with
    the reason. ``on_job(done_so_far)`` after each (a progress bar).
    """
    engine = engine or get_engine()
    details = {"bulk": planned.action, "filters": matching(planned.filters),
               "jobs": len(planned.job_ids)}
    with audit.action("bulk", details=details, engine=engine) as said:
        result = _apply(planned, by=by, engine=engine, on_job=on_job)
        said["details"] = {"succeeded": len(result.succeeded), "refused": len(result.refused)}
    return result


def _apply(planned: BulkPlan, *, by: str, engine: Engine,
           on_job: Callable[[int], None] | None) -> BulkResult:
    succeeded: list[Done] = []
    refused: list[Refusal] = []
    note = f"bulk cancel of {_jobs(len(planned.job_ids))} {matching(planned.filters)}"
    for n, job_id in enumerate(planned.job_ids, start=1):
        try:
            if planned.action == CANCEL:
                runner.cancel_job(job_id, by=by, message=note,
                                  wait_seconds=CANCEL_WAIT_SECONDS, engine=engine)
                succeeded.append(Done(job_id))
            else:
                created = recovery.create_retry(job_id, created_by=by, engine=engine)
                succeeded.append(Done(job_id, created.id))
        except JobcoreError as exc:
            refused.append(Refusal(job_id, str(exc)))
        except sa.exc.SQLAlchemyError as exc:  # e.g. a deadlock: this job only, the rest go on
            first = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            refused.append(Refusal(job_id, f"database error: {first}"))
        if on_job is not None:
            on_job(n)
    return BulkResult(planned.action, planned.filters, tuple(succeeded), tuple(refused))
