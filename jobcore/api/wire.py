"""The API's wire models: request bodies and responses, camelCase on the wire. The
parts that list the job types are built when an app is made (``create_body_model``,
``job_type_name``, ``bulk_body_model``), so a job type registered before that is in the
schema.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any, Literal, Union, get_type_hints

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from pydantic.alias_generators import to_camel, to_pascal

from jobcore import audit, bulk
from jobcore.jobs import store
from jobcore.jobs.base import JOB_ID_PATTERN
from jobcore.jobs.registry import get_handler, job_types
from jobcore.schema import JOB_STATUSES

JobId = Annotated[str, Field(pattern=JOB_ID_PATTERN, max_length=80)]
JobStatus = Literal[JOB_STATUSES]  # type: ignore[valid-type]
FilterStatus = Literal[store.FILTER_STATUSES]  # type: ignore[valid-type]


def _iso_date_time(value: object) -> object:
    """Only an ISO 8601 string (pydantic would also take a number as a Unix time)."""
    if not isinstance(value, str | datetime) or (
            isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()):
        raise ValueError("give an ISO 8601 date-time, for example 2026-12-01T00:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_date_time)]


class Wire(BaseModel):
    """camelCase on the wire, unknown keys refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def create_body_model() -> Any:
    """The create body: one variant per registered job type, its config typed by that
    type's config model, told apart by ``jobType`` (so the OpenAPI document is exact).
    """
    variants = []
    for job_type in job_types():
        config_model = get_handler(job_type).config_model
        variants.append(create_model(
            f"Create{to_pascal(job_type)}Job", __base__=Wire,
            job_type=(Literal[job_type], ...),  # type: ignore[valid-type]
            config=(config_model, Field(default_factory=config_model)),
            org_id=(int | None, Field(default=None, ge=1, le=2**62)),
            # handed to the workers (python -m jobcore worker) instead of driven by calls
            background=(bool, Field(default=False)),
        ))
    if len(variants) == 1:
        return variants[0]
    return Annotated[Union[tuple(variants)], Field(discriminator="job_type")]  # noqa: UP007



class JobCreated(Wire):
    job_id: str
    total_items: int


class ProcessResult(Wire):
    done: bool
    processed_items: int
    total_items: int
    success_count: int
    error_count: int
    skip_count: int


class JobError(Wire):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")
    id: int | str | None = None
    name: str | None = None
    message: str


def _wire_model(name: str, source: type, *, base: type[BaseModel],
                overrides: dict[str, Any]) -> type[BaseModel]:
    """A wire model with the fields of the store's dataclass ``source`` (types from its
    annotations, some narrowed by ``overrides``): the two cannot drift apart.
    """
    hints = get_type_hints(source)
    return create_model(name, __base__=base, **{
        f.name: (overrides.get(f.name, hints[f.name]), ...) for f in dataclasses.fields(source)})


# A job as lists show it: every field of store.JobSummary (status as one of its values).
JobSummaryRecord = _wire_model("JobSummaryRecord", store.JobSummary, base=Wire,
                               overrides={"status": JobStatus})


class JobRecord(JobSummaryRecord):  # type: ignore[misc, valid-type]
    """A whole job: its summary, errors and result (its cursor is the job system's own)."""

    errors: list[JobError]
    result: dict[str, Any]


class JobList(Wire):
    jobs: list[JobSummaryRecord]


class AuditList(Wire):
    entries: list[audit.AuditEntry]  # one field name per word: the wire spells them alike


def job_type_name() -> Any:
    """The registered job types, as the schema's enumeration (read when an app is made)."""
    return Literal[tuple(job_types())]  # type: ignore[valid-type]


def bulk_body_model() -> Any:
    """The body of a bulk action, its jobType one of the registered types."""
    return create_model("BulkBody", __base__=BulkFilters,
                        job_type=(job_type_name() | None, None))


class BulkFilters(Wire):
    """The filters of a bulk action (as the job list's, and jobType) and its confirmation."""

    status: FilterStatus | None = None
    created_by: str | None = Field(default=None, min_length=1, max_length=200)
    created_since: IsoDateTime | None = None
    dry_run: bool = Field(default=False, strict=True)
    # the jobs a dry run said the action takes, as confirmed: required to act, so that an
    # action never covers a job nobody confirmed
    job_ids: list[JobId] | None = Field(default=None, max_length=bulk.MAX_JOBS)


class BulkRefusal(Wire):
    job_id: str
    reason: str


class BulkDone(Wire):
    job_id: str
    created_job_id: str | None = None


class BulkOutcome(Wire):
    action: str
    dry_run: bool
    matching: int  # jobs the filters match
    jobs: int  # jobs the action takes (dry run) or took
    job_ids: list[str]  # those jobs (dry run)
    succeeded: list[BulkDone]
    refused: list[BulkRefusal]




def summary_record(job: store.JobSummary) -> JobSummaryRecord:
    """The wire record of a job as lists show it."""
    return JobSummaryRecord.model_validate(
        {name: getattr(job, name) for name in JobSummaryRecord.model_fields})
