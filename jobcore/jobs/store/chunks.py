"""The chunk log (one row per processed chunk) and the chunks in flight now, read from
pg_stat_activity (each chunk's transaction names its job and driver).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.schema import (
    admin_job_chunks,
)


@dataclass(frozen=True)
class ChunkRecord:
    """One processed chunk, for throughput charts."""

    seq: int
    started_at: datetime
    finished_at: datetime
    processed: int
    success: int
    errors: int
    skips: int
    driven_by: str | None = None
    load_seconds: float = 0.0  # of the chunk's time, spent on a one-time load
    loaded: str | None = None  # what that load was ('the embedding model')

    @property
    def work_seconds(self) -> float:
        """The chunk's time without its one-time load (what rates are made of)."""
        spent = (self.finished_at - self.started_at).total_seconds()
        return max(spent - self.load_seconds, 0.0)


_CHUNK_APPLICATION = "jobcore "
_NAMEDATALEN = 63  # PostgreSQL keeps this many bytes of an application_name (ASCII only)


def chunk_application_name(job_id: str, driven_by: str | None) -> str:
    """The application_name a chunk's transaction carries: 'jobcore <job> <driver>', the
    driver made ASCII (PostgreSQL would turn other characters into '?') and cut with '...'
    to what PostgreSQL keeps.
    """
    name = f"{_CHUNK_APPLICATION}{job_id}"
    driver = (driven_by or "").encode("ascii", "replace").decode("ascii")
    room = _NAMEDATALEN - len(name) - 1
    if driver and len(driver) > room:  # cut at a word where one is near, and say so
        cut = driver[:max(room - 3, 0)]
        driver = (cut[:cut.rindex(" ")] if " " in cut else cut) + "..." if cut else ""
    return f"{name} {driver}" if driver else name


@dataclass(frozen=True)
class ChunkInFlight:
    """A chunk some process is running now (its transaction is open), timed on the
    database's clock.
    """

    job_id: str
    started_at: datetime  # UTC
    driven_by: str | None
    pid: int
    open_seconds: float  # since the chunk's transaction began
    idle_seconds: float  # since its last statement ended (0 while one runs)


_IN_FLIGHT = sa.text(
    """
    SELECT pid, xact_start, application_name,
           extract(epoch FROM clock_timestamp() - xact_start) AS open_seconds,
           CASE WHEN state LIKE 'idle in transaction%'
                THEN extract(epoch FROM clock_timestamp() - state_change) ELSE 0 END
               AS idle_seconds
    FROM pg_stat_activity
    WHERE datname = current_database() AND xact_start IS NOT NULL
      AND starts_with(application_name, :prefix)
    """)


def chunks_in_flight(conn: Connection, job_ids: list[str] | None = None
                     ) -> dict[str, ChunkInFlight]:
    """The chunks running now, by job (of ``job_ids``, else of every job), read from
    pg_stat_activity: no lock is taken, so asking never makes a driver busy.
    """
    conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))  # not a transaction's old copy
    found: dict[str, ChunkInFlight] = {}
    for row in conn.execute(_IN_FLIGHT, {"prefix": _CHUNK_APPLICATION}):
        job_id, _, driver = row.application_name[len(_CHUNK_APPLICATION):].partition(" ")
        if job_ids is None or job_id in job_ids:
            found[job_id] = ChunkInFlight(job_id, row.xact_start.astimezone(UTC), driver or None,
                                          row.pid, float(row.open_seconds),
                                          float(row.idle_seconds))
    return found


def stop_chunk(conn: Connection, chunk: ChunkInFlight) -> bool:
    """End the backend running this chunk (its transaction rolls back whole); True when it
    was still that chunk (same backend, same job, same transaction start).
    """
    conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
    return bool(conn.execute(sa.text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = :pid "
        "AND xact_start = :started_at "
        "AND (application_name = :name OR starts_with(application_name, :name || ' '))"),
        {"pid": chunk.pid, "started_at": chunk.started_at,
         "name": f"{_CHUNK_APPLICATION}{chunk.job_id}"}).scalar())


def list_chunks(conn: Connection, job_id: str) -> list[ChunkRecord]:
    """The job's chunks in order."""
    rows = conn.execute(
        sa.select(admin_job_chunks).where(admin_job_chunks.c.job_id == job_id)
        .order_by(admin_job_chunks.c.seq)
    )
    return [ChunkRecord(r.seq, r.started_at, r.finished_at, r.processed, r.success, r.errors,
                        r.skips, r.driven_by, r.load_seconds, r.loaded) for r in rows]
