"""reclassify, local mode: selection, history, skips, review flags (unsure and not
classified), manual classifications left alone, config validation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jobcore.catalog import review
from jobcore.classify.reclassify import ReclassifyHandler, preview
from jobcore.classify.segment_classifier import current_version
from jobcore.errors import ConfigError
from jobcore.jobs import drive, runner
from jobcore.schema import topic_history, topics

YOGA = {"segment_type": "b2c", "taxonomy_type": "Interest", "parent_category": "Healthy Living",
        "subcategory": "Fitness and Exercise", "audience_type": "interest"}


def _current(**fields):
    return {**fields, "classification_version": current_version(),
            "classification_source": "rules"}


def test_default_takes_unclassified_and_outdated_force_takes_all(engine, make_topic):
    make_topic("Yoga Enthusiasts")  # never classified
    make_topic("Yoga Fans", **YOGA, classification_version="rules-2024.1",
               classification_source="rules")  # outdated
    make_topic("Yoga Lovers", **_current(**YOGA))  # current
    make_topic("Pilates Fans", **YOGA, classification_version="2025-01",
               classification_source="llm")  # classified by the LLM: not outdated
    make_topic("Deleted Yoga", deleted_at=sa.func.now())
    assert runner.create_job("reclassify", {}, engine=engine).total_items == 2
    assert runner.create_job("reclassify", {"force": True}, engine=engine).total_items == 4


def test_changed_topic_gets_history_and_unchanged_counts_as_skipped(engine, make_topic, get_topic):
    changed = make_topic("Luxury SUV Intenders", **YOGA, classification_version="rules-2024.1",
                         classification_source="rules")
    same = make_topic("Yoga Fans", **YOGA, classification_version="rules-2024.1",
                      classification_source="rules")
    created = runner.create_job("reclassify", {}, engine=engine, created_by="ana")
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.success_count, report.skip_count, report.error_count) == (1, 1, 0)

    topic = get_topic(changed)
    assert (topic.taxonomy_type, topic.parent_category, topic.subcategory) == (
        "Purchase Intent", "Automotive Ownership", "SUV")
    assert topic.classification_version == current_version()
    assert get_topic(same).classification_version == current_version()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(topic_history)).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.topic_id, row.job_id, row.action, row.created_by) == (
        changed, created.id, "reclassified", "ana")
    assert row.previous_values["parent_category"] == "Healthy Living"
    assert row.previous_values["classification_version"] == "rules-2024.1"
    assert row.new_values["parent_category"] == "Automotive Ownership"
    # a second run finds nothing outdated
    assert runner.create_job("reclassify", {}, engine=engine).total_items == 0


def test_parent_category_filter_and_limit(engine, make_topic):
    for i in range(5):
        make_topic(f"Luxury Cars Fans {i}", segment_type="b2c", taxonomy_type="Interest",
                   parent_category="Automotive", audience_type="interest",
                   classification_version="old", classification_source="rules")
    make_topic("Yoga Fans", **YOGA, classification_version="old", classification_source="rules")
    created = runner.create_job("reclassify", {"parentCategoryFilter": "automotive",
                                               "force": True}, engine=engine)
    job = runner.get_job(created.id, engine=engine)
    assert created.total_items == 5
    assert job.config["parentCategoryFilter"] == "Automotive"  # canonical spelling stored

    limited = runner.create_job("reclassify", {"limit": 3}, engine=engine)
    assert limited.total_items == 3
    report = drive.run_to_completion(limited.id, engine=engine)
    assert report.processed_items == 3
    assert runner.create_job("reclassify", {}, engine=engine).total_items == 3


def test_limit_larger_than_a_chunk_stops_exactly(engine, many_topics):
    many_topics(130)
    created = runner.create_job("reclassify", {"limit": 77}, engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.processed_items, report.total_items) == (77, 77)


def test_unclassifiable_topic_is_an_error_and_flagged_for_review(engine, make_topic, get_topic):
    bad = make_topic("Qqqz Wxyv")
    good = make_topic("Yoga Enthusiasts")
    created = runner.create_job("reclassify", {}, engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.status, report.error_count, report.success_count) == ("completed", 1, 1)
    error = runner.get_job(created.id, engine=engine).errors[0]
    assert error["id"] == bad and error["name"] == "Qqqz Wxyv"
    assert "Not classified: no word of the name matches" in error["message"]
    topic = get_topic(bad)
    assert topic.review_status == "needs_review"
    assert "no word of the name matches" in topic.review_reason
    assert topic.classification_version is None
    assert get_topic(good).review_status == "ok"


def test_unsure_topic_keeps_its_best_candidate_and_is_flagged_with_both(engine, make_topic,
                                                                       get_topic):
    unsure = make_topic("/Motoring/Vintage & Classic Cars")  # interest or intent?
    sure = make_topic("Adults 25-29")
    created = runner.create_job("reclassify", {}, engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.status, report.success_count, report.error_count) == ("completed", 2, 0)
    assert runner.get_job(created.id, engine=engine).result["unsure"] == 1
    topic = get_topic(unsure)
    assert topic.review_status == "needs_review"
    assert topic.review_reason.startswith("Unsure between ")
    detail = topic.classification_detail
    assert detail["nodeId"] == topic.taxonomy_node_id
    assert detail["runnerUp"]["path"] in topic.review_reason
    assert "Interest > Automotive > Classic Cars" in topic.review_reason
    assert topic.classification_detail["unsure"] is True
    assert topic.subcategory == "Classic Cars"  # the best candidate is written
    clear = get_topic(sure)
    assert clear.review_status == "ok" and clear.taxonomy_node_id == "iab_audience_1_1:5"
    assert clear.classification_detail["confidence"] >= 0.5
    assert clear.classification_detail["runnerUp"]["path"]


def test_a_sure_answer_clears_an_earlier_local_flag_only(engine, make_topic, get_topic):
    old = make_topic("Adults 25-29", review_status="needs_review",
                     review_reason="Not classified: no rule of rules-2026.11.1 matches")
    analyst = make_topic("Adults 30-34", review_status="needs_review",
                         review_reason="Check the band with the provider")
    drive.run_to_completion(runner.create_job("reclassify", {}, engine=engine).id,
                             engine=engine)
    assert get_topic(old).review_status == "ok"
    assert get_topic(analyst).review_status == "needs_review"


def test_a_resolved_or_otherwise_flagged_topic_is_not_flagged_again_by_a_forced_run(
        engine, make_topic, get_topic):
    resolved = make_topic("/Motoring/Vintage & Classic Cars")
    theirs = make_topic("Vintage & Classic Cars", review_status="needs_review",
                        review_reason="Check with the provider")
    drive.run_to_completion(runner.create_job("reclassify", {}, engine=engine).id,
                             engine=engine)
    assert get_topic(resolved).review_status == "needs_review"
    review.resolve([resolved], user="ana", engine=engine)
    drive.run_to_completion(runner.create_job("reclassify", {"force": True}, engine=engine).id,
                             engine=engine)
    assert get_topic(resolved).review_status == "reviewed"  # unchanged: stays resolved
    other = get_topic(theirs)
    assert (other.review_status, other.review_reason) == ("needs_review",
                                                         "Check with the provider")


def test_a_manual_classification_survives_a_forced_run(engine, make_topic, get_topic):
    topic_id = make_topic("Qqqz Wxyv", review_status="needs_review",
                          review_reason="Not classified: nothing matches")
    review.edit(topic_id, YOGA, user="ana", engine=engine)
    for config in ({}, {"force": True}, {"force": True, "topicIds": [topic_id]}):
        created = runner.create_job("reclassify", config, engine=engine)
        assert created.total_items == 0
        drive.run_to_completion(created.id, engine=engine)
    topic = get_topic(topic_id)
    assert (topic.classification_source, topic.subcategory) == ("manual", "Fitness and Exercise")
    assert topic.review_status == "reviewed"


@pytest.mark.parametrize(("config", "field", "text"), [
    ({"colour": "red"}, "colour", "unknown key 'colour'"),
    ({"limit": 0}, "limit", "greater than or equal to 1"),
    ({"limit": "10"}, "limit", "valid integer"),
    ({"limit": 10**9}, "limit", "less than or equal to"),
    ({"force": "yes"}, "force", "valid boolean"),
    ({"mode": "magic"}, "mode", "'local', 'llm' or 'column'"),
    ({"parentCategoryFilter": "Automotiv"}, "parentCategoryFilter", "did you mean 'Automotive'"),
])
def test_config_errors_name_the_field(engine, config, field, text):
    with pytest.raises(ConfigError) as caught:
        runner.create_job("reclassify", config, engine=engine)
    assert caught.value.field == field
    assert field in str(caught.value) and text in str(caught.value)


def test_preview_writes_nothing(engine, make_topic, get_topic):
    topic_id = make_topic("Luxury SUV Intenders")
    config = ReclassifyHandler().parse_config({})
    with engine.connect() as conn:
        changes = preview(conn, config)
    assert [c.topic.id for c in changes if c.changed] == [topic_id]
    assert changes[0].new.subcategory == "SUV"
    assert get_topic(topic_id).classification_version is None
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(topic_history)).scalar() == 0


def test_topics_outdated_after_the_job_was_planned_are_not_taken(engine, make_topic):
    """The item set is fixed at creation: processed never passes the planned total."""
    current = [make_topic(f"Yoga Fans {i}", **_current(**YOGA)) for i in range(120)]
    planned = [make_topic(f"Yoga Enthusiasts {i}") for i in range(30)]  # higher ids
    created = runner.create_job("reclassify", {}, engine=engine)
    assert created.total_items == 30
    with engine.begin() as conn:  # 120 lower-id topics become outdated before it runs
        conn.execute(sa.update(topics).where(topics.c.id.in_(current)).values(
            classification_version="rules-2024.1", updated_at=sa.func.now()))
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.status, report.processed_items, report.total_items) == ("completed", 30, 30)
    with engine.connect() as conn:
        taken = set(conn.execute(sa.select(topic_history.c.topic_id)
                                 .where(topic_history.c.job_id == created.id)).scalars())
    assert taken == set(planned)
    # the next job takes the newly outdated ones
    assert runner.create_job("reclassify", {}, engine=engine).total_items == 120
