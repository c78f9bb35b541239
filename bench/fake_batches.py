"""For the LLM benches: the loopback fake Message Batches API in a process of its own
(Anthropic's work is not ours to measure), and an LLM job driven phase by phase.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from jobcore.config import get_settings
from jobcore.jobs import runner

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class FakeApi:
    """The running fake: its URL; ``requests()`` counts the API requests it has had."""

    url: str

    def requests(self) -> int:
        return httpx.get(f"{self.url}/_fake/requests").json()["requests"]

    def finish(self) -> None:
        """End every batch in progress (their results become available)."""
        httpx.post(f"{self.url}/_fake/finish").raise_for_status()


@contextmanager
def fake_api(*args: str) -> Iterator[FakeApi]:
    """Start the fake (``args``: e.g. ``--pairs``) and point the settings at it."""
    with subprocess.Popen([sys.executable, "-m", "tests.fakes.anthropic_batches", *args],
                          cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as fake:
        assert fake.stdout is not None and fake.stdin is not None
        url = fake.stdout.readline().strip()
        os.environ.update(ANTHROPIC_API_KEY="sk-ant-fake", ANTHROPIC_BASE_URL=url)
        get_settings.cache_clear()
        try:
            yield FakeApi(url)
        finally:
            fake.stdin.close()


def drive_phase(engine, job_id: str, phase: str) -> float:
    """Process chunks while the job's cursor is in ``phase``; returns the seconds taken."""
    start = time.perf_counter()
    while runner.get_job(job_id, engine=engine, with_errors=False,
                         full_result=False).cursor.get("phase") == phase:
        runner.process_chunk(job_id, engine=engine)
    return time.perf_counter() - start


@dataclass(frozen=True)
class PhaseTwo:
    """Poll, stage and post-process to the end: all of it, and the calls made once every
    result was staged (post-processing alone).
    """

    seconds: float
    post_only_seconds: float
    post_only_items: int
    report: runner.ChunkReport


def drive_phase_two(engine, job_id: str) -> PhaseTwo:
    """Process chunks until the job is done (its batches ended)."""
    seconds = post_only_seconds = 0.0
    post_only_items = 0
    staging_left = True
    while True:
        start = time.perf_counter()
        report = runner.process_chunk(job_id, engine=engine)
        took = time.perf_counter() - start
        seconds += took
        if not staging_left:  # every result was staged before this call
            post_only_seconds += took
            post_only_items += report.chunk_processed
        if report.done:
            return PhaseTwo(seconds, post_only_seconds, post_only_items, report)
        with engine.connect() as conn:
            staging_left = conn.execute(sa.text(
                "SELECT count(*) FROM llm_batches WHERE job_id = :j AND NOT done"),
                {"j": job_id}).scalar_one() > 0
