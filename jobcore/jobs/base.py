"""What a job type provides: a config model, planning, and one chunk of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from sqlalchemy.engine import Connection

from jobcore.errors import ConfigError
from jobcore.store import Job


class JobConfig(BaseModel):
    """Base of every job config: camelCase keys, unknown keys refused, no silent coercion."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", strict=True,
                              frozen=True, validate_by_name=False, validate_by_alias=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")


@dataclass(frozen=True)
class ItemError:
    """One item's failure, as stored in the job's ``errors``."""

    message: str
    id: int | str | None = None
    name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.id is not None:
            data["id"] = self.id
        if self.name is not None:
            data["name"] = self.name
        data["message"] = self.message
        return data


@dataclass
class ChunkOutcome:
    """What one chunk did; the runner adds it to the job in the chunk's transaction."""

    cursor: dict[str, Any]
    done: bool
    success: int = 0
    skips: int = 0
    errors: list[ItemError] = field(default_factory=list)
    result_patch: dict[str, Any] = field(default_factory=dict)

    @property
    def processed(self) -> int:
        return self.success + self.skips + len(self.errors)


@dataclass(frozen=True)
class JobPlan:
    """What create_job stores: the item count (server-side) and the starting cursor."""

    total_items: int
    cursor: dict[str, Any] = field(default_factory=dict)


C = TypeVar("C", bound=JobConfig)


class JobHandler(Generic[C]):
    """A job type. Subclasses set ``job_type`` and ``config_model`` and implement the rest."""

    job_type: ClassVar[str]
    config_model: type[C]
    org_scoped: ClassVar[bool] = False
    form_creatable: ClassVar[bool] = True  # offered by the console's new-job form

    def parse_config(self, raw: Any) -> C:
        """Validate a raw config; ConfigError names the offending field."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(f"config for {self.job_type} must be an object, "
                              f"got {type(raw).__name__}")
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

    def on_cancel(self, conn: Connection, job: Job) -> None:
        """Called in the cancel's transaction; e.g. to cancel work submitted elsewhere."""


def with_canonical_parent_category(job_type: str, config: C) -> C:
    """``config`` with its ``parent_category_filter`` in the taxonomy's spelling; a name
    the taxonomy does not know is a ConfigError on parentCategoryFilter (with a suggestion).
    """
    from jobcore.classify.taxonomy import get_taxonomy

    value = getattr(config, "parent_category_filter", None)
    if value is None:
        return config
    try:
        canonical = get_taxonomy().resolve_parent_category(value)
    except ValueError as exc:
        raise ConfigError(f"Invalid config for {job_type}: parentCategoryFilter: {exc}",
                          field="parentCategoryFilter") from None
    return config.model_copy(update={"parent_category_filter": canonical})


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
            text = f"{loc}: {err['msg']} (got {err.get('input')!r})"
        problems.setdefault(loc, text)
    return ConfigError(f"Invalid config for {job_type}: " + "; ".join(problems.values()),
                       field=next(iter(problems), None), problems=problems)
