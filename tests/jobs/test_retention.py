"""Retention: prune removes only what the settings say, a job it kept still rolls back, a
pruned job's rollback and an answerless job's resume are refused with the reason, and a
worker applies the settings.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from jobcore.classify import recovery
from jobcore.cli.main import main
from jobcore.config import get_settings
from jobcore.errors import Conflict, JobNotFound
from jobcore.jobs import drive, retention, runner, store
from jobcore.jobs.worker import Worker
from jobcore.schema import admin_jobs, batch_results_staging, pruned_jobs, topic_history
from tests.conftest import rules_changed_since


def _finished_job(engine, many_topics, *, days_ago: float, topics: int = 5) -> str:
    """A completed local reclassify job over new topics, ended ``days_ago``."""
    many_topics(topics)
    created = runner.create_job("reclassify", {}, engine=engine)
    drive.run_to_completion(created.id, engine=engine)
    _age(engine, created.id, days_ago)
    return created.id


def _age(engine, job_id: str, days_ago: float) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE admin_jobs SET completed_at = now() - make_interval("
                             "secs => :s) WHERE id = :id"), {"s": days_ago * 86400, "id": job_id})


def _chunk_count(engine, job_id: str) -> int:
    return len(runner.job_chunks(job_id, engine=engine))


def _stage(engine, job_id: str, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(batch_results_staging), [
            {"job_id": job_id, "custom_id": str(i), "batch_id": "msgbatch_x",
             "result_type": "succeeded", "payload": {"custom_id": str(i)}} for i in range(n)])


def test_prune_removes_only_the_chunk_logs_the_settings_say(engine, many_topics):
    old = _finished_job(engine, many_topics, days_ago=40)
    recent = _finished_job(engine, many_topics, days_ago=10)
    failed = _finished_job(engine, many_topics, days_ago=45)
    with engine.begin() as conn:  # a failed LLM job with answers still staged
        conn.execute(sa.update(admin_jobs).where(admin_jobs.c.id == failed)
                     .values(status="failed", failure_message="the API key was revoked"))
    _stage(engine, failed, 3)
    unfinished = runner.create_job("reclassify", {"force": True}, engine=engine)
    runner.process_chunk(unfinished.id, engine=engine)
    before = {j: _chunk_count(engine, j) for j in (old, recent, failed, unfinished.id)}
    policy = retention.Policy(log_days=30, job_days=None)

    planned = retention.prune(engine=engine, policy=policy, dry_run=True)
    assert (planned.jobs, planned.logs, planned.chunks, planned.staged) == (
        0, 2, before[old] + before[failed], 3)
    assert _chunk_count(engine, old) == before[old]  # a dry run changes nothing

    done = retention.prune(engine=engine, policy=policy)
    assert (done.jobs, done.logs, done.chunks, done.staged) == (
        0, 2, before[old] + before[failed], 3)
    assert {j: _chunk_count(engine, j) for j in before} == {
        old: 0, recent: before[recent], failed: 0, unfinished.id: before[unfinished.id]}
    assert retention.prune(engine=engine, policy=policy).logs == 0  # nothing left to do
    pruned = runner.get_job_summary(old, engine=engine)
    assert pruned.log_pruned_at is not None and pruned.status == "completed"
    assert runner.get_job(old, engine=engine).success_count == 5  # the record stays

    # the failed job's staged answers are gone: it cannot go on, and says why
    with pytest.raises(Conflict, match="retention removed its 3 staged LLM results"):
        runner.resume_job(failed, engine=engine)
    assert "pruned" in [e.kind for e in runner.job_events(failed, engine=engine)]

    # history is kept: the pruned-log job still rolls back
    rollback = recovery.create_rollback(old, engine=engine)
    assert drive.run_to_completion(rollback.id, engine=engine).success_count == 5


def test_finished_jobs_go_only_with_job_retention_and_their_rollback_is_refused(
        engine, many_topics):
    gone = _finished_job(engine, many_topics, days_ago=90)
    named = _finished_job(engine, many_topics, days_ago=90)
    with engine.begin() as conn:  # give the second one topic errors, and a live retry
        topic = conn.execute(sa.select(topic_history.c.topic_id)
                             .where(topic_history.c.job_id == named).limit(1)).scalar_one()
        conn.execute(sa.text("INSERT INTO admin_job_errors (job_id, topic_id, error) VALUES "
                             "(:j, :t, CAST(:e AS jsonb))"),
                     {"j": named, "t": topic, "e": f'{{"id": {topic}, "message": "x"}}'})
        conn.execute(sa.text("UPDATE admin_jobs SET error_count = 1, "
                             "success_count = success_count - 1 WHERE id = :j"), {"j": named})
    retry = recovery.create_retry(named, engine=engine)
    young = _finished_job(engine, many_topics, days_ago=20)
    with engine.connect() as conn:
        history = conn.execute(sa.select(sa.func.count()).select_from(topic_history)
                               .where(topic_history.c.job_id == gone)).scalar_one()

    # the default keeps finished jobs
    assert retention.prune(engine=engine, policy=retention.Policy(30, None)).jobs == 0
    policy = retention.Policy(log_days=30, job_days=60)
    report = retention.prune(engine=engine, policy=policy)
    assert (report.jobs, report.jobs_kept_for_live) == (1, 1)
    assert "it keeps 1 old enough to go that an unfinished job still names" in report.summary()

    with engine.connect() as conn:
        assert conn.execute(sa.select(pruned_jobs.c.job_type, pruned_jobs.c.status)
                            .where(pruned_jobs.c.id == gone)).one() == ("reclassify",
                                                                       "completed")
        # the topics keep their history, naming the job
        assert conn.execute(sa.select(sa.func.count()).select_from(topic_history)
                            .where(topic_history.c.job_id == gone)).scalar_one() == history
    for kept in (named, young, retry.id):
        assert runner.get_job_summary(kept, engine=engine).id == kept
    with pytest.raises(JobNotFound, match=rf"Job {gone} \(reclassify, completed .*\) was "
                                          r"pruned on .* can no longer be rolled back"):
        recovery.create_rollback(gone, engine=engine)
    with pytest.raises(JobNotFound, match="was pruned on"):
        runner.get_job(gone, engine=engine)
    with pytest.raises(JobNotFound, match="No job with id"):
        runner.get_job("job_1_neverwas", engine=engine)


def test_prune_from_the_command_line_and_a_worker(app_env, engine, many_topics, capsys,
                                                  monkeypatch):
    old = _finished_job(engine, many_topics, days_ago=40)
    assert main(["prune", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "keep their chunk log and staged LLM results 30 days" in out
    assert "would remove the chunk logs of 1 finished job (" in out
    assert _chunk_count(engine, old) > 0

    monkeypatch.setenv("CHUNK_LOG_RETENTION_DAYS", "never")
    get_settings.cache_clear()
    assert main(["prune"]) == 0
    assert "removed the chunk logs of 0 finished jobs" in capsys.readouterr().out
    assert _chunk_count(engine, old) > 0

    monkeypatch.setenv("CHUNK_LOG_RETENTION_DAYS", "35")
    get_settings.cache_clear()
    lines: list[str] = []
    worker = Worker("w1", engine=engine, idle_seconds=0.01, report=lines.append)
    worker.run(threading.Event(), until_idle=True)
    assert _chunk_count(engine, old) == 0
    assert any("removed the chunk logs of 1 finished job" in line for line in lines)


def test_a_failed_retry_that_can_be_resumed_keeps_its_source(engine, make_topic):
    failing = make_topic("Qqqz Wxyv")
    source = runner.create_job("reclassify", {"force": True, "topicIds": [failing]},
                               engine=engine)
    drive.run_to_completion(source.id, engine=engine)
    rules_changed_since(engine, source.id)
    retry = recovery.create_retry(source.id, engine=engine)
    with engine.begin() as conn:  # the retry failed (say, a revoked key): it may be resumed
        store.fail_job(conn, retry.id, "the API key was revoked")
    _age(engine, source.id, 90)
    report = retention.prune(engine=engine, policy=retention.Policy(30, 60))
    assert (report.jobs, report.jobs_kept_for_live) == (0, 1)
    runner.resume_job(retry.id, engine=engine)
    assert drive.run_to_completion(retry.id, engine=engine).processed_items == 1


def test_prune_works_in_batches_stops_for_time_and_yields_to_a_running_prune(
        engine, many_topics):
    for _ in range(3):
        _finished_job(engine, many_topics, days_ago=40, topics=1)
    policy = retention.Policy(log_days=30, job_days=None)
    stopped = retention.prune(engine=engine, policy=policy, max_seconds=0)
    assert (stopped.finished, stopped.logs) == (False, 0)
    assert stopped.summary().endswith("Stopped for time: run it again for the rest.")
    with engine.connect() as other:  # a worker's prune holds the lock
        other.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": retention._LOCK_KEY})
        busy = retention.prune(engine=engine, policy=policy)
        other.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": retention._LOCK_KEY})
    assert busy.skipped and busy.summary().startswith("Another prune is running")
    done = retention.prune(engine=engine, policy=policy, log_batch=1)
    assert (done.logs, done.finished) == (3, True)
