"""merge and its undo on real PostgreSQL: what moves, what is consolidated, exact undo."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jobcore.dedup.follow_ups import UNDO_MERGE
from jobcore.errors import ConfigError, Conflict
from jobcore.jobs import detail as job_detail
from jobcore.jobs import drive, runner
from jobcore.schema import activations, merges, org_topics, topic_history, topics


def run(engine, job_type: str, config: dict) -> dict:
    created = runner.create_job(job_type, config, engine=engine)
    drive.run_to_completion(created.id, engine=engine)
    job = runner.get_job(created.id, engine=engine)
    return {"id": job.id, "result": job.result, "errors": job.errors,
            "success": job.success_count, "status": job.status}


def snapshot(engine) -> dict[str, list[tuple]]:
    """Whole rows of the catalogue tables a merge touches."""
    with engine.connect() as conn:
        return {table.name: [tuple(r) for r in conn.execute(
            sa.select(table).order_by(table.c.id))] for table in (topics, org_topics, activations)}


def links(engine, topic_id: int) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(org_topics.c.org_id)
                                .where(org_topics.c.topic_id == topic_id)).scalars())


def activation_rows(engine, topic_id: int) -> set[tuple]:
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(
            sa.select(activations.c.org_id, activations.c.platform, activations.c.status)
            .where(activations.c.topic_id == topic_id))}


@pytest.fixture
def cluster(engine, make_topic, make_org):
    """Winner W linked to O1 with a LiveRamp segment; L1 (O1, O2; LiveRamp at O1, Trade
    Desk at O2, a history row) and L2 (O2, O3; Trade Desk at O2).
    """
    o1, o2, o3 = make_org("Org One"), make_org("Org Two"), make_org("Org Three")
    w, l1, l2 = (make_topic(n, "Fans of yoga.") for n in (
        "Yoga Enthusiasts", "Yoga Enthusiast", "yoga enthusiasts"))
    with engine.begin() as conn:
        conn.execute(sa.insert(org_topics), [{"org_id": o, "topic_id": t} for o, t in (
            (o1, w), (o1, l1), (o2, l1), (o2, l2), (o3, l2))])
        conn.execute(sa.insert(activations), [
            {"org_id": o, "topic_id": t, "platform": p, "status": "active",
             "external_segment_id": f"seg-{t}-{p}"} for o, t, p in (
                (o1, w, "liveramp"), (o1, l1, "liveramp"), (o2, l1, "the_trade_desk"),
                (o2, l2, "the_trade_desk"))])
        conn.execute(sa.insert(topic_history).values(topic_id=l1, action="manual_edit",
                                                     new_values={"name": "Yoga Enthusiast"}))
    return {"w": w, "l1": l1, "l2": l2, "o1": o1, "o2": o2, "o3": o3}


def merge_config(c, word: str = "score") -> dict:
    return {"clusters": [{"winner": c["w"], "losers": [{"id": c["l1"], word: 0.99},
                                                       {"id": c["l2"], word: 0.97}]}]}


def test_merge_moves_and_consolidates_links_activations_and_history(engine, cluster):
    c = cluster
    job = run(engine, "merge", merge_config(c))
    assert job["status"] == "completed" and job["success"] == 1
    assert job["result"] == {"mergedClusters": 1, "mergedTopics": 2}
    assert links(engine, c["w"]) == {c["o1"], c["o2"], c["o3"]}
    assert links(engine, c["l1"]) == links(engine, c["l2"]) == set()
    assert activation_rows(engine, c["w"]) == {(c["o1"], "liveramp", "active"),
                                               (c["o2"], "the_trade_desk", "active")}
    # the duplicates of segments W already had stay with the losers, retired
    assert activation_rows(engine, c["l1"]) == {(c["o1"], "liveramp", "removed")}
    assert activation_rows(engine, c["l2"]) == {(c["o2"], "the_trade_desk", "removed")}
    with engine.connect() as conn:
        losers = conn.execute(sa.select(topics.c.id, topics.c.merged_into, topics.c.deleted_at)
                              .where(topics.c.id.in_([c["l1"], c["l2"]]))).all()
        assert all(r.merged_into == c["w"] and r.deleted_at is not None for r in losers)
        rows = conn.execute(sa.select(merges).order_by(merges.c.id)).all()
        history = conn.execute(sa.select(topic_history.c.topic_id, topic_history.c.action)
                               .order_by(topic_history.c.id)).all()
    assert [(r.winner_topic_id, r.loser_topic_id, r.score) for r in rows] == [
        (c["w"], c["l1"], 0.99), (c["w"], c["l2"], 0.97)]
    assert len(rows[0].moved["orgLinksMoved"]) == 1 and len(rows[0].moved["orgLinksDropped"]) == 1
    assert len(rows[1].moved["orgLinksMoved"]) == 1 and len(rows[1].moved["orgLinksDropped"]) == 1
    assert len(rows[0].moved["historyMoved"]) == 1
    # L1's old history now belongs to W; both topics of each pair got a 'merged' entry
    assert history[0] == (c["w"], "manual_edit")
    assert sorted(history[1:]) == sorted([(c["w"], "merged"), (c["l1"], "merged"),
                                          (c["w"], "merged"), (c["l2"], "merged")])


def test_a_merge_config_written_with_the_old_word_for_score_still_merges(engine, cluster):
    """Clusters stored or sent before ``similarity`` was called ``score`` keep working."""
    job = run(engine, "merge", merge_config(cluster, word="similarity"))
    assert job["status"] == "completed" and job["success"] == 1
    with engine.connect() as conn:
        scores = conn.execute(sa.select(merges.c.score).order_by(merges.c.id)).scalars().all()
    assert scores == [0.99, 0.97]


def test_undo_restores_the_catalogue_exactly(engine, cluster):
    before = snapshot(engine)
    merged = run(engine, "merge", merge_config(cluster))
    assert snapshot(engine) != before
    undo = UNDO_MERGE.create(merged["id"], engine=engine)
    assert undo.total_items == 1
    drive.run_to_completion(undo.id, engine=engine)
    assert snapshot(engine) == before
    with engine.connect() as conn:
        actions = conn.execute(sa.select(topic_history.c.topic_id, topic_history.c.action)
                               .where(topic_history.c.action == "unmerged")).all()
        assert conn.execute(sa.select(sa.func.count()).where(
            merges.c.undone_at.is_(None))).scalar_one() == 0
    assert len(actions) == 4
    # the merge's detail no longer says only "Clusters merged"
    merge_job = runner.get_job(merged["id"], engine=engine)
    title = job_detail.detail_tables(merge_job, engine=engine)[0].title
    assert title == f"Clusters merged, then undone by {undo.id} (1)"
    with pytest.raises(Conflict, match="already has an undo"):
        UNDO_MERGE.create(merged["id"], engine=engine)


def test_undo_refuses_a_cluster_changed_since(engine, cluster, make_topic):
    other_w, other_l = make_topic("Golf Fans"), make_topic("golf fans")
    merged = run(engine, "merge", {"clusters": [
        merge_config(cluster)["clusters"][0],
        {"winner": other_w, "losers": [{"id": other_l}]}]})
    with engine.begin() as conn:  # an analyst renames the winner afterwards
        conn.execute(sa.update(topics).where(topics.c.id == cluster["w"])
                     .values(name="Yoga Lovers", updated_at=sa.func.now()))
    undo = run(engine, "merge", {"undoOf": merged["id"]})
    assert undo["success"] == 1
    assert [e["id"] for e in undo["errors"]] == [cluster["w"]]
    assert "changed since the merge" in undo["errors"][0]["message"]
    with engine.connect() as conn:
        state = dict(conn.execute(sa.select(topics.c.id, topics.c.merged_into).where(
            topics.c.id.in_([cluster["l1"], other_l]))).tuples().all())
    assert state == {cluster["l1"]: cluster["w"], other_l: None}


def test_a_cluster_with_a_gone_member_is_an_error_and_the_job_goes_on(engine, make_topic):
    a, b, c, d = (make_topic(n) for n in ("Golf Fans", "golf fans", "Tennis Fans",
                                          "tennis fans"))
    with engine.begin() as conn:
        conn.execute(sa.update(topics).where(topics.c.id == b).values(deleted_at=sa.func.now()))
    job = run(engine, "merge", {"clusters": [{"winner": a, "losers": [{"id": b}]},
                                             {"winner": c, "losers": [{"id": d}]}]})
    assert job["status"] == "completed" and job["success"] == 1
    assert job["errors"] == [{"id": a, "message": f"Not merged: topic {b} is deleted"}]
    missing = run(engine, "merge", {"clusters": [{"winner": 999999, "losers": [{"id": a}]}]})
    assert missing["errors"][0]["message"] == "Winner topic 999999 does not exist"


def test_merges_many_clusters_in_chunks_of_ten(engine, make_topic):
    pairs = [(make_topic(f"Topic {i}"), make_topic(f"topic {i}")) for i in range(23)]
    created = runner.create_job("merge", {"clusters": [
        {"winner": w, "losers": [{"id": loser}]} for w, loser in pairs]}, engine=engine)
    first = runner.process_chunk(created.id, engine=engine)
    assert (first.processed_items, first.done) == (10, False)
    last = drive.run_to_completion(created.id, engine=engine)
    assert (last.processed_items, last.success_count) == (23, 23)


def test_a_spent_time_budget_ends_a_merge_chunk_early_and_the_next_resumes(engine,
                                                                          make_topic):
    pairs = [(make_topic(f"Topic {i}"), make_topic(f"topic {i}")) for i in range(3)]
    created = runner.create_job("merge", {"clusters": [
        {"winner": w, "losers": [{"id": loser}]} for w, loser in pairs]}, engine=engine)
    first = runner.process_chunk(created.id, engine=engine, time_budget=1e-9)
    assert (first.chunk_processed, first.done) == (0, False)
    last = drive.run_to_completion(created.id, engine=engine)
    assert (last.processed_items, last.success_count) == (3, 3)


@pytest.mark.parametrize(("config", "message"), [
    ({"clusters": []}, "at least one cluster"),
    ({"clusters": [{"winner": 1, "losers": []}]}, "losers"),
    ({"clusters": [{"winner": 1, "losers": [{"id": 1}]}]}, "topic 1 is twice in cluster 0"),
    ({"clusters": [{"winner": 1, "losers": [{"id": 2}]}, {"winner": 2, "losers": [{"id": 3}]}]},
     "topic 2 is in clusters 0 and 1"),
    ({"clusters": [{"winner": 1, "losers": [{"id": 2}]}], "undoOf": "job_1_abc"}, "undoOf"),
    ({"clusters": [{"winner": "one", "losers": [{"id": 2}]}]}, "winner"),
])
def test_bad_merge_config_is_refused(engine, config, message):
    with pytest.raises(ConfigError, match=message):
        runner.create_job("merge", config, engine=engine)


def test_only_a_completed_merge_can_be_undone(engine, make_topic):
    a, b = make_topic("Golf Fans"), make_topic("golf fans")
    created = runner.create_job("merge", {"clusters": [{"winner": a, "losers": [{"id": b}]}]},
                                engine=engine)
    with pytest.raises(Conflict, match="only a completed merge"):
        UNDO_MERGE.create(created.id, engine=engine)
    with pytest.raises(ConfigError, match="there is no job job_1_abc"):  # not "not a merge"
        UNDO_MERGE.create("job_1_abc", engine=engine)
    other = runner.create_job("reclassify", {}, engine=engine)
    with pytest.raises(ConfigError, match="is a reclassify job, not a merge job"):
        runner.create_job("merge", {"undoOf": other.id}, engine=engine)


def test_sweep_merge_undo_on_the_demo_catalogue_round_trips(demo_engine):
    sweep = run(demo_engine, "dedup_sweep", {})
    before = snapshot(demo_engine)
    merged = run(demo_engine, "merge", {"clusters": sweep["result"]["clusters"],
                                        "sourceSweepId": sweep["id"]})
    assert merged["success"] == len(sweep["result"]["clusters"]) > 20
    with demo_engine.connect() as conn:
        live = conn.execute(sa.select(sa.func.count()).where(
            topics.c.merged_into.is_(None))).scalar_one()
    assert live == len(before["topics"]) - sweep["result"]["duplicateCount"]
    undo = run(demo_engine, "merge", {"undoOf": merged["id"]})
    assert undo["errors"] == []
    assert snapshot(demo_engine) == before
