"""Background workers: a handed-over job finishes with no page open, two workers and a page
on one job never process an item twice, SIGTERM mid-job leaves it resumable, a job taken
back is left alone, and workers poll LLM jobs waiting on their batches.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from jobcore.access import Role
from jobcore.classify import reclassify
from jobcore.errors import JobBusy, JobNotRunnable
from jobcore.jobs import runner
from jobcore.jobs.worker import Worker
from jobcore.schema import topic_history

ROOT = Path(__file__).resolve().parents[2]


def _worker(engine, name: str = "w1") -> Worker:
    return Worker(name, engine=engine, idle_seconds=0.05, report=lambda line: None)


def _history_per_topic(engine, job_id: str) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(
            sa.select(sa.func.count()).select_from(topic_history)
            .where(topic_history.c.job_id == job_id)
            .group_by(topic_history.c.topic_id)).scalars())


def test_a_background_job_finishes_with_no_page_open(engine, many_topics):
    many_topics(120)
    created = runner.create_job("reclassify", {}, engine=engine, background=True)
    chunks = _worker(engine).run(threading.Event(), until_idle=True)
    job = runner.get_job(created.id, engine=engine)
    assert (job.status, job.processed_items, chunks) == ("completed", 120, 3)
    assert {c.driven_by for c in runner.job_chunks(created.id, engine=engine)} == {"worker w1"}
    plain = runner.create_job("reclassify", {"force": True}, engine=engine)
    assert _worker(engine).run(threading.Event(), until_idle=True) == 0  # not handed over
    assert runner.get_job_summary(plain.id, engine=engine).status == "pending"


def test_two_workers_and_a_page_never_process_an_item_twice(engine, many_topics,
                                                             monkeypatch):
    monkeypatch.setattr(reclassify, "CHUNK_SIZE", 7)
    ids = many_topics(300)
    created = runner.create_job("reclassify", {}, engine=engine, background=True)
    stop = threading.Event()
    workers = [threading.Thread(target=_worker(engine, name).run, args=(stop,))
               for name in ("w1", "w2")]
    for thread in workers:
        thread.start()
    try:
        # a worker takes the job first (on a busy machine the page alone once ran it all
        # before either worker woke), then a page drives it too, against both workers
        deadline = time.monotonic() + 60
        while not runner.job_chunks(created.id, engine=engine) and time.monotonic() < deadline:
            time.sleep(0.005)
        while True:  # a page drives the same job meanwhile
            try:
                if runner.process_chunk(created.id, engine=engine, driven_by="ana").done:
                    break
            except JobBusy:
                time.sleep(0.005)
            except JobNotRunnable:  # a worker finished it between two looks
                break
            if runner.get_job_summary(created.id, engine=engine).is_finished:
                break
    finally:
        stop.set()
        for thread in workers:
            thread.join(timeout=60)
    job = runner.get_job(created.id, engine=engine)
    assert (job.status, job.processed_items, job.success_count) == ("completed", 300, 300)
    assert _history_per_topic(engine, created.id) == [1] * len(ids)  # each topic once
    drivers = {c.driven_by for c in runner.job_chunks(created.id, engine=engine)}
    assert drivers <= {"worker w1", "worker w2", "ana"} and len(drivers) >= 2


def test_sigterm_stops_after_the_chunk_and_the_job_resumes(engine, database_url,
                                                           many_topics):
    many_topics(7500)  # fifteen chunks of 500 (the worker's process keeps the real size)
    created = runner.create_job("reclassify", {}, engine=engine, background=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "jobcore", "worker", "--name", "sub"], cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while runner.get_job_summary(created.id, engine=engine).processed_items == 0:
            assert time.monotonic() < deadline and worker.poll() is None, worker.stderr.read()
            time.sleep(0.01)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert "SIGTERM: stopping after this chunk" in out and "stopped after" in out
    job = runner.get_job_summary(created.id, engine=engine)
    assert job.status == "processing" and 0 < job.processed_items < 7500

    _worker(engine).run(threading.Event(), until_idle=True)  # another worker takes it on

    job = runner.get_job(created.id, engine=engine)
    assert (job.status, job.processed_items) == ("completed", 7500)
    assert set(_history_per_topic(engine, created.id)) <= {1}


def test_a_job_taken_back_from_the_workers_is_left_to_the_page(engine, many_topics):
    many_topics(120)
    created = runner.create_job("reclassify", {}, engine=engine)
    assert runner.run_in_background(created.id, by="ana", engine=engine)
    assert not runner.run_in_background(created.id, by="ana", engine=engine)  # already
    assert runner.take_over(created.id, by="bob", engine=engine)
    assert _worker(engine).run(threading.Event(), until_idle=True) == 0
    assert [(e.kind, e.created_by) for e in runner.job_events(created.id, engine=engine)] == [
        ("to_background", "ana"), ("taken_over", "bob")]


def test_a_worker_in_the_middle_of_a_job_runs_no_chunk_after_it_is_taken_back(
        engine, many_topics, monkeypatch):
    monkeypatch.setattr(reclassify, "CHUNK_SIZE", 10)
    many_topics(100)
    created = runner.create_job("reclassify", {}, engine=engine, background=True)
    worker = _worker(engine)
    assert worker.step().processed_items == 10  # the worker's slice holds this job now
    assert runner.take_over(created.id, by="bob", engine=engine)
    assert worker.step() is None  # its chunk checks, under the row lock, whose job it is
    assert runner.get_job_summary(created.id, engine=engine).processed_items == 10
    assert runner.process_chunk(created.id, engine=engine).processed_items == 20  # the page


def test_workers_poll_llm_jobs_waiting_on_their_batches(engine, make_topic, fake_anthropic):
    make_topic("Golf Fans")
    created = runner.create_job("reclassify", {"mode": "llm"}, engine=engine)
    runner.process_chunk(created.id, engine=engine)  # submitted by a page that then closed
    worker = _worker(engine)
    worker.poll_seconds = 0.0
    worker.run(threading.Event(), until_idle=True)
    job = runner.get_job(created.id, engine=engine)
    assert (job.status, job.processed_items) == ("completed", 1)


def test_background_from_the_command_line_and_the_api(app_env, engine, many_topics, capsys):
    from fastapi.testclient import TestClient

    from jobcore.api import create_app, hash_token
    from jobcore.cli.main import main

    many_topics(60)
    assert main(["reclassify-global", "--background"]) == 0
    job_id = capsys.readouterr().out.split("created job ")[1].split(" ")[0]
    assert runner.get_job_summary(job_id).background
    assert main(["worker", "--name", "cli", "--until-idle"]) == 0
    assert "worker cli: stopped after 2 chunks" in capsys.readouterr().out
    assert runner.get_job_summary(job_id).status == "completed"
    assert main(["jobs", "background", job_id]) == 0
    assert "is finished or already the workers'" in capsys.readouterr().out

    app = create_app(engine=engine,
                     tokens={hash_token("t" * 40): ("ana@example.com", Role.OPERATOR)})
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {'t' * 40}"}
        created = client.post("/api/admin/jobs", json={
            "jobType": "reclassify", "config": {"force": True}, "background": True},
            headers=auth).json()
        record = client.get(f"/api/admin/jobs/{created['jobId']}", headers=auth).json()
    assert runner.get_job_summary(created["jobId"], engine=engine).background
    assert record["background"] is True
