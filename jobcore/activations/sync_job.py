"""sync_trade_desk: bring an organisation's Trade Desk data elements in line with its
linked topics, 50 topics a chunk.

The first chunk reads every element of the organisation's provider account; each topic
then has its element created when missing and updated when its name or description
differs (its activation row records what was pushed). Elements no linked topic backs are
reported as orphaned at the end, not deleted. With ``dryRun`` the elements are read but
nothing is created, updated or written: the result says what would be.
"""

from __future__ import annotations

from pydantic import Field
from sqlalchemy.engine import Connection

from jobcore.activations import credentials, stale
from jobcore.activations.platforms.base import SegmentPush
from jobcore.activations.platforms.factory import client_for, http_client
from jobcore.activations.platforms.trade_desk import TradeDeskClient, element_id
from jobcore.catalog.overview import organization_name
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

PLATFORM = "the_trade_desk"
CHUNK_SIZE = 50
LISTED = 500


class SyncTradeDeskConfig(JobConfig):
    dry_run: bool = Field(default=False,
                          description="Read the elements and report; change nothing.")


class SyncCursor(KeyCursor):
    """Where a sync stands: the linked topics walked by id, and the Trade Desk's elements
    read when it started (element id: name, description), less those matched so far.
    """

    elements: dict[str, list[str | None]] | None = None


class SyncResult(JobResult):
    """The elements a sync created, updated and found orphaned: a count of each and the
    first LISTED ids.
    """

    created: list[str] = Field(default_factory=list)
    created_count: int = 0
    updated: list[str] = Field(default_factory=list)
    updated_count: int = 0
    orphaned: list[str] = Field(default_factory=list)
    orphaned_count: int = 0

    def note(self, key: str, element_id: str) -> None:
        """One more element created, updated or orphaned (``key``)."""
        setattr(self, f"{key}_count", getattr(self, f"{key}_count") + 1)
        listed = getattr(self, key)
        if len(listed) < LISTED:
            listed.append(element_id)

    def whole_patch(self) -> dict:
        """Every field, for a chunk's result_patch."""
        return self.patch("created", "created_count", "updated", "updated_count", "orphaned",
                          "orphaned_count")


@register
class SyncTradeDeskHandler(JobHandler[SyncTradeDeskConfig]):
    job_type = "sync_trade_desk"
    label = "Sync The Trade Desk"
    description = ("Bring an organisation's Trade Desk data elements in line with its "
                   "linked topics.")
    config_model = SyncTradeDeskConfig
    result_model = SyncResult
    org_scoped = True

    def plan(self, conn: Connection, config: SyncTradeDeskConfig, *,
             org_id: int | None) -> JobPlan:
        if not credentials.presence(conn, org_id)[PLATFORM]:
            raise Conflict(f"{organization_name(conn, org_id)} has no Trade Desk credentials.")
        count, max_id = conn.execute(stale.LINKED_COUNT, {"org_id": org_id}).one()
        return JobPlan(total_items=count, cursor=SyncCursor(max_id=max_id))

    def process(self, conn: Connection, job: Job, config: SyncTradeDeskConfig,
                deadline: float) -> ChunkOutcome:
        cursor = SyncCursor.of(job.cursor)
        creds = credentials.load(conn, job.org_id, PLATFORM)
        if creds is None:
            raise Conflict(f"{organization_name(conn, job.org_id)} has no Trade Desk "
                           "credentials.")
        result = SyncResult.of(job.result).model_copy(deep=True)
        client = client_for(PLATFORM, creds, http_client())
        assert isinstance(client, TradeDeskClient)
        if cursor.elements is None:
            cursor.elements = {e.element_id: [e.name, e.description]
                               for e in client.elements()}
        elements = cursor.elements
        chunk = take_slice(lambda n: conn.execute(stale.LINKED_CHUNK, {
            "org_id": job.org_id, "last_id": cursor.last_id, "max_id": cursor.max_id,
            "n": n}).all(), size=CHUNK_SIZE, deadline=deadline, limit=job.total_items,
            processed=job.processed_items)
        outcome = ChunkOutcome(cursor=cursor, done=False)
        pushed: list[dict] = []
        for row in chunk.within_budget():
            cursor.last_id = row.id
            _sync_topic(client, row, elements, config.dry_run, result, outcome,
                        pushed)
        if not config.dry_run:
            stale.upsert_pushed(conn, job.org_id, PLATFORM, pushed)
        outcome.done = chunk.done(outcome.processed)
        if outcome.done and not chunk.more:  # every linked topic read: the rest are orphans
            for orphan in sorted(elements):
                result.note("orphaned", orphan)
            cursor.elements = None  # not kept in the finished job
        outcome.result_patch = result.whole_patch()
        return outcome


def _sync_topic(client: TradeDeskClient, row, elements: dict[str, list], dry_run: bool,
                result: SyncResult, outcome: ChunkOutcome, pushed: list[dict]) -> None:
    """Create or update one topic's element when it is missing or differs (with
    ``dry_run`` only report it); the element is taken off ``elements`` (what is left at the
    end is orphaned).
    """
    eid = element_id(row.id)
    existing = elements.pop(eid, None)
    if existing == [row.name, row.description or ""]:
        outcome.skips += 1
        return
    action = "updated" if existing is not None else "created"
    if dry_run:
        result.note(action, eid)
        outcome.skips += 1  # reported in the result, not done
        return
    try:
        client.push(SegmentPush(row.id, row.name, row.description,
                                external_id=eid if existing else None))
    except PlatformError as exc:
        outcome.errors.append(ItemError(str(exc), id=row.id, name=row.name))
        return
    pushed.append({"topic_id": row.id, "external_id": eid, "name": row.name,
                   "description": row.description, "version": row.version})
    result.note(action, eid)
    outcome.success += 1
