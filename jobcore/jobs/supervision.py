"""Chunks in flight, watched: which chunk of a job some process runs now (read from
pg_stat_activity, no lock taken), whether it is stuck, and stopping a stuck one.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from jobcore import audit
from jobcore.config import get_settings
from jobcore.db import get_engine
from jobcore.jobs import store


def chunk_in_flight(job_id: str, *, engine: Engine | None = None) -> store.ChunkInFlight | None:
    """The chunk of this job some process is running now, if any (no lock is taken)."""
    return chunks_in_flight([job_id], engine=engine).get(job_id)


def chunks_in_flight(job_ids: list[str], *, engine: Engine | None = None
                     ) -> dict[str, store.ChunkInFlight]:
    """The chunks of these jobs running now, by job id."""
    with (engine or get_engine()).connect() as conn:
        return store.chunks_in_flight(conn, job_ids)


def is_stuck(chunk: store.ChunkInFlight) -> bool:
    """A chunk open for more than twice its time budget whose transaction has waited on
    its driver for more than a whole budget: a chunk stops taking items once its budget
    is spent and each statement is cut off at twice the budget, so a driver that neither
    sends a statement nor commits for that long hangs (or is cut off from the database).
    A one-time load inside a chunk (the embedding model) takes well under a budget.
    """
    budget = get_settings().chunk_time_budget_seconds
    return chunk.open_seconds > 2 * budget and chunk.idle_seconds > budget


def stop_stuck_chunk(job_id: str, *, created_by: str, engine: Engine | None = None) -> bool:
    """End the backend of a stuck chunk of this job: its transaction rolls back whole,
    recorded in the job's events. Its driver, if alive after all, sees a lost connection and
    does the chunk again (what it did outside the database, such as a platform push, too).
    False when no stuck chunk of the job was running any more.
    """
    engine = engine or get_engine()
    with audit.action("stop_stuck", target=job_id, engine=engine), engine.begin() as conn:
        chunk = store.chunks_in_flight(conn, [job_id]).get(job_id)
        if chunk is None or not is_stuck(chunk):
            return False
        stopped = store.stop_chunk(conn, chunk)
        if stopped:
            store.record_event(conn, job_id, "chunk_stopped", created_by=created_by, message=(
                f"a chunk open since {chunk.started_at:%Y-%m-%d %H:%M:%S} UTC"
                + (f", driven by {chunk.driven_by}," if chunk.driven_by else "")
                + " was stopped; it rolled back whole"))
        return stopped
