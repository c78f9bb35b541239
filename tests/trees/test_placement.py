"""Taxonomy trees: seeding (idempotent, ids kept across relabels), realign-subcategories
and fix-subcategory-level0 on planted cases, with history, review flags and rollback.
"""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from jobcore.classify.recovery import create_rollback
from jobcore.errors import ConfigError
from jobcore.jobs import drive, runner
from jobcore.schema import taxonomy_nodes, topic_history
from jobcore.trees import seeding, tree_index
from tests.fakes.anthropic_batches import succeeded

SPORTS = {"segment_type": "b2c", "taxonomy_type": "Interest", "parent_category": "Sports",
          "audience_type": "interest"}


@pytest.fixture
def index(engine) -> tree_index.TreeIndex:
    with engine.begin() as conn:
        seeding.seed_trees(conn)
        return tree_index.load_index(conn)


def _history(engine, topic_id: int) -> list[tuple[str, dict]]:
    with engine.connect() as conn:
        return [(r.action, r.new_values) for r in conn.execute(
            sa.select(topic_history).where(topic_history.c.topic_id == topic_id)
            .order_by(topic_history.c.id))]


def test_seeding_twice_changes_nothing_the_second_time(engine):
    with engine.begin() as conn:
        first = seeding.seed_trees(conn)
    with engine.begin() as conn:
        second = seeding.seed_trees(conn)
        per_tree = dict(conn.execute(sa.select(taxonomy_nodes.c.taxonomy, sa.func.count())
                                     .group_by(taxonomy_nodes.c.taxonomy)).all())
    assert first.inserted == len(seeding.source_nodes()) and first.updated == 0
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, first.inserted)
    assert per_tree["iab_audience_1_1"] == 1558 and per_tree["iab_content_3_1"] == 704
    assert per_tree["b2b_technology"] > 30


def test_a_relabelled_source_updates_labels_and_keeps_the_ids_topics_point_to(
        engine, index, make_topic, get_topic, tmp_path):
    golf = index.node_at("Interest", "Sports", "Golf")
    topic_id = make_topic("Golf Fans", **SPORTS, subcategory="Golf", taxonomy_node_id=golf.id)
    edited = tmp_path / "audience.tsv"
    shutil.copy(seeding.TreeSources().audience, edited)
    text = edited.read_text(encoding="utf-8")
    assert "\tInterest\tSports\tGolf\t" in text
    edited.write_text(text.replace("\tInterest\tSports\tGolf\t", "\tInterest\tSports\tGolf "
                                   "(all formats)\t"), encoding="utf-8")
    with engine.begin() as conn:
        report = seeding.seed_trees(conn, seeding.TreeSources(audience=edited))
        relabelled = tree_index.load_index(conn).by_id[golf.id]
    assert report.inserted == 0 and report.updated >= 1 and report.not_in_source == 0
    assert relabelled.label == "Golf (all formats)"
    assert relabelled.path == ("Interest", "Sports", "Golf (all formats)")
    assert get_topic(topic_id).taxonomy_node_id == golf.id


def test_realign_places_topics_by_node_exact_path_or_nearest_label(
        engine, index, make_topic, get_topic):
    golf = index.node_at("Interest", "Sports", "Golf")
    basketball = index.node_at("Interest", "Sports", "Basketball")
    exact = make_topic("Golfers", **SPORTS, subcategory="Golf")
    near = make_topic("Hoops Fans", **SPORTS, subcategory="Basket-Ball")
    by_node = make_topic("Weekend Golf", **SPORTS, subcategory="Golfing",
                         taxonomy_node_id=golf.id)
    aligned = make_topic("Golf Pros", **SPORTS, subcategory="Golf", taxonomy_node_id=golf.id)
    lost = make_topic("Underwater Knitting", **SPORTS, subcategory="Underwater Knitting")
    make_topic("Not classified yet")  # not eligible
    created = runner.create_job("realign_subcategories", {}, engine=engine)
    assert created.total_items == 5
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.success_count, report.skip_count, report.error_count) == (3, 1, 1)
    assert (get_topic(exact).subcategory, get_topic(exact).taxonomy_node_id) == ("Golf", golf.id)
    assert (get_topic(near).subcategory, get_topic(near).taxonomy_node_id) == (
        "Basketball", basketball.id)
    assert get_topic(by_node).subcategory == "Golf"
    assert get_topic(aligned).subcategory == "Golf"
    flagged = get_topic(lost)
    assert flagged.review_status == "needs_review" and flagged.taxonomy_node_id is None
    assert "no node under Interest > Sports matches 'Underwater Knitting'" in \
        flagged.review_reason
    action, new = _history(engine, near)[-1]
    assert action == "realigned" and "nearest label" in new["how"]

    rollback = create_rollback(created.id, engine=engine)
    assert rollback.total_items == 3
    assert drive.run_to_completion(rollback.id, engine=engine).success_count == 3
    assert (get_topic(near).subcategory, get_topic(near).taxonomy_node_id) == (
        "Basket-Ball", None)
    assert get_topic(by_node).subcategory == "Golfing"
    assert _history(engine, exact)[-1][0] == "rolled_back"


def test_fix_level0_replaces_tier_labels_and_whole_paths(engine, index, make_topic, get_topic):
    golf = index.node_at("Interest", "Sports", "Golf")
    sports = index.node_at("Interest", "Sports")
    tier2 = make_topic("Sports Fans", **SPORTS, subcategory="Sports")
    tier1 = make_topic("Sporty People", **SPORTS, subcategory="Interest")
    whole_path = make_topic("Golf Lovers", **SPORTS, subcategory="Interest | Sports | Golf")
    on_node = make_topic("Golf Club Members", **SPORTS, subcategory="Sports",
                         taxonomy_node_id=golf.id)
    leaf = make_topic("Golfers", **SPORTS, subcategory="Golf")  # fine: left alone
    wrong_branch = make_topic("Car People", **SPORTS, subcategory="Automotive | Auto Body Styles")

    created = runner.create_job("fix_subcategory_level0", {}, engine=engine)
    assert created.total_items == 5  # the leaf is not a candidate
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.success_count, report.error_count) == (4, 1)
    assert (get_topic(tier2).subcategory, get_topic(tier2).taxonomy_node_id) == (None,
                                                                                 sports.id)
    assert get_topic(tier1).subcategory is None
    assert (get_topic(whole_path).subcategory, get_topic(whole_path).taxonomy_node_id) == (
        "Golf", golf.id)
    assert get_topic(on_node).subcategory == "Golf"
    assert get_topic(leaf).subcategory == "Golf" and _history(engine, leaf) == []
    assert get_topic(wrong_branch).review_status == "needs_review"
    assert _history(engine, whole_path)[-1][0] == "subcategory_fixed"

    rollback = create_rollback(created.id, engine=engine)
    drive.run_to_completion(rollback.id, engine=engine)
    assert get_topic(whole_path).subcategory == "Interest | Sports | Golf"
    assert get_topic(tier2).taxonomy_node_id is None


def test_placement_configs_name_what_is_wrong(engine, index, make_topic):
    with pytest.raises(ConfigError, match="taxonomyFilter: 'Hobbies' is not a taxonomy type"):
        runner.create_job("realign_subcategories", {"taxonomyFilter": "Hobbies"}, engine=engine)
    known = make_topic("Golfers", **SPORTS, subcategory="Golf")
    with pytest.raises(ConfigError, match=r"topicIds: 2 of the ids are not live topics.*"
                                          r"999998, 999999"):
        runner.create_job("realign_subcategories", {"topicIds": [known, 999998, 999999]},
                          engine=engine)
    created = runner.create_job("realign_subcategories", {"taxonomyFilter": "interest",
                                                          "topicIds": [known]}, engine=engine)
    assert created.total_items == 1


def test_a_spent_time_budget_ends_a_placement_chunk_early_and_the_next_resumes(
        engine, index, make_topic):
    for name in ("Golfers", "Golf Fans", "Golf Pros"):
        make_topic(name, **SPORTS, subcategory="Golf")
    created = runner.create_job("realign_subcategories", {}, engine=engine)
    first = runner.process_chunk(created.id, engine=engine, time_budget=1e-9)
    assert (first.chunk_processed, first.done) == (0, False)
    last = drive.run_to_completion(created.id, engine=engine)
    assert (last.status, last.processed_items, last.success_count) == ("completed", 3, 3)


def test_placement_needs_the_trees(engine):
    with pytest.raises(ConfigError, match="seed-trees"):
        runner.create_job("fix_subcategory_level0", {}, engine=engine)


def test_llm_backfill_places_topics_without_a_node_through_message_batches(
        engine, index, make_topic, get_topic, fake_anthropic):
    golf = index.node_at("Interest", "Sports", "Golf")
    good = make_topic("Golf Weekenders", **SPORTS)
    invented = make_topic("Padel Players", **SPORTS)
    elsewhere = make_topic("Car Buffs", **SPORTS)
    broken = make_topic("Sports Bettors", **SPORTS)
    make_topic("Placed Already", **SPORTS, taxonomy_node_id=golf.id)  # not eligible
    no_tree = make_topic("Odd Ones", segment_type="b2c", taxonomy_type="Interest",
                         parent_category="Nowhere Land", audience_type="interest")
    cars = index.candidates("Interest", "Automotive")[0]
    fake_anthropic.state.answers.update({
        "Golf Weekenders": {"node_id": golf.id},
        "Padel Players": {"node_id": "iab_audience_1_1:999999"},
        "Car Buffs": {"node_id": cars.id}})
    fake_anthropic.state.special["Sports Bettors"] = succeeded("{not json")

    created = runner.create_job("backfill_taxonomy_nodes", {}, engine=engine)
    assert created.total_items == 5
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.status, report.success_count, report.error_count) == ("completed", 1, 4)
    sent = [r for b in fake_anthropic.state.batches.values() for r in b["_requests"]]
    assert sorted(int(r["custom_id"]) for r in sent) == [good, invented, elsewhere, broken]
    schema = sent[0]["params"]["output_config"]["format"]["schema"]
    assert golf.id in schema["properties"]["node_id"]["enum"]
    assert get_topic(good).taxonomy_node_id == golf.id
    assert get_topic(good).subcategory is None  # the node only; realign sets the label
    reasons = {t: get_topic(t).review_reason for t in (invented, elsewhere, broken, no_tree)}
    assert "does not exist" in reasons[invented]
    assert "not one below Interest > Sports" in reasons[elsewhere]
    assert "not JSON" in reasons[broken]
    assert "no tree nodes below Interest > Nowhere Land" in reasons[no_tree]
    assert _history(engine, good) == [("node_assigned", {
        "subcategory": None, "taxonomy_node_id": golf.id, "how": "llm"})]

    rollback = create_rollback(created.id, engine=engine)
    drive.run_to_completion(rollback.id, engine=engine)
    assert get_topic(good).taxonomy_node_id is None
