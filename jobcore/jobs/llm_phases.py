"""reclassify in llm and column modes: Anthropic's Message Batches API in three phases.

1. **submit**: the eligible topics, 100 a sub-batch (custom_id = topic id), one message
   batch each; each batch id goes into the job's cursor in the same transaction as the
   cursor move, and a call stops at the first failure after committing what it
   submitted, so a failed call or a crash after the commit never submits a topic twice or
   loses a batch. (A crash between Anthropic accepting a batch and that commit would
   submit its topics again on the next call: the window is one HTTP response.)
2. **poll and stage** (each call): ended batches' results stream into
   batch_results_staging, at most 2,000 a call and within 45 s; **post-process** (same
   call): 500 staged results are read, validated against the taxonomy and written with
   history; a bad answer or an errored, expired or canceled result is the topic's error
   and flags it needs_review. When every batch is staged and nothing is left, the job
   completes and its staging rows are gone.
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from typing import Any

import anthropic
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore import catalog, embeddings
from jobcore.classify.llm import AnswerError, Usage, read_answer, request_params
from jobcore.config import get_settings
from jobcore.errors import JobcoreError
from jobcore.jobs.base import ChunkOutcome, ItemError
from jobcore.schema import batch_results_staging, topics
from jobcore.store import Job

SUB_BATCH_SIZE = 100
SUBMITS_PER_CALL = 20
STAGE_PER_CALL = 2000
STAGE_SECONDS = 45.0
POST_PROCESS_CHUNK = 500


class LLMUnavailable(JobcoreError):
    """The Anthropic API did not take the request (after the SDK's retries); the job is
    unchanged and the next call tries again.
    """


def client() -> anthropic.Anthropic:
    """The SDK client from settings (its own retries for 429 and 5xx), made once."""
    settings = get_settings()
    return _client(settings.anthropic_api_key, settings.anthropic_base_url,
                   settings.anthropic_max_retries)


@lru_cache(maxsize=4)
def _client(api_key: str | None, base_url: str | None, max_retries: int) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=api_key, base_url=base_url, max_retries=max_retries,
                               timeout=60.0)


def _model(config) -> str:
    return config.model or get_settings().classification_model


def version_of(config) -> str:
    return f"llm:{_model(config)}"


def submit(conn: Connection, job: Job, config, rows: list[catalog.TopicRow],
           more: bool) -> ChunkOutcome:
    """Phase 1: submit ``rows`` in sub-batches; the cursor records each batch."""
    cursor = dict(job.cursor)
    cursor["batches"] = list(cursor.get("batches", []))
    api = client()
    problem = None
    for start in range(0, len(rows), SUB_BATCH_SIZE):
        part = rows[start:start + SUB_BATCH_SIZE]
        requests = [{"custom_id": str(t.id), "params": request_params(
            name=t.name, description=t.description, current=t.classification,
            model=_model(config), web_search=config.enable_web_search,
            target_column=config.target_column)} for t in part]
        try:
            batch = api.messages.batches.create(requests=requests)
        except anthropic.APIError as exc:
            problem = exc
            more = True
            break
        cursor["batches"].append({"id": batch.id, "requests": len(part),
                                  "status": batch.processing_status, "staged": 0,
                                  "counts": batch.request_counts.model_dump()})
        cursor["lastId"] = part[-1].id
        cursor["submitted"] = cursor.get("submitted", 0) + len(part)
    if problem is not None and not cursor["batches"][len(job.cursor.get("batches", [])):]:
        raise LLMUnavailable(f"Anthropic did not take the batch: {problem}") from problem
    if not more:
        cursor["phase"] = "poll"
    return ChunkOutcome(cursor=cursor, done=False,
                        result_patch={"phase": cursor.get("phase", "submit")})


def poll_and_stage(conn: Connection, job: Job, cursor: dict[str, Any]) -> None:
    """Phase 2a: retrieve unfinished batches; stream ended ones' results into staging."""
    api = client()
    started, staged = time.monotonic(), 0
    for entry in cursor["batches"]:
        if entry.get("done"):
            continue
        try:
            if entry["status"] != "ended":
                batch = api.messages.batches.retrieve(entry["id"])
                entry["status"] = batch.processing_status
                entry["counts"] = batch.request_counts.model_dump()
            if entry["status"] != "ended":
                continue
            rows = []
            # the JSONL as sent (the SDK's streaming response): building a typed model per
            # line only to store it as JSON again cost most of the staging time
            with api.messages.batches.with_streaming_response.results(entry["id"]) as stream:
                lines = (line for line in stream.iter_lines() if line.strip())
                for index, text in enumerate(lines):
                    if index < entry["staged"]:
                        continue
                    if staged + len(rows) >= STAGE_PER_CALL or \
                            time.monotonic() - started > STAGE_SECONDS:
                        break
                    line = json.loads(text)
                    rows.append({"job_id": job.id, "custom_id": line["custom_id"],
                                 "batch_id": entry["id"], "result_type": line["result"]["type"],
                                 "payload": line["result"]})
        except anthropic.APIError as exc:
            raise LLMUnavailable(f"Anthropic did not answer for batch {entry['id']}: "
                                 f"{exc}") from exc
        if rows:
            conn.execute(sa.dialects.postgresql.insert(batch_results_staging)
                         .on_conflict_do_nothing(), rows)
        entry["staged"] += len(rows)
        staged += len(rows)
        entry["done"] = entry["staged"] >= entry["requests"]
        if staged >= STAGE_PER_CALL:
            break


_STAGED = sa.text(
    """
    SELECT s.id, s.custom_id, s.result_type, s.payload
    FROM batch_results_staging s WHERE s.job_id = :job_id ORDER BY s.id LIMIT :n
    """
)


def post_process(conn: Connection, job: Job, config, cursor: dict[str, Any]) -> ChunkOutcome:
    """Phase 2b: up to 500 staged results written (or recorded as errors)."""
    staged = conn.execute(_STAGED, {"job_id": job.id, "n": POST_PROCESS_CHUNK}).all()
    outcome = ChunkOutcome(cursor=cursor, done=False)
    ids = [int(r.custom_id) for r in staged]
    current = {t.id: t for t in (catalog.topic_row(r) for r in conn.execute(
        catalog.select_topics(topics.c.id.in_(ids)).with_for_update()))}
    usage = Usage.from_dict(job.result.get("usage"))
    version = version_of(config)
    writes, flags = [], {}
    for row in staged:
        topic = current.get(int(row.custom_id))
        if topic is None:
            outcome.skips += 1  # deleted or merged since it was submitted
            continue
        message = row.payload.get("message") or {}
        usage = usage + Usage.of(message)
        try:
            if row.result_type != "succeeded":
                raise AnswerError(_failed_result(row.result_type, row.payload))
            new = read_answer(message, topic.classification, config.target_column)
        except AnswerError as exc:
            text = f"LLM: {exc}"
            fallback = _local_fallback(topic) if config.fallback_local else None
            if fallback is not None:
                outcome.errors.append(ItemError(f"{text}; classified by the local rules "
                                                f"instead", id=topic.id, name=topic.name))
                writes.append(fallback)
                continue
            outcome.errors.append(ItemError(text, id=topic.id, name=topic.name))
            flags[topic.id] = text
            continue
        history = None
        if new != topic.classification:
            history = (catalog.classification_state(topic), {
                **new.as_dict(), "classification_version": version,
                "classification_source": "llm"})
            outcome.success += 1
        else:
            outcome.skips += 1
        writes.append(catalog.ClassificationWrite(topic.id, new, version, "llm", history))
    catalog.apply_classifications(conn, writes, batch_id=job.id, action="reclassified",
                                  created_by=job.created_by)
    embeddings.keep_current(conn, [w.topic_id for w in writes if w.history is not None])
    catalog.flag_for_review(conn, flags)
    if staged:
        conn.execute(sa.delete(batch_results_staging).where(
            batch_results_staging.c.id.in_([r.id for r in staged])))
    finished = all(b.get("done") for b in cursor["batches"]) and len(staged) < \
        POST_PROCESS_CHUNK
    if finished:
        conn.execute(sa.delete(batch_results_staging).where(
            batch_results_staging.c.job_id == job.id))
    outcome.done = finished
    outcome.result_patch = {"phase": "done" if finished else "poll", "usage": usage.as_dict(),
                            "batches": [{k: b[k] for k in ("id", "requests", "status", "staged",
                                                           "counts")}
                                        for b in cursor["batches"]]}
    return outcome


def _local_fallback(topic: catalog.TopicRow) -> catalog.ClassificationWrite | None:
    """The local rules' classification of a topic whose LLM result failed, if they have one."""
    from jobcore.classify.rules import get_rule_engine
    from jobcore.jobs.reclassify import plan_topic

    engine = get_rule_engine()
    change = plan_topic(engine, topic)
    if change.error is not None or change.new is None:
        return None
    history = (catalog.classification_state(topic), {
        **change.new.as_dict(), "classification_version": engine.version,
        "classification_source": "rules", "rule": change.rule_id, "fallbackFrom": "llm"})
    return catalog.ClassificationWrite(topic.id, change.new, engine.version, "rules", history)


def _failed_result(kind: str, payload: dict[str, Any]) -> str:
    if kind == "errored":
        error = (payload.get("error") or {}).get("error") or {}
        return f"the request errored ({error.get('type', 'error')}: {error.get('message', '')})"
    return {"expired": "the request expired before it was processed (24 h)",
            "canceled": "the request was canceled"}.get(kind, f"result {kind}")


def cancel_batches(job: Job) -> list[str]:
    """Cancel the job's batches that have not ended; returns their ids."""
    api = client()
    cancelled = []
    for entry in job.cursor.get("batches", []):
        if entry.get("status") not in ("ended", "canceling"):
            try:
                api.messages.batches.cancel(entry["id"])
            except anthropic.APIError as exc:
                raise LLMUnavailable(f"Could not cancel batch {entry['id']}: {exc}") from exc
            cancelled.append(entry["id"])
    return cancelled
