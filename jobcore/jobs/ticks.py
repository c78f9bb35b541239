"""Scheduler ticks: advance LLM jobs without a browser (``python -m jobcore tick``).

Each tick gives every job waiting on its message batches (a job type that declares
``llm_batches``, processing, in its poll phase) one process call (one poll-and-stage step
and one post-process chunk), so a job finishes even when nobody has its page open. A job a
page (or another tick) is processing at that moment answers busy and is left for the next
tick: the runner's row lock keeps a chunk from running twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jobcore.db import get_engine
from jobcore.errors import JobBusy, JobcoreError
from jobcore.jobs import runner
from jobcore.jobs.registry import handlers
from jobcore.schema import admin_jobs
from jobcore.sql_rules import WAITING_ON_BATCHES

_WAITING = (
    sa.select(admin_jobs.c.id)
    .where(admin_jobs.c.job_type.in_(sa.bindparam("types", expanding=True)),
           admin_jobs.c.status == "processing", WAITING_ON_BATCHES)
    .order_by(admin_jobs.c.created_at)
)


@dataclass(frozen=True)
class TickOutcome:
    job_id: str
    report: runner.ChunkReport | None
    problem: str | None = None


def tick(*, engine: Engine | None = None) -> list[TickOutcome]:
    """One process call for each LLM job waiting on its batches."""
    engine = engine or get_engine()
    types = [h.job_type for h in handlers() if h.llm_batches]
    with engine.connect() as conn:
        waiting = list(conn.execute(_WAITING, {"types": types}).scalars())
    outcomes = []
    for job_id in waiting:
        try:
            report = runner.process_chunk(job_id, engine=engine, driven_by="tick (cron)")
            outcomes.append(TickOutcome(job_id, report))
        except JobBusy:
            outcomes.append(TickOutcome(job_id, None, "busy (another caller has it)"))
        except JobcoreError as exc:
            outcomes.append(TickOutcome(job_id, None, str(exc)))
    return outcomes
