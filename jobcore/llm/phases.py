"""Anthropic's Message Batches API in three phases, for every job that asks Claude about
its items (LLM reclassify, the node backfill, a sweep's pair verification). An item is what
one request is about: a topic (custom_id = topic id), or a request of several duplicate
pairs (custom_id = its number in the sweep); the phases read only its ``id`` and ``name``.

1. **submit**: the eligible items, 100 a sub-batch, one message
   batch each, ``concurrency`` at a time. Each accepted batch is recorded in llm_batches
   and committed at once on a connection of its own; the chunk confirms it with the cursor
   move. A process that dies before the chunk commits leaves unconfirmed rows that the
   next call adopts (and items of that lost call no batch holds are queued again), so an
   item is never submitted twice and no batch is lost; the remaining window is the one
   INSERT between Anthropic's answer and its commit. A sub-batch Anthropic refuses (after
   the SDK's retries) is queued in the cursor for the next call.
2. **poll and stage** (each call): ended batches' results (one download each, from
   ``results_url``) stream into
   batch_results_staging, at most 2,000 a call and within 45 s; **post-process** (same
   call): 500 staged results are taken and handed to the job's writer (reclassify
   validates them against the taxonomy and writes them with history; a bad answer or an
   errored, expired or canceled result is the item's error). When every batch is staged
   and nothing is left, the job completes and its staging rows are gone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx2
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.catalog import topic_store
from jobcore.jobs.base import ChunkOutcome, ItemError, take_slice
from jobcore.jobs.store import Job
from jobcore.llm.answers import Usage
from jobcore.llm.batch_result import BatchCursor, BatchResult
from jobcore.llm.client import LLMUnavailable, api_error, client
from jobcore.schema import batch_results_staging, llm_batches, topics
from jobcore.sql_rules import LIVE_TOPIC_SQL, POLL_PHASE

SUB_BATCH_SIZE = 100
SUBMITS_PER_CALL = 20
STAGE_PER_CALL = 2000
STAGE_SECONDS = 45.0
POST_PROCESS_CHUNK = 500


def adopt_lost_batches(conn: Connection, job: Job, cursor: BatchCursor, *,
                       eligible_after: Callable[[int, int], list[int]]) -> None:
    """Confirm batches recorded in llm_batches whose chunk never committed (the process
    died after Anthropic accepted them); eligible items that lost call had taken but no
    recorded batch holds are queued for resubmission. ``eligible_after(last_id, up_to)``
    lists the eligible item ids in (last_id, up_to].
    """
    lost = conn.execute(
        sa.update(llm_batches).where(llm_batches.c.job_id == job.id, ~llm_batches.c.confirmed)
        .values(confirmed=True).returning(llm_batches.c.request_ids)).scalars().all()
    if not lost:
        return
    adopted = {item_id for item_ids in lost for item_id in item_ids}
    cursor.submitted += len(adopted)
    retry = set(cursor.retry_ids)
    furthest = max(adopted)
    if furthest > cursor.last_id:
        retry |= set(eligible_after(cursor.last_id, furthest))
        cursor.last_id = furthest
    cursor.retry_ids = sorted(retry - adopted)


def topics_by_id(conn: Connection, ids: list[int]) -> list[topic_store.TopicRow]:
    """These topics, by id, locked (the items of a job whose requests are topics)."""
    return [topic_store.topic_row(r) for r in conn.execute(topic_store.select_topics(
        topics.c.id == sa.func.any(sa.bindparam("ids"))).with_for_update(), {"ids": ids})]


@dataclass(frozen=True)
class SubmitSource:
    """What phase 1 of a job needs: its eligible items and the request for each (an item
    has an ``id``, its custom_id, and a ``name`` for its errors).

    ``eligible_after(last_id, up_to, n)``: up to n eligible items with last_id < id <=
    up_to, by id, locked. ``request(item)``: the message params, or a str saying why the
    item cannot be sent (an item error, handed to ``refuse`` with the others: topics are
    flagged needs_review). ``by_id(conn, ids)``: the items queued again after a refused
    sub-batch. ``limit``: the items the job may send (None: its total_items).
    """

    eligible_after: Callable[[int, int, int], list[Any]]
    request: Callable[[Any], dict[str, Any] | str]
    concurrency: int
    by_id: Callable[[Connection, list[int]], list[Any]] = topics_by_id
    refuse: Callable[[Connection, dict[int, str]], Any] = topic_store.flag_for_review
    limit: int | None = None


def submit_step(conn: Connection, job: Job, cursor: BatchCursor, source: SubmitSource,
                deadline: float) -> ChunkOutcome:
    """Phase 1, one call: adopt batches a dead process left, then submit the queued
    resubmissions or the next eligible items (2,000 at most, fewer when the chunk's time
    budget runs out between waves of sub-batches).
    """
    adopt_lost_batches(conn, job, cursor, eligible_after=lambda last_id, up_to: [
        t.id for t in source.eligible_after(last_id, up_to, SUB_BATCH_SIZE * 1000)])
    if cursor.retry_ids:
        return _submit(conn, job, cursor, source.by_id(conn, cursor.retry_ids), True,
                       source, deadline)
    assert cursor.max_id is not None  # planned with the job
    up_to = cursor.max_id
    chunk = take_slice(lambda n: source.eligible_after(cursor.last_id, up_to, n),
                       size=SUB_BATCH_SIZE * SUBMITS_PER_CALL, deadline=deadline,
                       limit=job.total_items if source.limit is None else source.limit,
                       processed=cursor.submitted + cursor.unsent)
    if not chunk.items and not has_batches(conn, job.id):
        return ChunkOutcome(cursor=cursor, done=True)  # nothing eligible
    return _submit(conn, job, cursor, chunk.items, chunk.more, source, deadline)


Part = list[tuple[Any, dict[str, Any]]]  # (item, its request's params)


def _submit(conn: Connection, job: Job, cursor: BatchCursor, rows: list[Any], more: bool,
            source: SubmitSource, deadline: float) -> ChunkOutcome:
    """Submit ``rows`` (by id) in sub-batches of 100, ``source.concurrency`` at a time.

    Each accepted batch is recorded in llm_batches at once (own connection, committed) and
    confirmed in the chunk's transaction; the items of a sub-batch Anthropic refused
    (after the SDK's retries) are queued in the cursor for the next call. When the time
    budget runs out after a wave, the rows after the last one sent are left for the next
    call.
    """
    requests = [(item, source.request(item)) for item in rows]
    sendable = [(item, r) for item, r in requests if not isinstance(r, str)]
    parts = [sendable[start:start + SUB_BATCH_SIZE]
             for start in range(0, len(sendable), SUB_BATCH_SIZE)]
    answers = _create_batches(conn, job, parts, source.concurrency, deadline)
    if len(answers) < len(parts):  # cut short: keep only the rows up to the last part sent
        boundary = parts[len(answers) - 1][-1][0].id
        requests = [(item, r) for item, r in requests if item.id <= boundary]
        rows, more = [item for item, _ in requests], True
    outcome = ChunkOutcome(cursor=cursor, done=False)
    flags = {item.id: r for item, r in requests if isinstance(r, str)}
    outcome.errors = [ItemError(r, id=item.id, name=item.name)
                      for item, r in requests if isinstance(r, str)]
    if flags:
        source.refuse(conn, flags)
    cursor.unsent += len(flags)
    taken = {t.id for t in rows}
    retry = [i for i in cursor.retry_ids if i not in taken]
    accepted, problem = [], None
    for part, answer in zip(parts, answers, strict=False):
        if isinstance(answer, Exception):
            problem = answer
            retry.extend(t.id for t, _ in part)
        else:
            accepted.append(answer.id)
            cursor.submitted += len(part)
    if problem is not None and not accepted:
        raise LLMUnavailable(f"Anthropic did not take the batch: {problem}") from problem
    if accepted:
        conn.execute(sa.update(llm_batches).where(llm_batches.c.batch_id.in_(accepted))
                     .values(confirmed=True))
    if rows:
        cursor.last_id = max(cursor.last_id, max(taken))
    cursor.retry_ids = retry
    if not more and not retry:
        cursor.submitted_all()
    outcome.result_patch = BatchResult(phase=cursor.phase).patch("phase")
    return outcome


def _create_batches(conn: Connection, job: Job, parts: list[Part], concurrency: int,
                    deadline: float) -> list[Any]:
    """One message batch per part, ``concurrency`` at a time, in waves; after a wave that
    ends past the deadline no more are sent. Returns, in order, the batch (recorded in
    llm_batches, unconfirmed) or the APIError of each part sent.
    """
    api, engine = client(), conn.engine

    def create(part: Part) -> Any:
        try:
            batch = api.messages.batches.create(requests=[
                {"custom_id": str(item.id), "params": params} for item, params in part])
        except api_error() as exc:
            return exc
        with engine.begin() as own:
            own.execute(sa.insert(llm_batches).values(
                batch_id=batch.id, job_id=job.id, request_ids=[t.id for t, _ in part],
                status=batch.processing_status, counts=batch.request_counts.model_dump()))
        return batch

    answers: list[Any] = []
    width = max(1, min(concurrency, len(parts)))
    with ThreadPoolExecutor(max_workers=width) as pool:
        for start in range(0, len(parts), width):
            if answers and time.monotonic() > deadline:
                break
            answers.extend(pool.map(create, parts[start:start + width]))
    return answers


def has_batches(conn: Connection, job_id: str) -> bool:
    """Whether the job has submitted any message batch."""
    return conn.execute(sa.select(sa.exists().where(llm_batches.c.job_id == job_id,
                                                    llm_batches.c.confirmed))).scalar_one()


def batches_of(conn: Connection, job_id: str) -> list[dict[str, Any]]:
    """The job's message batches (by their first request's id): id, status, requests,
    counts, results staged.
    """
    rows = conn.execute(sa.select(
        llm_batches.c.batch_id, llm_batches.c.status,
        sa.func.cardinality(llm_batches.c.request_ids).label("requests"), llm_batches.c.counts,
        llm_batches.c.staged).where(llm_batches.c.job_id == job_id, llm_batches.c.confirmed)
        .order_by(llm_batches.c.request_ids[1], llm_batches.c.batch_id))
    return [{"id": r.batch_id, "status": r.status, "requests": r.requests,
             "counts": r.counts, "staged": r.staged} for r in rows]


_OPEN_BATCHES = sa.text(
    """
    SELECT batch_id, status, results_url, staged, cardinality(request_ids) AS requests
    FROM llm_batches WHERE job_id = :job_id AND confirmed AND NOT done
    ORDER BY created_at, batch_id
    """
)

_UPDATE_BATCH = sa.text(
    """
    UPDATE llm_batches SET status = :status, counts = COALESCE(CAST(:counts AS jsonb), counts),
        results_url = :results_url, staged = :staged, done = :done
    WHERE batch_id = :batch_id
    """
)


def poll_and_stage(conn: Connection, job: Job) -> None:
    """Phase 2a: retrieve unfinished batches; stream ended ones' results into staging.

    One results download per ended batch, straight from its ``results_url`` (the SDK's
    ``results()`` would retrieve the batch again first); the JSONL lines go to PostgreSQL
    as sent, one text parameter, and are parsed there (JSON escapes newlines inside
    strings, so a line never holds one).
    """
    api = client()
    started, staged = time.monotonic(), 0
    lines: list[str] = []
    for entry in conn.execute(_OPEN_BATCHES, {"job_id": job.id}).mappings().all():
        entry = dict(entry)
        counts = None
        try:
            if entry["status"] != "ended" or not entry["results_url"]:
                batch = api.messages.batches.retrieve(entry["batch_id"])
                entry.update(status=batch.processing_status, results_url=batch.results_url)
                counts = batch.request_counts.model_dump()
            new = 0
            if entry["status"] == "ended":
                response = api.get(entry["results_url"], cast_to=httpx2.Response,
                                   stream=True,
                                   options={"headers": {"Accept": "application/binary"}})
                try:
                    for index, text in enumerate(t for t in response.iter_lines()
                                                 if t.strip()):
                        if index < entry["staged"]:
                            continue
                        if staged + new >= STAGE_PER_CALL or \
                                time.monotonic() - started > STAGE_SECONDS:
                            break
                        lines.append(f"{entry['batch_id']}\t{text}")
                        new += 1
                finally:
                    response.close()
        except api_error() as exc:
            raise LLMUnavailable(f"Anthropic did not answer for batch {entry['batch_id']}: "
                                 f"{exc}") from exc
        staged += new
        if counts is not None or new:
            conn.execute(_UPDATE_BATCH, {
                "batch_id": entry["batch_id"], "status": entry["status"],
                "results_url": entry["results_url"], "staged": entry["staged"] + new,
                "done": entry["staged"] + new >= entry["requests"],
                "counts": json.dumps(counts) if counts is not None else None})
        if staged >= STAGE_PER_CALL:
            break
    if lines:
        conn.execute(_STAGE_LINES, {"job_id": job.id, "lines": "\n".join(lines)})


_STAGE_LINES = sa.text(
    """
    INSERT INTO batch_results_staging (job_id, custom_id, batch_id, result_type, payload)
    SELECT :job_id, line ->> 'custom_id', split_part(raw.text, E'\\t', 1),
           line -> 'result' ->> 'type', line -> 'result'
    FROM string_to_table(:lines, E'\\n') AS raw(text),
         CAST(substr(raw.text, strpos(raw.text, E'\\t') + 1) AS jsonb) AS line
    ON CONFLICT (job_id, custom_id) DO NOTHING
    """
)


# Takes (deletes) the next staged results, with their topics locked (WITH_TOPICS) or by
# request number (BY_REQUEST); PostgreSQL pulls out what post-processing reads (the answer's
# last text block, the usage), so that the whole result JSON never has to be decoded in
# Python. A chunk that fails rolls the delete back.
_ANSWER_COLUMNS = """
        (SELECT c.block ->> 'text'
         FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.payload #> '{message,content}')
                                            = 'array'
                                       THEN s.payload #> '{message,content}' END)
              WITH ORDINALITY AS c(block, n)
         WHERE c.block ->> 'type' = 'text' ORDER BY c.n DESC LIMIT 1) AS answer,
        s.payload #>> '{message,stop_reason}' AS stop_reason,
        CASE WHEN s.result_type <> 'succeeded' THEN s.payload END AS failure,
        s.payload #> '{message,usage}' AS usage
"""

# the next staged results of the job, deleted and returned with their custom_id as {key}
_TAKEN = """
    s AS (
        DELETE FROM batch_results_staging
        WHERE id IN (SELECT id FROM batch_results_staging WHERE job_id = :job_id
                     ORDER BY id LIMIT :n)
        RETURNING id, CAST(custom_id AS bigint) AS {key}, result_type, payload
    )
"""

WITH_TOPICS = sa.text(
    """
    WITH {taken}, t AS (
        SELECT id, name, description, segment_type, taxonomy_type, parent_category,
               subcategory, audience_type, classification_version, classification_source,
               review_status
        FROM topics
        WHERE id IN (SELECT topic_id FROM s) AND {live}
        FOR UPDATE
    )
    SELECT t.*, s.topic_id, s.result_type, {answer}
    FROM s LEFT JOIN t ON t.id = s.topic_id
    ORDER BY s.id
    """.replace("{taken}", _TAKEN.replace("{key}", "topic_id"))
    .replace("{answer}", _ANSWER_COLUMNS).replace("{live}", LIVE_TOPIC_SQL)
)

BY_REQUEST = sa.text(
    """
    WITH {taken}
    SELECT s.request_id, s.result_type, {answer}
    FROM s ORDER BY s.id
    """.replace("{taken}", _TAKEN.replace("{key}", "request_id"))
    .replace("{answer}", _ANSWER_COLUMNS)
)


def post_process(conn: Connection, job: Job, cursor: BatchCursor,
                 write: Callable[[list[Any], ChunkOutcome], None], *,
                 take: sa.TextClause = WITH_TOPICS) -> ChunkOutcome:
    """Phase 2b: take up to 500 staged results; ``write(staged, outcome)`` applies them
    (a staged row of WITH_TOPICS: the topic's columns, None when it is gone, then
    result_type, answer, stop_reason, failure; of BY_REQUEST: request_id, then the same).
    Completes the job when every batch is staged and nothing is left.
    """
    staged = conn.execute(take, {"job_id": job.id, "n": POST_PROCESS_CHUNK}).all()
    outcome = ChunkOutcome(cursor=cursor, done=False)
    usage = Usage.total(Usage.from_dict(BatchResult.of(job.result).usage),
                        ({"usage": row.usage} for row in staged if row.usage))
    write(staged, outcome)
    finished = len(staged) < POST_PROCESS_CHUNK and not conn.execute(sa.select(sa.exists().where(
        llm_batches.c.job_id == job.id, llm_batches.c.confirmed, ~llm_batches.c.done))
    ).scalar_one()
    if finished:
        conn.execute(sa.delete(batch_results_staging).where(
            batch_results_staging.c.job_id == job.id))
    outcome.done = finished
    outcome.result_patch.update(BatchResult(
        phase="done" if finished else POLL_PHASE, usage=usage.as_dict()).patch("phase", "usage"))
    return outcome


def cancel_batches(conn: Connection, job: Job) -> list[str]:
    """Cancel the job's batches that have not ended (those a dead process left unconfirmed
    too); returns their ids.
    """
    api = client()
    cancelled = []
    for batch_id in conn.execute(sa.select(llm_batches.c.batch_id).where(
            llm_batches.c.job_id == job.id,
            llm_batches.c.status.not_in(["ended", "canceling"]))).scalars():
        try:
            api.messages.batches.cancel(batch_id)
        except api_error() as exc:
            raise LLMUnavailable(f"Could not cancel batch {batch_id}: {exc}") from exc
        cancelled.append(batch_id)
    conn.execute(sa.update(llm_batches).where(llm_batches.c.batch_id.in_(cancelled))
                 .values(status="canceling"))
    return cancelled
