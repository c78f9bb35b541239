"""The Review Queue page in AppTest: list, filter, edit with validation, resolve, retry."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jobcore.jobs import drive, runner
from jobcore.schema import topic_history

REVIEW = "app_pages/review.py"


def _flag(make_topic, name: str, reason: str, **columns) -> int:
    return make_topic(name, review_status="needs_review", review_reason=reason, **columns)


def test_empty_queue(open_app):
    at = open_app(REVIEW)
    assert not at.exception and any("Nothing needs review" in s.value for s in at.success)


def _choice(at, label):
    return next(s for s in at.selectbox if s.label == label)


def test_edit_starts_empty_narrows_the_choices_writes_history_and_resolves(
        open_app, make_topic, get_topic, engine, button):
    topic_id = _flag(make_topic, "Qqqz Wxyv", "Not classified: no rule matched")
    _flag(make_topic, "Other Topic", "LLM: the answer is not JSON")
    at = open_app(REVIEW)
    assert not at.exception
    assert len(at.dataframe[0].value) == 2
    _choice(at, "Reason").set_value("LLM: the answer is not JSON").run()
    assert at.dataframe[0].value["name"].tolist() == ["Other Topic"]
    _choice(at, "Reason").set_value("(all)").run()
    _choice(at, "Topic").set_value(topic_id).run()
    # an unclassified topic starts empty: nothing is saved by one click
    assert [_choice(at, label).value for label in (
        "Segment type", "Taxonomy type", "Parent category", "Audience type")] == [None] * 4
    assert button(at, "Save and resolve").disabled
    _choice(at, "Taxonomy type").set_value("Interest").run()
    assert set(_choice(at, "Audience type").options) == {"interest"}  # what Interest allows
    parents = _choice(at, "Parent category").options
    assert "Sports" in parents and "Automotive" in parents
    _choice(at, "Parent category").set_value("Sports").run()
    subcategories = _choice(at, "Subcategory").options
    assert subcategories[0] == "(none)" and len(subcategories) > 3  # the taxonomy's, as choices
    _choice(at, "Subcategory").set_value(subcategories[1]).run()
    _choice(at, "Segment type").set_value("b2c").run()
    _choice(at, "Audience type").set_value("interest").run()
    button(at, "Save and resolve").click().run()
    assert not at.exception
    topic = get_topic(topic_id)
    assert (topic.review_status, topic.parent_category, topic.subcategory,
            topic.classification_source) == ("reviewed", "Sports", subcategories[1], "manual")
    with engine.connect() as conn:
        history = conn.execute(sa.select(topic_history.c.action, topic_history.c.created_by)
                               .where(topic_history.c.topic_id == topic_id)).all()
    assert [tuple(h) for h in history] == [("manual_edit", "test-analyst")]


def test_a_classified_topic_starts_at_its_values(open_app, make_topic):
    _flag(make_topic, "Yoga Fans", "LLM: low confidence", segment_type="b2c",
          taxonomy_type="Interest", parent_category="Healthy Living",
          subcategory="Fitness and Exercise", audience_type="interest")
    at = open_app(REVIEW)
    assert [_choice(at, label).value for label in (
        "Segment type", "Taxonomy type", "Parent category", "Subcategory",
        "Audience type")] == ["b2c", "Interest", "Healthy Living", "Fitness and Exercise",
                              "interest"]


def test_resolve_and_retry_selected(open_app, make_topic, get_topic, button):
    a = _flag(make_topic, "Luxury SUV Intenders", "Not classified: no rule matched")
    b = _flag(make_topic, "Yoga Enthusiasts", "Not classified: no rule matched")
    at = open_app(REVIEW)
    at.multiselect[0].set_value([a]).run()
    button(at, "Resolve selected").click().run()
    assert get_topic(a).review_status == "reviewed"
    at.multiselect[0].set_value([b]).run()
    button(at, "Retry with rules").click().run()
    assert not at.exception
    retry = runner.list_jobs(job_type="reclassify")[0]
    assert runner.get_job(retry.id).config["topicIds"] == [b] and retry.total_items == 1


def test_a_queue_longer_than_the_screen_says_how_many_are_flagged(open_app, make_topic,
                                                                  monkeypatch):
    from jobcore.catalog import review

    monkeypatch.setattr(review, "QUEUE_LIMIT", 2)
    for name in ("Golf Fans", "Yoga Fans", "Kayak Fans"):
        _flag(make_topic, name, "Not classified: no rule matched")
    at = open_app(REVIEW)
    assert not at.exception
    assert any("2 of 2 flagged topics (the 2 flagged longest ago of 3" in c.value
               for c in at.caption)


def test_an_unsure_topic_offers_its_two_candidates_as_one_click_choices(
        open_app, make_topic, get_topic, engine, button):
    topic_id = make_topic("/Motoring/Vintage & Classic Cars")
    drive.run_to_completion(runner.create_job("reclassify", {}, engine=engine).id,
                             engine=engine)
    at = open_app(REVIEW)
    assert not at.exception
    frame = at.dataframe[0].value
    assert "Interest > Automotive > Classic Cars" in frame["suggestions"][0]
    choices = [b.label for b in at.button if b.label.startswith("Use ")]
    assert len(choices) == 2 and any("Interest > Automotive > Classic Cars" in c for c in choices)
    button(at, "Use Interest > Automotive > Classic Cars").click().run()
    assert not at.exception
    topic = get_topic(topic_id)
    assert (topic.review_status, topic.taxonomy_type, topic.subcategory,
            topic.classification_source) == ("reviewed", "Interest", "Classic Cars", "manual")
    assert any("Nothing needs review" in s.value for s in at.success)


def test_exemplars_are_listed_with_what_they_decided_and_can_be_removed(
        open_app, make_topic, engine, button):
    from jobcore.catalog import review
    from jobcore.classify import exemplars

    first = _flag(make_topic, "Vintage & Classic Cars", "Unsure between two")
    review.accept(first, "iab_audience_1_1:249", user="ana", engine=engine)
    make_topic("Vintage & Classic Cars - UK")
    drive.run_to_completion(runner.create_job("reclassify", {}, engine=engine).id,
                             engine=engine)
    at = open_app(REVIEW)
    assert not at.exception
    frame = at.dataframe[0].value
    assert frame["name"].tolist() == ["Vintage & Classic Cars"]
    assert frame["topics decided"].tolist() == [1]
    assert frame["classification"].tolist() == ["Interest > Automotive > Classic Cars"]
    assert button(at, "Remove selected exemplars").disabled
    next(m for m in at.multiselect if m.label == "Exemplars to remove").set_value(
        [exemplars.listed(engine=engine)[0].id]).run()
    button(at, "Remove selected exemplars").click().run()
    assert not at.exception
    assert exemplars.listed(engine=engine) == []


def test_a_stale_second_tab_cannot_overwrite_a_review(make_topic, get_topic, engine):
    from jobcore.catalog import review
    from jobcore.errors import UsageError

    topic_id = _flag(make_topic, "Vintage & Classic Cars", "Unsure between two")
    review.accept(topic_id, "iab_audience_1_1:249", user="ana", engine=engine)
    with pytest.raises(UsageError, match="reviewed meanwhile"):
        review.accept(topic_id, "iab_audience_1_1:821", user="ben", engine=engine)
    assert get_topic(topic_id).subcategory == "Classic Cars"
    assert get_topic(topic_id).taxonomy_type == "Interest"
