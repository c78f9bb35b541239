"""What a job type provides: a config model, planning, one chunk of work, and a
declaration of what it can do (label, LLM batch phases, rollback, follow-up actions, cost
profile) that ticks, rollback, the console and the CLI read instead of type names.

``take_slice`` is the one chunk helper: every handler takes its next items by key through
it, with the config's limit and the chunk's time budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from sqlalchemy.engine import Connection

from jobcore import sql_rules
from jobcore.errors import ConfigError
from jobcore.jobs.follow_ups import DetailLink, DetailTable, FollowUp, Relation
from jobcore.jobs.store import Job, JobSummary
from jobcore.text_checks import find_unstorable

if TYPE_CHECKING:
    from jobcore.llm.cost import PromptProfile

JOB_ID_PATTERN = r"^job_[0-9]+_[a-z0-9]+$"
INTERNAL = {"internal": True}  # a config field set by the console's buttons, not the form


def shown_when(**conditions: list[str]) -> dict[str, Any]:
    """Schema extra for a field that only means something when other fields hold one of
    these values (``shown_when(mode=["llm"])``): the new-job form shows it only then.
    """
    return {"shownWhen": conditions}


class JobConfig(BaseModel):
    """Base of every job config: camelCase keys, unknown keys refused, no silent coercion."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", strict=True,
                              frozen=True, validate_by_name=False, validate_by_alias=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")


class StoredModel(BaseModel):
    """A model stored as JSON in a job row: camelCase there, snake_case here."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True,
                              validate_by_alias=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)


class JobResult(StoredModel):
    """A job's ``result``, typed by its handler's ``result_model`` (keys it does not name,
    such as another layer's, are kept).
    """

    model_config = ConfigDict(extra="allow")

    @classmethod
    def of(cls, result: dict[str, Any]) -> Any:
        """The typed reading of a stored result."""
        return cls.model_validate(result)

    def patch(self, *names: str) -> dict[str, Any]:
        """The stored keys of these fields, for a chunk's ``result_patch``."""
        dumped = self.model_dump(by_alias=True, mode="json", include=set(names),
                                 exclude_none=True)
        return {to_camel(name): dumped.get(to_camel(name)) for name in names}


class JobCursor(StoredModel):
    """Where a job stands between its chunks (its ``cursor``): each job type subclasses it
    next to its config model, and only its handler reads it (keys it does not name are kept).
    """

    model_config = ConfigDict(extra="allow")

    @classmethod
    def of(cls, cursor: dict[str, Any]) -> Self:
        """The typed reading of a stored cursor."""
        return cls.model_validate(cursor)


class KeyCursor(JobCursor):
    """A walk over items in key order: the last key done, up to the largest planned."""

    last_id: int = 0
    max_id: int | None = None  # None: no bound (jobs planned before it was saved)


@dataclass(frozen=True)
class ItemError:
    """One item's failure, as stored in the job's ``errors``."""

    message: str
    id: int | str | None = None
    name: str | None = None
    # more about the item, for items that are not topics (an activation's topicId, platform)
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.id is not None:
            data["id"] = self.id
        if self.name is not None:
            data["name"] = self.name
        data.update(self.details)
        data["message"] = self.message
        return data


@dataclass
class ChunkOutcome:
    """What one chunk did; the runner adds it to the job in the chunk's transaction."""

    cursor: JobCursor
    done: bool
    success: int = 0
    skips: int = 0
    errors: list[ItemError] = field(default_factory=list)
    result_patch: dict[str, Any] = field(default_factory=dict)
    # items the job found it has to do besides those planned (a sweep's pairs to verify):
    # added to its total
    added_items: int = 0

    @property
    def processed(self) -> int:
        return self.success + self.skips + len(self.errors)


@dataclass(frozen=True)
class JobPlan:
    """What create_job stores: the item count (server-side) and the starting cursor."""

    total_items: int
    cursor: JobCursor = field(default_factory=JobCursor)


@dataclass(frozen=True)
class RollbackSource:
    """How a job type's changes are rolled back: the topic_history action its changes
    carry and the topic columns it writes (restored from ``previous_values``).
    """

    action: str
    columns: tuple[str, ...]


T = TypeVar("T")


@dataclass
class Slice(Generic[T]):
    """A chunk's next items, in key order (see ``take_slice``)."""

    items: list[T]
    more: bool  # items are left after these (or the budget cut the slice short)
    deadline: float
    remaining: int | None  # what the limit still allows before this slice; None: no limit

    def within_budget(self) -> Iterator[T]:
        """The items, stopping (with ``more`` set) once the chunk's time budget is spent
        (the budget is most of a minute, so a chunk always gets through some of them).
        """
        for item in self.items:
            if time.monotonic() > self.deadline:
                self.more = True
                return
            yield item

    def done(self, processed: int) -> bool:
        """Whether the job is done once this chunk has processed ``processed`` items."""
        reached_limit = self.remaining is not None and processed >= self.remaining
        return reached_limit or not self.more


def take_slice(fetch: Callable[[int], Sequence[T]], *, size: int, deadline: float,
               limit: int | None = None, processed: int = 0) -> Slice[T]:
    """The next at most ``size`` items: ``fetch(n)`` returns up to n items after the
    job's cursor, in key order. With a ``limit`` (of which ``processed`` are done) no more
    than it allows are taken; one more than wanted is fetched to tell whether any are left.
    """
    remaining = None if limit is None else max(limit - processed, 0)
    want = size if remaining is None else min(size, remaining)
    rows = list(fetch(want + 1)) if want > 0 else []
    return Slice(rows[:want], len(rows) > want, deadline, remaining)


C = TypeVar("C", bound=JobConfig)


class JobHandler(Generic[C]):
    """A job type. Subclasses set ``job_type``, ``label``, ``description`` and
    ``config_model``, declare what they can do, and implement ``plan`` and ``process``.
    """

    job_type: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]  # one line, for forms and the CLI
    config_model: type[C]
    result_model: ClassVar[type[JobResult]] = JobResult  # what its result holds
    org_scoped: ClassVar[bool] = False  # needs an organisation
    form_creatable: ClassVar[bool] = True  # offered by the console's new-job form
    form_order: ClassVar[int] = 50  # its place in the form's list (then by type)
    llm_batches: ClassVar[bool] = False  # may run through the LLM batch phases (ticks)
    rollback: ClassVar[RollbackSource | None] = None  # None: cannot be rolled back
    # how its jobs name the job they came from (rollbackOf...): jobs.follow_ups.Relation
    relations: ClassVar[tuple[Relation, ...]] = ()
    # what a finished job of this type offers (Rollback, Retry errors...), in button order
    follow_ups: ClassVar[tuple[FollowUp, ...]] = ()
    item_kind: ClassVar[str] = "topic"  # what the ids in its errors name
    # why a config of it may count no items, said when it does ("tick Force...")
    empty_hint: ClassVar[str | None] = None
    # its LLM cost is estimated once the job knows what it sends (a sweep's pairs), not
    # before it starts
    cost_estimated_late: ClassVar[bool] = False

    def uses_llm_batches(self, config: dict[str, Any]) -> bool:
        """Whether a job of this config goes through Anthropic's Message Batches."""
        return self.llm_batches

    def cost_profile(self, config: dict[str, Any]) -> PromptProfile | None:
        """The token profile of this config's LLM requests (None: no LLM cost)."""
        return None

    def cost_preview(self, conn: Connection, config: C, total: int) -> str | None:
        """A sentence on the LLM cost of this config when telling it needs the database (a
        sweep counts the pairs it would ask about); None: ``cost_profile`` over ``total``
        items tells.
        """
        return None

    def parse_config(self, raw: Any) -> C:
        """Validate a raw config; ConfigError names the offending field."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(f"config for {self.job_type} must be an object, "
                              f"got {type(raw).__name__}")
        unstorable = find_unstorable(raw)
        if unstorable is not None:
            field, reason = unstorable
            raise ConfigError(f"Invalid config for {self.job_type}: {field}: {reason}",
                              field=field)
        try:
            config = self.config_model.model_validate(raw)
        except ValidationError as exc:
            raise config_error(self.job_type, self.config_model, exc) from None
        return self.normalize_config(config)

    def normalize_config(self, config: C) -> C:
        """Checks that need more than types (for example against the taxonomy); may return
        the config with values in their canonical spelling.
        """
        return config

    def plan(self, conn: Connection, config: C, *, org_id: int | None) -> JobPlan:
        raise NotImplementedError

    def process(self, conn: Connection, job: Job, config: C, deadline: float) -> ChunkOutcome:
        raise NotImplementedError

    def with_full_result(self, conn: Connection, job: Job) -> Job:
        """The job with any result kept outside ``admin_jobs.result`` added (for reads)."""
        return job

    def detail_links(self, conn: Connection, job: JobSummary) -> list[DetailLink]:
        """Links the job's detail shows for this type (a sweep's to its clusters, followed
        live while the job runs): cheap, read every few seconds.
        """
        return []

    def detail_tables(self, conn: Connection, job: JobSummary) -> list[DetailTable]:
        """Tables the job's detail shows for this type (a merge's clusters), read once a
        page run.
        """
        return []

    def batches_caption(self, job: Job, submitted: int) -> str:
        """Where the job's message batches stand, for its detail's batches panel."""
        noun = "topic" if job.total_items == 1 else "topics"
        return f"{submitted:,} of {job.total_items:,} {noun} submitted."

    def waiting_on_batches(self, job: Job) -> bool:
        """Whether the job is waiting on its message batches (its driver should wait before
        polling again): an LLM job in its poll phase.
        """
        return self.uses_llm_batches(job.config) and sql_rules.waiting_on_batches(job.cursor)

    def errors_note(self, conn: Connection, job: JobSummary) -> str | None:
        """A sentence on the job's errors for its detail (which of them a retry leaves out
        and why); None: nothing to say.
        """
        return None

    def on_cancel(self, conn: Connection, job: Job) -> None:
        """Called in the cancel's transaction; e.g. to cancel work submitted elsewhere."""

    def loads_first(self, job_id: str, config: dict[str, Any]) -> list[str]:
        """What the job's next chunk in this process must load once before it starts (words
        such as 'the embedding model', see jobcore.warmup), for a page to say so.
        """
        return []


def _echo(value: Any, limit: int = 80) -> str:
    """A value as a message repeats it: its repr, a long one cut (a 5,000-character input is
    not echoed whole).
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value):,} characters)" if isinstance(value, str | list | dict) else ""
    return f"{text[:limit]}…{size}"


def config_error(job_type: str, model: type[JobConfig], exc: ValidationError) -> ConfigError:
    """One readable message for all of pydantic's findings, naming each field."""
    allowed = ", ".join(f.alias or name for name, f in model.model_fields.items()
                        if not (f.json_schema_extra or {}).get("internal"))
    problems: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "config"
        if err["type"] == "extra_forbidden":
            text = f"unknown key {loc!r} (allowed: {allowed})"
        elif err["type"] == "missing":
            text = f"{loc}: is required"
        else:
            text = f"{loc}: {err['msg']} (got {_echo(err.get('input'))})"
        problems.setdefault(loc, text)
    return ConfigError(f"Invalid config for {job_type}: " + "; ".join(problems.values()),
                       field=next(iter(problems), None), problems=problems)
