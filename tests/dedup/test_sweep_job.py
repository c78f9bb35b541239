"""dedup_sweep on real PostgreSQL with pgvector: planted duplicates, guards, no chaining,
chunk boundaries, the not-duplicates list, HNSW and exact search.
"""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from jobcore.dedup import guards, matching, proposals, search, sweep_steps
from jobcore.errors import ConfigError
from jobcore.jobs import drive, runner
from jobcore.schema import activations, org_topics, topics
from tests.dedup.vectors import basis, set_vector, unit


def sweep(engine, **config) -> dict:
    created = runner.create_job("dedup_sweep", config, engine=engine)
    drive.run_to_completion(created.id, engine=engine)
    return runner.get_job(created.id, engine=engine).result


def clusters_of(result: dict) -> list[set[int]]:
    return [{c["winner"], *(m["id"] for m in c["losers"])} for c in result["clusters"]]


def planted_pairs(engine) -> list[tuple[int, int]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT topic_id, original_topic_id FROM demo_planted_duplicates"))]


def test_planted_duplicates_are_found_and_near_misses_refused_by_default(demo_engine):
    result = sweep(demo_engine)
    clusters = clusters_of(result)
    member_of = {m: i for i, members in enumerate(clusters) for m in members}
    with demo_engine.connect() as conn:
        variants = dict(conn.execute(sa.text(
            "SELECT topic_id, variant FROM demo_planted_duplicates")).all())
        near_misses = conn.execute(sa.text(
            "SELECT topic_id, other_topic_id FROM demo_near_misses")).all()
    planted = planted_pairs(demo_engine)
    assert {"provider", "reordered", "abbreviation", "wording", "description"} <= set(
        variants.values())
    missed = [(p, variants[p[0]]) for p in planted
              if p[0] not in member_of or member_of.get(p[0]) != member_of.get(p[1])]
    assert missed == []
    assert len(near_misses) > 5
    assert [p for p in near_misses if p[0] in member_of
            and member_of.get(p[0]) == member_of.get(p[1])] == []
    assert (result["matching"], result["threshold"], result["search"]) == ("hybrid", 0.60,
                                                                            "lexical")
    assert result["clusterCount"] == len(clusters)
    # each member is in one cluster, every loser scores at least the threshold with its
    # winner, and carries the evidence of that score
    assert sum(len(c) for c in clusters) == len(member_of)
    losers = [m for c in result["clusters"] for m in c["losers"]]
    assert all(m["score"] >= 0.60 for m in losers)
    assert all(m["score"] == pytest.approx(0.25 * m["semantic"] + 0.75 * m["lexical"],
                                                abs=1e-5) for m in losers)


def test_the_first_sweeps_semantic_matching_is_a_setting(demo_engine):
    result = sweep(demo_engine, matching="semantic")
    assert (result["matching"], result["threshold"]) == ("semantic", 0.95)
    losers = [m for c in result["clusters"] for m in c["losers"]]
    assert losers and all(m["score"] == m["semantic"] >= 0.95 for m in losers)


def test_distinct_topics_are_not_proposed(engine, make_topic):
    ids = {name: make_topic(name, "People who love it.") for name in (
        "Yoga Enthusiasts", "yoga enthusiasts", "Yoga Enthusiasts - US", "Yoga Enthusiasts - UK",
        "Pilates Enthusiasts", "Adults 25-29", "Adults 30-34")}
    _embed_all(engine)
    clusters = clusters_of(sweep(engine))
    assert clusters == [{ids["Yoga Enthusiasts"], ids["yoga enthusiasts"]}]


def test_a_cluster_never_holds_two_topics_whose_numbers_contradict(engine, make_topic):
    base, y2024, y2025 = (make_topic(name, "People shopping for a luxury SUV.") for name in (
        "Luxury SUV Intenders", "Luxury SUV Intenders 2024", "Luxury SUV Intenders 2025"))
    _embed_all(engine)
    clusters = clusters_of(sweep(engine, threshold=0.8))
    assert clusters and all(not {y2024, y2025} <= c for c in clusters)
    assert any({base, y2024} <= c or {base, y2025} <= c for c in clusters)


@pytest.mark.parametrize(("a", "b", "allowed"), [
    ("Acme PV375 PowerVerter 375-Watt Inverter - PV375",
     "Acme PowerVerter 375-Watt Inverter - PV375", True),  # a number repeated
    ("Acme 5 Port 10/100 Switch - FS105", "Acme FS105 Ethernet Switch", True),  # lacked
    ("Windows 10 Users", "Windows Users", True),
    ("Household Income $40,000-$49,999", "Household Income $50,000-$74,999", False),
    ("Adults 25-34", "Adults 35-44", False),
    ("Windows 10 Users", "Windows 11 Users", False),
    ("Yoga Enthusiasts - UK", "Yoga Enthusiasts - US", False),
    ("Yoga Enthusiasts - UK", "Yoga Enthusiasts", False),
])
def test_numbers_that_contradict_refuse_a_pair_and_missing_or_repeated_ones_do_not(
        a, b, allowed):
    assert guards.compatible(guards.markers(a), guards.markers(b)) is allowed
    assert guards.compatible(guards.markers(b), guards.markers(a)) is allowed


def _embed_all(engine) -> None:
    from jobcore.dedup import embeddings

    with engine.begin() as conn:
        embeddings.refresh_batch(conn, embeddings.get_provider())


def _links(engine, topic_id: int, org_id: int, count: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(org_topics).values(org_id=org_id, topic_id=topic_id))
        for platform in ("liveramp", "the_trade_desk")[:count - 1]:
            conn.execute(sa.insert(activations).values(org_id=org_id, topic_id=topic_id,
                                                       platform=platform))


@pytest.mark.parametrize("favourite", ["middle", "end"])
def test_clusters_do_not_chain(engine, make_topic, make_org, favourite):
    # A~B and B~C at 0.975, A~C at 0.90: every loser must be close to the winner.
    theta = math.acos(0.90)
    # names that read alike (the guards allow them); the vectors say how close they are
    a, b, c = (make_topic(n) for n in ("Topic A", "topic a", "TOPIC A"))
    for topic_id, angle in ((a, 0.0), (b, theta / 2), (c, theta)):
        set_vector(engine, topic_id, unit(angle))
    _links(engine, b if favourite == "middle" else a, make_org("Acme"), 3)
    result = sweep(engine, matching="semantic")
    if favourite == "middle":
        assert clusters_of(result) == [{a, b, c}]
        assert result["clusters"][0]["winner"] == b
    else:
        assert clusters_of(result) == [{a, b}]
        assert result["clusters"][0]["winner"] == a
    assert result["clusters"][0]["losers"][0]["score"] == pytest.approx(0.9747, abs=1e-3)


def test_a_cluster_split_over_two_chunks_is_found_once(engine, make_topic, monkeypatch):
    monkeypatch.setattr(sweep_steps, "CHUNK_SIZE", 50)
    names = [f"Topic {chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(70)]
    names[45], names[52], names[65] = "Shared Topic", "shared topic", "SHARED TOPIC"
    ids = [make_topic(name) for name in names]
    for i, topic_id in enumerate(ids):
        set_vector(engine, topic_id, basis(2 * i))
    set_vector(engine, ids[65], unit(0.1, axis=2 * 45))  # 65 ~ 45 across the chunk boundary
    set_vector(engine, ids[52], unit(-0.1, axis=2 * 45))  # and 52 ~ 45 too
    created = runner.create_job("dedup_sweep", {"matching": "semantic"}, engine=engine)
    first = runner.process_chunk(created.id, engine=engine)
    assert first.processed_items == 50 and not first.done
    second = runner.process_chunk(created.id, engine=engine)
    assert second.done and second.processed_items == 70
    assert second.skip_count == 2  # 52 and 65 were already placed by 45's cluster
    result = runner.get_job(created.id, engine=engine).result
    assert clusters_of(result) == [{ids[45], ids[52], ids[65]}]
    assert result["clusters"][0]["winner"] == ids[45]  # same links, classification: oldest


def test_not_duplicates_are_remembered_across_sweeps(demo_engine):
    first = sweep(demo_engine)
    cluster = first["clusters"][0]
    loser = cluster["losers"][0]["id"]
    with demo_engine.begin() as conn:
        matching.mark_not_duplicates(conn, cluster["winner"], loser, created_by="analyst")
        matching.mark_not_duplicates(conn, loser, cluster["winner"], created_by="analyst")
    again = sweep(demo_engine)
    assert not any(c["winner"] in (cluster["winner"], loser) and loser in c2 and
                   cluster["winner"] in c2 for c, c2 in zip(again["clusters"],
                                                            clusters_of(again), strict=True))
    assert again["duplicateCount"] < first["duplicateCount"]


def test_deleted_and_merged_topics_never_appear(demo_engine):
    (deleted, _), (merged, into) = planted_pairs(demo_engine)[:2]
    with demo_engine.begin() as conn:
        conn.execute(sa.update(topics).where(topics.c.id == deleted)
                     .values(deleted_at=sa.func.now()))
        conn.execute(sa.update(topics).where(topics.c.id == merged)
                     .values(merged_into=into, deleted_at=sa.func.now()))
    members = set().union(*clusters_of(sweep(demo_engine)))
    assert deleted not in members and merged not in members


def test_hnsw_search_finds_what_the_exact_search_finds(demo_engine, monkeypatch):
    # semantic matching searches the vector index (hybrid matching the lexical one)
    approximate = sweep(demo_engine, matching="semantic", threshold=0.9)
    monkeypatch.setattr(search, "EXACT_SEARCH_MAX", 10_000)
    exact = sweep(demo_engine, matching="semantic", threshold=0.9)
    assert (approximate["search"], exact["search"]) == ("hnsw", "exact")
    assert len(clusters_of(approximate)) > 10
    assert clusters_of(approximate) == clusters_of(exact)
    assert approximate["histogram"] == exact["histogram"]


def test_source_batch_sweeps_only_the_topics_that_job_changed(demo_engine):
    reclassify = runner.create_job("reclassify", {"limit": 120}, engine=demo_engine)
    drive.run_to_completion(reclassify.id, engine=demo_engine)
    with demo_engine.connect() as conn:
        changed = conn.execute(sa.text(
            "SELECT count(DISTINCT topic_id) FROM topic_history WHERE job_id = :b"),
            {"b": reclassify.id}).scalar_one()
    created = runner.create_job("dedup_sweep", {"sourceBatchId": reclassify.id},
                                engine=demo_engine)
    assert created.total_items == changed > 0


@pytest.mark.parametrize(("config", "field"), [
    ({"threshold": 1.5}, "threshold"),
    ({"threshold": "high"}, "threshold"),
    ({"sourceBatchId": "job_1_nothere"}, "sourceBatchId"),
    ({"parentCategoryFilter": "Not A Category"}, "parentCategoryFilter"),
    ({"clusters": []}, "clusters"),
])
def test_bad_config_names_the_field(engine, config, field):
    with pytest.raises(ConfigError) as info:
        runner.create_job("dedup_sweep", config, engine=engine)
    assert info.value.field == field


def test_a_topic_clustered_in_an_earlier_chunk_is_never_clustered_again(engine, make_topic,
                                                                        make_org, monkeypatch):
    monkeypatch.setattr(sweep_steps, "CHUNK_SIZE", 50)
    # A~B, B~C, A far from C, A wins {A: B} in the first chunk; sweeping C in the second
    # chunk finds only B, already placed: no second cluster.
    theta = math.acos(0.90)
    names = [f"Topic {chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(60)]
    names[0], names[1], names[55] = "Shared Topic", "shared topic", "SHARED TOPIC"
    ids = [make_topic(name) for name in names]
    for i, topic_id in enumerate(ids):
        set_vector(engine, topic_id, basis(2 * i + 4))
    a, b, c = ids[0], ids[1], ids[55]
    for topic_id, angle in ((a, 0.0), (b, theta / 2), (c, theta)):
        set_vector(engine, topic_id, unit(angle))
    _links(engine, a, make_org("Acme"), 3)
    result = sweep(engine, matching="semantic")
    assert clusters_of(result) == [{a, b}]


def test_a_pair_names_the_identifiers_both_carry_and_those_only_one_does():
    evidence = proposals.pair_evidence("Acme 5 Port 10/100 Switch - FS105",
                                      "Acme FS105 Ethernet Switch", 0.91, 0.6)
    assert (evidence.semantic, evidence.lexical) == (0.91, 0.6)
    # the model code is one identifier; its digits are not a number of the name
    assert evidence.shared == ("code FS105",)
    assert evidence.unshared == ("5", "10", "100")
    same = proposals.pair_evidence("Books & Literature Fans - UK", "books literature fans - UK",
                                  0.99, 1.0)
    assert same.shared == ("market GB",) and same.unshared == ()  # ISO: UK is GB
