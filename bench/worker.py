"""A worker's overhead per chunk against a direct process_chunk loop, on the reclassify bench.

Each round seeds the same 20,000-topic demo catalogue into two fresh databases (vacuumed
and checkpointed) and creates the same local reclassify job (default settings) in each:
one driven by direct runner.process_chunk calls, the other handed to the workers and
driven by a Worker turn by turn exactly as ``python -m jobcore worker`` runs it (the
retention check, the job pick, the chunk, its log line). The two advance in lockstep, one
chunk each in turn (the order alternating), so that both meet the same moments of disk
and server noise, which on this machine moves a whole run by 20 %. Prints the time per
chunk of each, the worker's overhead (target under 5 %), and the worker's own time outside
process_chunk.

    python bench/worker.py [--topics 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench.reclassify_local import fresh_catalogue
from jobcore.config import get_settings
from jobcore.db import drop_database, resolve_url
from jobcore.jobs import runner
from jobcore.jobs.worker import Worker


def lockstep(direct_engine: sa.Engine, worker_engine: sa.Engine
             ) -> tuple[list[float], list[float], float, int]:
    """Seconds of each direct chunk and of each worker turn, the worker's seconds inside
    process_chunk, and the topics done.
    """
    created = runner.create_job("reclassify", {"mode": "local"}, engine=direct_engine)
    handed = runner.create_job("reclassify", {"mode": "local"}, engine=worker_engine,
                               background=True)
    worker = Worker("bench", engine=worker_engine, report=lambda line: None)
    inside: list[float] = []
    process_chunk = runner.process_chunk

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return process_chunk(*args, **kwargs)
        finally:
            inside.append(time.perf_counter() - started)

    direct_times: list[float] = []
    worker_times: list[float] = []
    direct_done = worker_done = False
    turn = 0
    while not (direct_done and worker_done):
        order = ["direct", "worker"] if turn % 2 == 0 else ["worker", "direct"]
        turn += 1
        for who in order:
            started = time.perf_counter()
            if who == "direct" and not direct_done:
                direct_done = process_chunk(created.id, engine=direct_engine).done
                direct_times.append(time.perf_counter() - started)
            elif who == "worker" and not worker_done:
                runner.process_chunk = timed  # what the worker calls, timed
                try:
                    worker.prune_if_due()  # one turn of Worker.run
                    report = worker.step()
                finally:
                    runner.process_chunk = process_chunk
                worker_times.append(time.perf_counter() - started)
                worker_done = report is not None and report.done
    assert runner.get_job_summary(handed.id, engine=worker_engine).status == "completed"
    assert worker.step() is None  # nothing left: the last turn a worker makes
    items = runner.get_job_summary(created.id, engine=direct_engine).processed_items
    return direct_times, worker_times, sum(inside), items


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topics", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    get_settings.cache_clear()
    server = resolve_url()
    direct_ms: list[float] = []
    worker_ms: list[float] = []
    own_ms: list[float] = []
    items = 0
    for n in range(args.rounds):
        engines = {}
        for label in ("direct", "worker"):
            drop_database(server, f"bench_worker_{label}")
            engines[label] = fresh_catalogue(server, f"bench_worker_{label}", args.topics)
        try:
            direct_times, worker_times, inside, items = lockstep(engines["direct"],
                                                                 engines["worker"])
        finally:
            for label, engine in engines.items():
                engine.dispose()
                drop_database(server, f"bench_worker_{label}")
        chunks = len(direct_times)
        direct_ms.append(sum(direct_times) / chunks * 1000)
        worker_ms.append(sum(worker_times) / len(worker_times) * 1000)
        own_ms.append((sum(worker_times) - inside) / len(worker_times) * 1000)
        print(f"round {n + 1}: {chunks} chunks of {items:,} topics each way; direct "
              f"{direct_ms[-1]:5.2f} ms, worker {worker_ms[-1]:5.2f} ms a chunk "
              f"({(worker_ms[-1] - direct_ms[-1]) / direct_ms[-1] * 100:+.1f} %)", flush=True)
    direct = statistics.median(direct_ms)
    worker = statistics.median(worker_ms)
    print(f"\nlocal reclassify of {items:,} topics, default settings, median of {args.rounds}")
    print(f"  direct process_chunk loop : {direct:6.2f} ms a chunk")
    print(f"  python -m jobcore worker  : {worker:6.2f} ms a chunk")
    paired = statistics.median((w - d) / d * 100 for w, d in zip(worker_ms, direct_ms,
                                                                 strict=True))
    print(f"  worker overhead           : {paired:+5.1f} % (median of the rounds' pairs; "
          f"{(worker - direct) / direct * 100:+.1f} % between the medians above; target "
          "under 5 %)")
    print(f"  the worker's own time outside process_chunk: "
          f"{statistics.median(own_ms):.3f} ms a chunk (its retention check, job pick, log line)")


if __name__ == "__main__":
    main()
