"""Undo of a merge job: create it, or find the one it already has."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from jobcore.db import get_engine
from jobcore.dedup.merge_job import existing_undo
from jobcore.jobs import runner


def create_merge_undo(job_id: str, *, created_by: str | None = None,
                      engine: Engine | None = None) -> runner.CreatedJob:
    """A merge job with ``undoOf`` that restores what merge job ``job_id`` merged.

    Refused (Conflict) unless ``job_id`` is a completed merge, not itself an undo, with
    merged clusters not undone and no other undo pending, running or done.
    """
    return runner.create_job("merge", {"undoOf": job_id}, created_by=created_by,
                             engine=engine)


def find_merge_undo(job_id: str, *, engine: Engine | None = None) -> str | None:
    """The id of the pending, running or completed undo of merge job ``job_id``, if any."""
    with (engine or get_engine()).connect() as conn:
        existing = existing_undo(conn, job_id)
    return existing.id if existing is not None else None
