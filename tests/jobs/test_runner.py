"""The job contract: transitions, counters, cursor, cancel, concurrency, crash safety."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from jobcore.catalog import topic_store
from jobcore.errors import (
    ConfigError,
    Conflict,
    JobBusy,
    JobNotFound,
    JobNotRunnable,
    UnknownJobType,
)
from jobcore.jobs import drive, runner, store
from jobcore.schema import topic_history


def _history_counts(engine, job_id):
    with engine.connect() as conn:
        rows = conn.execute(sa.select(topic_history.c.topic_id)
                            .where(topic_history.c.job_id == job_id)).scalars().all()
    return Counter(rows)


def test_job_moves_pending_processing_completed_with_timestamps(engine, many_topics):
    many_topics(120)
    created = runner.create_job("reclassify", {}, engine=engine, created_by="ana")
    job = runner.get_job(created.id, engine=engine)
    assert (job.status, job.started_at, job.completed_at) == ("pending", None, None)
    assert job.total_items == created.total_items == 120
    assert job.created_by == "ana"

    first = runner.process_chunk(created.id, engine=engine)
    job = runner.get_job(created.id, engine=engine)
    assert (first.status, first.done, first.processed_items) == ("processing", False, 50)
    assert job.started_at is not None and job.completed_at is None

    runner.process_chunk(created.id, engine=engine)
    last = runner.process_chunk(created.id, engine=engine)
    job = runner.get_job(created.id, engine=engine)
    assert (last.status, last.done, last.processed_items) == ("completed", True, 120)
    assert job.completed_at is not None and job.completed_at >= job.started_at
    assert job.chunk_count == 3


def test_counters_add_up_over_a_whole_job(engine, many_topics, make_topic):
    many_topics(90)
    make_topic("Zzzq Qqqz")  # no rule matches: an item error
    make_topic("Yoga Enthusiasts #0", classification_version="rules-old",
               classification_source="rules", segment_type="b2c", taxonomy_type="Interest",
               parent_category="Healthy Living", subcategory="Fitness and Exercise",
               audience_type="interest")  # outdated but unchanged: skipped
    created = runner.create_job("reclassify", {}, engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert report.processed_items == report.total_items == 92
    assert report.processed_items == (report.success_count + report.error_count
                                      + report.skip_count)
    assert (report.success_count, report.error_count, report.skip_count) == (90, 1, 1)


def test_errors_accumulate_across_chunks_and_are_never_cleared(engine, make_topic):
    for i in range(120):
        make_topic(f"Qqqz Nothing {i}" if i % 40 == 0 else f"Yoga Enthusiasts {i}")
    created = runner.create_job("reclassify", {}, engine=engine)
    seen = []
    while True:
        report = runner.process_chunk(created.id, engine=engine)
        errors = runner.get_job(created.id, engine=engine).errors
        assert errors[: len(seen)] == seen  # earlier errors are kept as they were
        seen = errors
        if report.done:
            break
    assert [e["name"] for e in seen] == ["Qqqz Nothing 0", "Qqqz Nothing 40", "Qqqz Nothing 80"]
    assert all(set(e) == {"id", "name", "message"} for e in seen)


def test_cancel_takes_effect_between_chunks_and_refuses_further_chunks(engine, many_topics):
    many_topics(150)
    created = runner.create_job("reclassify", {}, engine=engine)
    runner.process_chunk(created.id, engine=engine)
    cancelled = runner.cancel_job(created.id, engine=engine)
    assert cancelled.status == "cancelled" and cancelled.completed_at is not None
    with pytest.raises(JobNotRunnable, match="cancelled"):
        runner.process_chunk(created.id, engine=engine)
    job = runner.get_job(created.id, engine=engine)
    assert job.processed_items == 50
    assert sum(_history_counts(engine, created.id).values()) == 50
    with pytest.raises(JobNotRunnable, match="already cancelled"):
        runner.cancel_job(created.id, engine=engine)


def test_completed_job_refuses_chunks_with_a_clear_error(engine, many_topics):
    many_topics(3)
    created = runner.create_job("reclassify", {}, engine=engine)
    drive.run_to_completion(created.id, engine=engine)
    with pytest.raises(JobNotRunnable, match=f"Job {created.id} is completed"):
        runner.process_chunk(created.id, engine=engine)


def test_missing_job_and_unknown_type_are_named(engine):
    with pytest.raises(JobNotFound, match="job_0_nope"):
        runner.process_chunk("job_0_nope", engine=engine)
    with pytest.raises(UnknownJobType, match=r"'frobnicate'.*known: .*reclassify"):
        runner.create_job("frobnicate", {}, engine=engine)


def test_job_with_no_items_completes_on_first_chunk(engine):
    created = runner.create_job("reclassify", {}, engine=engine)
    assert created.total_items == 0
    report = runner.process_chunk(created.id, engine=engine)
    assert (report.status, report.processed_items) == ("completed", 0)


def test_two_threads_never_process_a_topic_twice(engine, many_topics):
    many_topics(2000)
    created = runner.create_job("reclassify", {}, engine=engine)
    calls = Counter()
    lock = threading.Lock()
    budget = iter(range(200))

    def worker() -> None:
        while True:
            with lock:
                if next(budget, None) is None:
                    return
            try:
                report = runner.process_chunk(created.id, engine=engine)
                outcome = "done" if report.done else "chunk"
            except JobBusy:
                outcome = "busy"
            except JobNotRunnable:
                outcome = "finished"
            with lock:
                calls[outcome] += 1

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(calls.values()) == 200
    job = runner.get_job(created.id, engine=engine)
    history = _history_counts(engine, created.id)
    assert job.chunk_count == calls["chunk"] + calls["done"]
    assert job.processed_items == job.success_count == sum(history.values())
    assert set(history.values()) <= {1}  # no topic twice, whatever interleaving happened

    if not job.is_finished:
        drive.run_to_completion(created.id, engine=engine)
    job = runner.get_job(created.id, engine=engine)
    history = _history_counts(engine, created.id)
    assert job.status == "completed"
    assert job.processed_items == job.success_count == 2000
    assert len(history) == 2000 and set(history.values()) == {1}


def test_second_caller_is_told_the_job_is_busy(engine, many_topics):
    many_topics(10)
    created = runner.create_job("reclassify", {}, engine=engine)
    with engine.begin() as conn:
        store.lock_job(conn, created.id)  # another caller holds the job
        with pytest.raises(JobBusy, match="busy"):
            runner.process_chunk(created.id, engine=engine)
    assert runner.process_chunk(created.id, engine=engine).processed_items == 10


class SimulatedCrash(BaseException):
    """Like a killed process: not an Exception, so nothing handles it on the way out."""


def test_crash_after_item_writes_before_commit_leaves_no_trace(engine, many_topics,
                                                               monkeypatch, get_topic):
    ids = many_topics(80)
    created = runner.create_job("reclassify", {}, engine=engine)
    runner.process_chunk(created.id, engine=engine)
    real_update_progress = store.update_progress

    def crash_after_writes(*args, **kwargs):
        real_update_progress(*args, **kwargs)  # item writes and counters done, not committed
        raise SimulatedCrash

    monkeypatch.setattr(store, "update_progress", crash_after_writes)
    with pytest.raises(SimulatedCrash):
        runner.process_chunk(created.id, engine=engine)
    monkeypatch.setattr(store, "update_progress", real_update_progress)

    job = runner.get_job(created.id, engine=engine)
    assert (job.status, job.processed_items, job.chunk_count) == ("processing", 50, 1)
    assert get_topic(ids[60]).classification_version is None
    assert sum(_history_counts(engine, created.id).values()) == 50

    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.status, report.processed_items, report.success_count) == ("completed", 80, 80)
    history = _history_counts(engine, created.id)
    assert len(history) == 80 and set(history.values()) == {1}


def test_a_bug_in_a_chunk_fails_the_job_with_its_message_and_rolls_back(engine, many_topics,
                                                                       monkeypatch, get_topic):
    ids = many_topics(10)
    created = runner.create_job("reclassify", {}, engine=engine)

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero in the flagger")

    monkeypatch.setattr(topic_store, "flag_for_review", broken)
    report = runner.process_chunk(created.id, engine=engine)
    assert (report.status, report.done) == ("failed", True)
    assert "ZeroDivisionError: division by zero in the flagger" in report.failure_message
    job = runner.get_job(created.id, engine=engine)
    assert job.processed_items == 0 and job.completed_at is not None
    assert get_topic(ids[0]).classification_version is None  # the chunk rolled back
    with pytest.raises(JobNotRunnable, match=r"failed.*division by zero"):
        runner.process_chunk(created.id, engine=engine)


def test_a_failed_job_resumes_from_its_cursor_and_its_history_says_so(
        engine, many_topics, monkeypatch):
    many_topics(120)
    created = runner.create_job("reclassify", {}, engine=engine)
    runner.process_chunk(created.id, engine=engine)  # 50 done
    real_flag = topic_store.flag_for_review

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero in the flagger")

    monkeypatch.setattr(topic_store, "flag_for_review", broken)
    assert runner.process_chunk(created.id, engine=engine).status == "failed"
    monkeypatch.setattr(topic_store, "flag_for_review", real_flag)

    resumed = runner.resume_job(created.id, created_by="ana", engine=engine)
    assert (resumed.status, resumed.failure_message, resumed.processed_items) == (
        "processing", None, 50)
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.status, report.processed_items, report.success_count) == (
        "completed", 120, 120)
    assert set(_history_counts(engine, created.id).values()) == {1}  # nothing done twice
    events = runner.job_events(created.id, engine=engine)
    assert [(e.kind, e.created_by) for e in events] == [("failed", None), ("resumed", "ana")]
    assert "division by zero" in events[0].message and "division by zero" in events[1].message
    with pytest.raises(Conflict, match="only a failed job can be resumed"):
        runner.resume_job(created.id, created_by="ana", engine=engine)


def test_errors_come_back_in_order_however_many_chunks_recorded_them(engine, make_topic):
    ids = [make_topic(f"Qqqz Wxyv {i}") for i in range(130)]  # no rule classifies these
    created = runner.create_job("reclassify", {}, engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert report.error_count == 130
    job = runner.get_job(created.id, engine=engine)
    assert [e["id"] for e in job.errors] == ids
    assert runner.job_errors(created.id, offset=100, limit=5, engine=engine) == job.errors[100:105]
    assert runner.get_job(created.id, with_errors=False, engine=engine).errors == []


def test_time_budget_ends_a_chunk_early_and_the_next_resumes(engine, many_topics):
    many_topics(60)
    created = runner.create_job("reclassify", {}, engine=engine)
    first = runner.process_chunk(created.id, engine=engine, time_budget=1e-9)
    assert first.chunk_processed == 0 and not first.done
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.processed_items, report.success_count) == (60, 60)
    assert sum(_history_counts(engine, created.id).values()) == 60


def test_unknown_status_in_list_is_refused(engine):
    from jobcore.errors import UsageError

    with pytest.raises(UsageError, match="status must be one of"):
        runner.list_jobs(status="running", engine=engine)


def test_a_config_that_is_not_an_object_is_refused_by_name(engine):
    with pytest.raises(ConfigError, match="config for reclassify must be an object, got list"):
        runner.create_job("reclassify", ["rollbackOf"], engine=engine)
