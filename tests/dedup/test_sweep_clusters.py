"""The Dedup Clusters screen keeps a sweep's clusters between reruns: what it keeps follows
the sweep as it runs on, and the clusters' states follow merges, deletions and a topic gone
from the table, read fresh on every load.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jobcore.dedup import cluster_review
from jobcore.jobs import drive, runner


def _states(engine, sweep_id: str) -> dict[int, str]:
    _job, reviewed = cluster_review.load_review(sweep_id, engine=engine)
    return {r.number: r.state for r in reviewed}


def test_a_sweeps_clusters_follow_it_as_it_runs_on(demo_engine):
    sweep_id = runner.create_job("dedup_sweep", {}, engine=demo_engine).id
    runner.process_chunk(sweep_id, engine=demo_engine)  # the first chunk: loads, few clusters
    first = _states(demo_engine, sweep_id)
    assert _states(demo_engine, sweep_id) == first  # read again unchanged
    drive.run_to_completion(sweep_id, engine=demo_engine)
    every = _states(demo_engine, sweep_id)
    with demo_engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM dedup_clusters WHERE job_id = :j"),
                              {"j": sweep_id}).scalar_one()
    assert len(every) == stored > len(first)
    assert set(every.values()) == {cluster_review.OPEN}


@pytest.mark.parametrize("gone_elsewhere", [False, True])
def test_cluster_states_follow_a_merge_a_deletion_and_a_topic_gone(demo_engine, gone_elsewhere):
    sweep_id = runner.create_job("dedup_sweep", {}, engine=demo_engine).id
    drive.run_to_completion(sweep_id, engine=demo_engine)
    if gone_elsewhere:  # far more gone topics outside the sweep than members: read by member
        with demo_engine.begin() as conn:
            conn.execute(sa.text(
                "UPDATE topics SET deleted_at = now() WHERE id NOT IN "
                "(SELECT topic_id FROM dedup_cluster_members WHERE job_id = :j)"),
                {"j": sweep_id})
    _job, reviewed = cluster_review.load_review(sweep_id, engine=demo_engine)
    merged, deleted, gone = reviewed[0], reviewed[1], reviewed[2]
    assert {merged.state, deleted.state, gone.state} == {cluster_review.OPEN}

    merge_id = cluster_review.start_merge([merged], sweep_id, created_by="analyst",
                                          engine=demo_engine).id
    drive.run_to_completion(merge_id, engine=demo_engine)
    loser = deleted.cluster.losers[0][0]
    vanished = gone.cluster.losers[0][0]
    with demo_engine.begin() as conn:
        conn.execute(sa.text("UPDATE topics SET deleted_at = now() WHERE id = :i"),
                     {"i": loser})
        # a row deleted by hand, references and all (foreign keys not enforced here)
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text("DELETE FROM topics WHERE id = :i"), {"i": vanished})

    states = _states(demo_engine, sweep_id)
    assert states[merged.number] == cluster_review.MERGED
    assert states[deleted.number] == cluster_review.STALE
    assert states[gone.number] == cluster_review.STALE
    untouched = set(states) - {merged.number, deleted.number, gone.number}
    assert {states[n] for n in untouched} == {cluster_review.OPEN}


def test_a_large_sweeps_clusters_are_kept_out_of_the_garbage_collectors_walk(demo_engine,
                                                                             monkeypatch):
    """A million-topic sweep's clusters and their review are millions of objects: each full
    collection of Python's garbage collector walked them all (2 s before a run of the
    screen). Each is frozen out of its reach once built; the collector runs again after.
    """
    import gc

    from jobcore.dedup import kept, sweep_clusters
    from jobcore.jobs import store

    sweep_id = runner.create_job("dedup_sweep", {}, engine=demo_engine).id
    drive.run_to_completion(sweep_id, engine=demo_engine)
    small = _states(demo_engine, sweep_id)
    assert small
    monkeypatch.setattr(kept, "FROZEN_FROM", 1)  # this demo's sweep counts as large
    with demo_engine.begin() as conn:  # a new stamp: the sweep's clusters are read again
        conn.execute(sa.text("UPDATE admin_jobs SET updated_at = now() WHERE id = :j"),
                     {"j": sweep_id})
    def frozen(value: object) -> bool:  # the collector no longer walks it
        return all(o is not value for o in gc.get_objects())

    try:
        with demo_engine.connect() as conn:
            stored = sweep_clusters.stored_clusters(conn, store.get_job(conn, sweep_id))
        assert frozen(stored.clusters[0].cluster) and gc.isenabled()
        _job, reviewed = cluster_review.load_review(sweep_id, engine=demo_engine)
        assert {r.number: r.state for r in reviewed} == small  # the same review
        assert frozen(reviewed[0]) and gc.isenabled()
        with pytest.raises(RuntimeError), kept.built_to_keep(1):
            raise RuntimeError("a build that fails")
        assert gc.isenabled()  # the collector runs again after a failed build
    finally:
        gc.unfreeze()
