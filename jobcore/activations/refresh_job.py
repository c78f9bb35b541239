"""refresh_activations: re-push an organisation's stale segments to their platforms.

Items are the organisation's activations whose pushed name, description or topic version
differs from the topic's current values, 50 a chunk. Each is pushed (update when it has a
platform id, else create; PLATFORM_CONCURRENCY pushes at a time) and its new pushed values
and time recorded; a platform's
refusal is that activation's error (kept on the activation too) and the job goes on.
With ``dryRun`` nothing is called and nothing written: the result lists what would go.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from pydantic import Field
from sqlalchemy.engine import Connection

from jobcore.activations import credentials, stale
from jobcore.activations.credentials import PlatformCredentials
from jobcore.activations.platforms.base import PLATFORM_NAMES, SegmentPush
from jobcore.activations.platforms.factory import client_for, http_client
from jobcore.catalog.overview import organization_name
from jobcore.config import get_settings
from jobcore.errors import Conflict
from jobcore.http import PlatformError
from jobcore.jobs.base import (
    ChunkOutcome,
    ItemError,
    JobConfig,
    JobHandler,
    JobPlan,
    JobResult,
    KeyCursor,
    take_slice,
)
from jobcore.jobs.registry import register
from jobcore.jobs.store import Job

CHUNK_SIZE = 50
DRY_RUN_LISTED = 200


class RefreshActivationsConfig(JobConfig):
    limit: int | None = Field(default=None, ge=1, le=10_000_000,
                              description="At most this many activations.")
    dry_run: bool = Field(default=False, description="List what would be pushed; push nothing.")


class RefreshResult(JobResult):
    """A dry run's report: the first DRY_RUN_LISTED activations it would push."""

    would_refresh: list[dict] = Field(default_factory=list)


@register
class RefreshActivationsHandler(JobHandler[RefreshActivationsConfig]):
    job_type = "refresh_activations"
    label = "Refresh activations"
    description = "Re-push an organisation's stale segments to their platforms."
    config_model = RefreshActivationsConfig
    result_model = RefreshResult
    item_kind = "activation"
    org_scoped = True

    def plan(self, conn: Connection, config: RefreshActivationsConfig, *,
             org_id: int | None) -> JobPlan:
        count, max_id = conn.execute(stale.COUNT_STALE, {"org_id": org_id}).one()
        if count and not config.dry_run:
            _check_some_can_be_pushed(conn, org_id)
        total = min(count, config.limit) if config.limit else count
        return JobPlan(total_items=total, cursor=KeyCursor(max_id=max_id))

    def process(self, conn: Connection, job: Job, config: RefreshActivationsConfig,
                deadline: float) -> ChunkOutcome:
        cursor = KeyCursor.of(job.cursor)
        chunk = take_slice(lambda n: conn.execute(stale.STALE_CHUNK, {
            "org_id": job.org_id, "last_id": cursor.last_id, "max_id": cursor.max_id,
            "n": n}).all(), size=CHUNK_SIZE, deadline=deadline, limit=job.total_items,
            processed=job.processed_items)
        outcome = ChunkOutcome(cursor=cursor, done=False)
        if config.dry_run:
            listed = list(RefreshResult.of(job.result).would_refresh)
            for row in chunk.within_budget():
                cursor.last_id = row.id
                outcome.skips += 1
                if len(listed) < DRY_RUN_LISTED:
                    listed.append({"activationId": row.id, "platform": row.platform,
                                   "from": row.pushed_name, "to": row.name})
            outcome.result_patch = RefreshResult(would_refresh=listed).patch("would_refresh")
        elif self._push(conn, job, chunk.items, cursor, outcome, deadline):
            chunk.more = True  # the budget ran out: the rows not started wait
        outcome.done = chunk.done(outcome.processed)
        return outcome

    def _push(self, conn: Connection, job: Job, rows, cursor: KeyCursor,
              outcome: ChunkOutcome, deadline: float) -> bool:
        """Push the rows, several at a time; returns True when the time budget cut the
        chunk short (the rows not started are left for the next chunk).
        """
        found: dict[str, PlatformCredentials | None] = {}
        for platform in {row.platform for row in rows}:
            found[platform] = credentials.load(conn, job.org_id, platform)
        org = organization_name(conn, job.org_id) if None in found.values() else ""
        settings = get_settings()
        http = http_client()
        with ThreadPoolExecutor(settings.platform_concurrency) as pool:
            clients = {p: client_for(p, c, http) for p, c in found.items() if c is not None}

            def push(row) -> str:
                if time.monotonic() > deadline:
                    raise _OutOfTime
                if row.platform not in clients:
                    raise PlatformError(f"{org} has no {PLATFORM_NAMES[row.platform]} "
                                        "credentials")
                return clients[row.platform].push(SegmentPush(
                    row.topic_id, row.name, row.description, row.external_segment_id))

            futures = [pool.submit(push, row) for row in rows]
            pushes = []
            cut_short = False
            for row, future in zip(rows, futures, strict=True):
                try:
                    external_id = future.result()
                except _OutOfTime:
                    cut_short = True
                    break
                except PlatformError as exc:
                    outcome.errors.append(ItemError(
                        str(exc), id=row.id, name=row.name,
                        details={"topicId": row.topic_id, "platform": row.platform}))
                    pushes.append({"id": row.id, "ok": False, "error": str(exc)[:1000]})
                else:
                    outcome.success += 1
                    pushes.append({"id": row.id, "ok": True, "external_id": external_id,
                                   "name": row.name, "description": row.description,
                                   "version": row.version, "error": None})
                cursor.last_id = row.id
            if cut_short:
                for future in futures:
                    future.cancel()
        stale.record_pushes(conn, pushes)
        return cut_short


def _check_some_can_be_pushed(conn: Connection, org_id: int) -> None:
    """Conflict when no platform holding the organisation's stale segments has its
    credentials: such a job could only end with every item an error (a dry run may still
    list them). Where some can be pushed, the others are the job's item errors.
    """
    by_platform = dict(conn.execute(stale.STALE_BY_PLATFORM, {"org_id": org_id}).tuples().all())
    missing = stale.without_credentials(by_platform, credentials.presence(conn, org_id))
    if sum(missing.values()) == sum(by_platform.values()):
        names = " or ".join(PLATFORM_NAMES[p] for p in sorted(missing))
        raise Conflict(f"{organization_name(conn, org_id)} has no {names} credentials, so "
                       f"none of its {sum(by_platform.values()):,} stale segments can be "
                       f"pushed: store them with python -m jobcore set-credentials --org "
                       f"{org_id} (or run a dry run to list them).")


class _OutOfTime(Exception):
    """The chunk's time budget ran out before this push started."""
