"""The project's exception types; driver errors are translated into these at the boundary."""

from __future__ import annotations


class JobcoreError(Exception):
    """Base of every error the project reports to a user.

    ``transient``: a condition that may pass by itself (a service or the database briefly
    unavailable). Raised by a job's chunk, it leaves the job as it was, to be tried again;
    any other error a chunk raises fails the job with its message.
    """

    transient: bool = False


class UsageError(JobcoreError):
    """The caller asked for something that cannot be done as asked (CLI exit code 2)."""


class ConfigError(UsageError):
    """A job's config is invalid; the message names the offending field(s).

    ``problems`` maps each offending field (its config key) to what is wrong with it, so
    that a form can show each message beside its field.
    """

    def __init__(self, message: str, *, field: str | None = None,
                 problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.problems = problems if problems is not None else (
            {field: message} if field else {})


class UnknownJobType(UsageError):
    """No handler is registered for a job type."""


class DuplicateJobType(JobcoreError):
    """Two handlers were registered for one job type."""


class UnknownOrganization(UsageError):
    """No organisation has the given id."""


class JobNotFound(UsageError):
    """No job has the given id."""


class JobPruned(JobNotFound):
    """The job was removed by retention (what is left of it says when)."""


class JobNotRunnable(UsageError):
    """The job is cancelled, completed or failed and takes no more chunks."""


class Conflict(UsageError):
    """The action conflicts with a job's state (a second rollback, nothing to retry, ...)."""


class JobBusy(JobcoreError):
    """Another caller is processing a chunk of this job right now."""

    transient = True


class NotHandedOver(JobBusy):
    """A worker's chunk for a job that was taken back from the workers meanwhile."""


class DatabaseUnavailable(JobcoreError):
    """PostgreSQL cannot be reached or started."""

    transient = True


class SchemaOutOfDate(JobcoreError):
    """The database does not allow something the code registers (a missing migration)."""


class Forbidden(UsageError):
    """The actor's role does not allow the action (the message names the role needed)."""
