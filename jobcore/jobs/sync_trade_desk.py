"""sync_trade_desk: bring an organisation's Trade Desk data elements in line with its
linked topics, 50 topics a chunk.

The first chunk reads every element of the organisation's provider account; each topic
then has its element created when missing and updated when its name or description
differs (its activation row records what was pushed). Elements no linked topic backs are
reported as orphaned at the end, not deleted. With ``dryRun`` the elements are read but
nothing is created, updated or written: the result says what would be.
"""

from __future__ import annotations

import time

from pydantic import Field
from sqlalchemy.engine import Connection

from jobcore import activations, credentials
from jobcore.errors import Conflict
from jobcore.jobs.base import ChunkOutcome, ItemError, JobConfig, JobHandler, JobPlan
from jobcore.jobs.registry import register
from jobcore.platforms.base import PlatformError, SegmentPush
from jobcore.platforms.factory import client_for, http_client
from jobcore.platforms.trade_desk import TradeDeskClient, element_id
from jobcore.store import Job

PLATFORM = "the_trade_desk"
CHUNK_SIZE = 50
LISTED = 500


class SyncTradeDeskConfig(JobConfig):
    dry_run: bool = Field(default=False,
                          description="Read the elements and report; change nothing.")


def _append(result: dict, key: str, value: str) -> None:
    result[f"{key}Count"] = result.get(f"{key}Count", 0) + 1
    listed = result.setdefault(key, [])
    if len(listed) < LISTED:
        listed.append(value)


@register
class SyncTradeDeskHandler(JobHandler[SyncTradeDeskConfig]):
    job_type = "sync_trade_desk"
    config_model = SyncTradeDeskConfig
    org_scoped = True

    def plan(self, conn: Connection, config: SyncTradeDeskConfig, *,
             org_id: int | None) -> JobPlan:
        if not credentials.presence(conn, org_id)[PLATFORM]:
            raise Conflict(f"Organisation {org_id} has no Trade Desk credentials.")
        count, max_id = conn.execute(activations.LINKED_COUNT, {"org_id": org_id}).one()
        return JobPlan(total_items=count, cursor={"lastId": 0, "maxId": max_id})

    def process(self, conn: Connection, job: Job, config: SyncTradeDeskConfig,
                deadline: float) -> ChunkOutcome:
        cursor = dict(job.cursor)
        creds = credentials.load(conn, job.org_id, PLATFORM)
        if creds is None:
            raise Conflict(f"Organisation {job.org_id} has no Trade Desk credentials.")
        result = {k: (list(v) if isinstance(v, list) else v) for k, v in job.result.items()}
        http = http_client()
        client = client_for(PLATFORM, creds, http)
        assert isinstance(client, TradeDeskClient)
        if "elements" not in cursor:
            cursor["elements"] = {e.element_id: [e.name, e.description]
                                  for e in client.elements()}
        rows = conn.execute(activations.LINKED_CHUNK, {
            "org_id": job.org_id, "last_id": cursor["lastId"], "max_id": cursor["maxId"],
            "n": CHUNK_SIZE + 1}).all()
        more = len(rows) > CHUNK_SIZE
        outcome = ChunkOutcome(cursor=cursor, done=False)
        pushed = []
        for row in rows[:CHUNK_SIZE]:
            if time.monotonic() > deadline:
                more = True
                break
            cursor["lastId"] = row.id
            eid = element_id(row.id)
            existing = cursor["elements"].pop(eid, None)
            if existing == [row.name, row.description or ""]:
                outcome.skips += 1
                continue
            action = "updated" if existing is not None else "created"
            if not config.dry_run:
                try:
                    client.push(SegmentPush(row.id, row.name, row.description,
                                            external_id=eid if existing else None))
                except PlatformError as exc:
                    outcome.errors.append(ItemError(str(exc), id=row.id, name=row.name))
                    continue
                pushed.append({"topic_id": row.id, "external_id": eid, "name": row.name,
                               "description": row.description, "version": row.version})
            _append(result, action, eid)
            if config.dry_run:
                outcome.skips += 1  # reported in the result, not done
            else:
                outcome.success += 1
        if not config.dry_run:
            activations.upsert_pushed(conn, job.org_id, PLATFORM, pushed)
        outcome.done = not more
        if outcome.done:
            for orphan in sorted(cursor.pop("elements")):
                _append(result, "orphaned", orphan)
        outcome.result_patch = result
        return outcome
