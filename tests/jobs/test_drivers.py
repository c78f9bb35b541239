"""Who drives a job: each chunk logs its driver and any one-time load; a chunk running in
another process is seen without taking its lock, and a stuck one can be stopped.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from jobcore import warmup
from jobcore.classify.reclassify import ReclassifyHandler
from jobcore.config import get_settings
from jobcore.errors import JobBusy
from jobcore.jobs import runner, supervision


def test_each_chunk_records_who_drove_it_and_the_one_time_load_inside_it(
        engine, many_topics, monkeypatch):
    many_topics(60)
    # this process's other one-time loads (the classifier, the embedding model) done first
    runner.process_chunk(runner.create_job("reclassify", {"limit": 1}, engine=engine).id,
                         engine=engine)
    real_process = ReclassifyHandler.process
    book = f"the test rule book {uuid.uuid4().hex[:6]}"  # loaded by no earlier test

    def process_after_loading_once(self, conn, job, config, deadline):
        if not warmup.is_loaded(book):
            with warmup.one_time_load(book):
                time.sleep(0.2)
        return real_process(self, conn, job, config, deadline)

    monkeypatch.setattr(ReclassifyHandler, "process", process_after_loading_once)
    created = runner.create_job("reclassify", {}, engine=engine)
    runner.process_chunk(created.id, engine=engine, driven_by="ana")
    runner.process_chunk(created.id, engine=engine, driven_by="bob (command line)")
    first, second = runner.job_chunks(created.id, engine=engine)
    assert (first.driven_by, first.loaded) == ("ana", book)
    assert first.load_seconds >= 0.2
    assert first.work_seconds < (first.finished_at - first.started_at).total_seconds() - 0.19
    assert (second.driven_by, second.loaded, second.load_seconds) == (
        "bob (command line)", None, 0.0)


def test_a_chunk_running_elsewhere_is_seen_and_a_stuck_one_is_stopped_and_redone_whole(
        app_env, engine, many_topics, monkeypatch):
    many_topics(30)
    entered, release = threading.Event(), threading.Event()
    real_process = ReclassifyHandler.process

    def process_slowly(self, conn, job, config, deadline):
        outcome = real_process(self, conn, job, config, deadline)  # written, not committed
        entered.set()
        release.wait(30)
        return outcome

    monkeypatch.setattr(ReclassifyHandler, "process", process_slowly)
    created = runner.create_job("reclassify", {}, engine=engine)
    reports = []
    driver = threading.Thread(target=lambda: reports.append(
        runner.process_chunk(created.id, engine=engine, driven_by="tab two")))
    driver.start()
    assert entered.wait(30)
    with pytest.raises(JobBusy):  # the chunk holds the job's lock...
        runner.process_chunk(created.id, engine=engine)
    flight = supervision.chunk_in_flight(created.id, engine=engine)  # ...yet is seen
    assert flight is not None and flight.driven_by == "tab two"
    assert not supervision.is_stuck(flight)
    assert not supervision.stop_stuck_chunk(created.id, created_by="ana", engine=engine)

    monkeypatch.setenv("CHUNK_TIME_BUDGET_SECONDS", "0.05")  # now it is open far too long
    get_settings.cache_clear()
    time.sleep(0.2)
    assert supervision.is_stuck(supervision.chunk_in_flight(created.id, engine=engine))
    entered.clear()
    assert supervision.stop_stuck_chunk(created.id, created_by="ana", engine=engine)
    release.set()  # the first attempt returns at once and finds its connection gone
    # the driver was alive after all: its connection was lost, so it redoes the chunk whole
    assert entered.wait(30)
    driver.join(30)
    assert reports[0].processed_items == 30 and reports[0].done
    assert supervision.chunk_in_flight(created.id, engine=engine) is None
    events = runner.job_events(created.id, engine=engine)
    assert [(e.kind, e.created_by) for e in events] == [("chunk_stopped", "ana")]
    assert "driven by tab two" in events[0].message
    summary = runner.get_job_summary(created.id, engine=engine)
    assert (summary.processed_items, summary.success_count) == (30, 30)


@pytest.mark.parametrize(("driver", "shown"), [
    (None, None), ("ana", "ana"), ("analyst@example.com (command line)", "analyst@example.com..."),
    ("Zoë", "Zo?")])
def test_the_application_name_keeps_the_job_id_whole_and_cuts_the_driver_visibly(
        engine, driver, shown):
    import sqlalchemy as sa

    from jobcore.jobs import store

    name = store.chunk_application_name("job_1764844800000_abc12345", driver)
    assert len(name.encode()) <= 63 and name.isascii()
    with engine.begin() as conn:  # read back as another session would see it
        conn.execute(sa.text("SELECT set_config('application_name', :n, true)"), {"n": name})
        with engine.connect() as other:
            flight = store.chunks_in_flight(other)["job_1764844800000_abc12345"]
    assert flight.driven_by == shown


def test_the_classifier_is_a_one_time_load_of_the_chunk_that_builds_it(engine, many_topics):
    from jobcore.classify.segment_classifier import CLASSIFIER_LOAD, get_classifier

    many_topics(60)
    created = runner.create_job("reclassify", {}, engine=engine)
    get_classifier.cache_clear()  # as in an app process whose first job this is
    runner.process_chunk(created.id, engine=engine)
    runner.process_chunk(created.id, engine=engine)
    first, second = runner.job_chunks(created.id, engine=engine)
    assert CLASSIFIER_LOAD in first.loaded and first.load_seconds > 0
    assert second.loaded is None


def test_a_job_names_its_driver_between_chunks_until_that_driver_lets_go(engine, many_topics):
    from jobcore.jobs.drive import drive

    many_topics(120)
    job_id = runner.create_job("reclassify", {}, engine=engine).id
    # a page drives slice after slice: it holds the job between them
    drive(job_id, driven_by="ana", engine=engine, seconds=0.0, keeps_driving=True)
    assert runner.get_job_summary(job_id, engine=engine).driver == "ana"
    runner.release_driver(job_id, "bob", engine=engine)  # not bob's to let go
    assert runner.get_job_summary(job_id, engine=engine).driver == "ana"
    runner.release_driver(job_id, "ana", engine=engine)  # ana's Stop
    assert runner.get_job_summary(job_id, engine=engine).driver is None
    # the command line's one chunk lets go when it ends
    drive(job_id, driven_by="bob (command line)", engine=engine, seconds=0.0)
    job = runner.get_job_summary(job_id, engine=engine)
    assert (job.driver, job.processed_items) == (None, 100)
    # a run to the end leaves nobody holding a finished job
    drive(job_id, driven_by="ana", engine=engine, keeps_driving=True)
    job = runner.get_job_summary(job_id, engine=engine)
    assert (job.status, job.driver) == ("completed", None)
