"""Analysts' decisions on a sweep's clusters: replayed in order into each cluster's edit,
undone one at a time per analyst, refused when malformed."""

from __future__ import annotations

import pytest

from jobcore.dedup import cluster_decisions as decisions
from jobcore.errors import UsageError
from jobcore.jobs import store


@pytest.fixture
def sweep_id(engine) -> str:
    with engine.begin() as conn:
        return store.create_job(conn, job_type="dedup_sweep", total_items=0,
                                created_by="ana", config={}).id


def test_a_clusters_decisions_replay_in_order_and_reset_starts_over(engine, sweep_id):
    with engine.begin() as conn:
        decisions.decide(conn, sweep_id, 3, decisions.WINNER, 12, by="ana")
        decisions.decide(conn, sweep_id, 3, decisions.REMOVE, 14, by="ana")
        decisions.decide(conn, sweep_id, 3, decisions.ACCEPT, by="bob")
        decisions.decide(conn, sweep_id, 5, decisions.ACCEPT, by="ana")
        decisions.decide(conn, sweep_id, 5, decisions.UNACCEPT, by="ana")
        decisions.decide(conn, sweep_id, 7, decisions.WINNER, 30, by="ana")
        decisions.decide(conn, sweep_id, 7, decisions.RESET, by="bob")
        edits = decisions.edits_of(conn, sweep_id)
    assert (edits[3].winner, edits[3].removed, edits[3].accepted) == (12, {14}, True)
    assert edits[3].decided_by == "bob" and edits[3].changes
    assert not edits[5].accepted and not edits[5].changes and edits[5].decided_by == "ana"
    assert edits[7].winner is None and not edits[7].changes and edits[7].decided_by == "bob"


def test_undo_takes_back_only_the_analysts_own_last_decision(engine, sweep_id):
    with engine.begin() as conn:
        decisions.decide(conn, sweep_id, 1, decisions.ACCEPT, by="ana")
        decisions.decide(conn, sweep_id, 2, decisions.WINNER, 9, by="ana")
        decisions.decide(conn, sweep_id, 4, decisions.ACCEPT, by="bob")
        undone = decisions.undo_last(conn, sweep_id, by="ana")
        assert undone is not None and (undone.cluster, undone.action) == (2, "winner")
        assert decisions.undo_last(conn, sweep_id, by="ana").cluster == 1
        assert decisions.undo_last(conn, sweep_id, by="ana") is None
        edits = decisions.edits_of(conn, sweep_id)
    assert list(edits) == [4] and edits[4].accepted  # bob's stays


@pytest.mark.parametrize(("action", "topic", "message"), [
    ("merge", None, "Unknown decision 'merge'"),
    (decisions.WINNER, None, "names the topic it is about"),
    (decisions.ACCEPT, 5, "names no topic"),
])
def test_a_malformed_decision_is_refused_naming_what_is_wrong(engine, sweep_id, action, topic,
                                                               message):
    with pytest.raises(UsageError, match=message), engine.begin() as conn:
        decisions.decide(conn, sweep_id, 1, action, topic, by="ana")
