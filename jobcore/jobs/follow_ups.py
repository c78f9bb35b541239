"""What a job type declares about the jobs around its jobs, as data its handler carries:

- a ``Relation``: a config key by which a job names the job it came from ("rollbackOf"),
  the words for both ends ("rollback of" / "rolled back by"), the kind of job it makes
  ("Rollback") and, when only one may exist per source, the unique index that says so and
  the message for a second one;
- a ``FollowUp``: an action a finished job's detail offers (Rollback, Retry errors, Undo
  merge...). Its ``refusal`` is the one rule for whether it is offered: the page asks it to
  show the button, a bulk action to take the job, and the created job's ``plan`` to accept
  it (``check``), so a button is never offered that the server then refuses;
- a ``DetailLink`` or ``DetailTable``: what a job's detail page shows for its type beside
  the generic parts (a sweep's clusters link, a merge's list of clusters), as data the page
  renders.

Nothing here knows a job type by name (see jobs/relations.py for the lookups).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy.engine import Connection, Engine

from jobcore.errors import Conflict
from jobcore.jobs import store
from jobcore.schema import UNFINISHED_STATUSES

if TYPE_CHECKING:
    from jobcore.jobs.runner import CreatedJob

# A source job's follow-up that is pending, running or completed (the unique indexes of
# migration 0020 allow one such rollback or undo per source).
LIVE_OR_DONE = (*UNFINISHED_STATUSES, "completed")
LIVE = UNFINISHED_STATUSES


@dataclass(frozen=True)
class Relation:
    """How a job names the job it came from: ``config[key]`` holds that job's id."""

    key: str  # the config key ("rollbackOf"); the job's source_key column holds it
    came_from: str  # how the new job reads: "rollback of" job A
    came_of: str  # how the source reads: job A "rolled back by"
    kind: str | None = None  # the new job as a kind of job ("Rollback"); None: its type's label
    # the unique index that allows one such job per source, and what a second one is told
    # ("{source}": the source job's id)
    unique_index: str | None = None
    conflict: str = ""

    def conflict_message(self, source_id: str) -> str:
        """The message for a second job of this relation to one source."""
        return self.conflict.format(source=source_id)


@dataclass(frozen=True)
class RelatedJob:
    """A job linked to another through a relation (see Relation)."""

    key: str  # the relation's config key
    relation: str  # its words, from the side asked about
    job: store.JobSummary


def named(related: Sequence[RelatedJob], key: str,
          statuses: tuple[str, ...] = LIVE_OR_DONE) -> RelatedJob | None:
    """The first of ``related`` through ``key`` whose status is one of ``statuses``."""
    return next((r for r in related if r.key == key and r.job.status in statuses), None)


class FollowUp:
    """An action a finished job's detail offers: it creates a job from the job (or, with
    ``opens``, opens a page about it). Subclasses set the class attributes and implement
    ``refusal`` and ``create``.
    """

    action: ClassVar[str]  # its key ("rollback"), for the API, bulk actions and tests
    label: ClassVar[str]  # the button
    icon: ClassVar[str] = ":material/arrow_forward:"
    help: ClassVar[str | None] = None
    # what it does, asked in a popover before it creates (None: one click)
    confirm: ClassVar[str | None] = None
    confirm_label: ClassVar[str] = "Create the job"
    opens: ClassVar[str | None] = None  # a page name (jobcore.ui.pages.BY_NAME) instead of a job

    def refusal(self, job: store.JobSummary, came_of: Sequence[RelatedJob]) -> str | None:
        """Why ``job`` (whose follow-ups so far are ``came_of``) does not take this action,
        in a few words ("no errors to retry"); None: it does.
        """
        raise NotImplementedError

    def create(self, job_id: str, *, created_by: str | None = None,
               engine: Engine | None = None, **options: Any) -> CreatedJob:
        """Create the follow-up job of ``job_id`` (refused by its plan as ``check`` says)."""
        raise NotImplementedError

    def check(self, conn: Connection, job_id: str) -> store.JobSummary:
        """The source job, for the created job's plan; Conflict with the refusal's words
        when it does not take this action (JobNotFound when there is no such job).
        """
        from jobcore.jobs.registry import get_handler
        from jobcore.jobs.relations import came_of  # the lookup needs the registry

        job = store.get_summary(conn, job_id)
        handler = get_handler(job.job_type)
        if all(f.action != self.action for f in handler.follow_ups):
            raise Conflict(f"Job {job_id} is a {handler.label} job, which has no "
                           f"{self.label.lower()}.")
        refusal = self.refusal(job, came_of(conn, job))
        if refusal is not None:
            raise Conflict(f"Job {job_id}: {refusal}.")
        return job


class UndoFollowUp(FollowUp):
    """A follow-up that undoes what a completed job changed (a rollback, the undo of a
    merge): offered once the job has completed and changed something, never for one that is
    itself an undo, and one at most per job (pending, running or completed).
    """

    creates: ClassVar[str]  # the job type of the undo
    relation: ClassVar[Relation]  # how the undo names the job it undoes
    noun: ClassVar[str]  # "a rollback"
    verb: ClassVar[str]  # "roll back"
    done_verb: ClassVar[str]  # "rolled back"
    undoes: ClassVar[str] = "job"  # what it undoes, in words ("merge")

    def refusal(self, job: store.JobSummary, came_of: Sequence[RelatedJob]) -> str | None:
        if job.config.get(self.relation.key):
            return (f"itself {self.noun} (of {job.config[self.relation.key]}); it cannot be "
                    f"{self.done_verb}")
        if job.status != "completed":
            return (f"a {job.job_type} job that is {job.status}; only a completed "
                    f"{self.undoes} can be {self.done_verb}")
        if job.success_count == 0:
            return f"it changed nothing, so there is nothing to {self.verb}"
        existing = named(came_of, self.relation.key)
        if existing is not None:
            return f"already has {self.noun}: job {existing.job.id} ({existing.job.status})"
        return None

    def create(self, job_id: str, *, created_by: str | None = None,
               engine: Engine | None = None, **options: Any) -> CreatedJob:
        from jobcore.jobs.runner import create_job  # the runner imports this module

        return create_job(self.creates, {self.relation.key: job_id}, created_by=created_by,
                          engine=engine)


@dataclass(frozen=True)
class DetailLink:
    """A link on a job's detail to another page about it (``page``: a page name)."""

    label: str
    page: str
    query: dict[str, str]
    icon: str = ":material/link:"


@dataclass(frozen=True)
class DetailTable:
    """A table on a job's detail, in an expander titled ``title``."""

    title: str
    rows: list[dict[str, Any]]
    expanded: bool = False
    number_formats: dict[str, str] = field(default_factory=dict)  # column -> "%.3f"

