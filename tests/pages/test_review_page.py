"""The Review Queue page in AppTest: list, filter, edit with validation, resolve, retry."""

from __future__ import annotations

import sqlalchemy as sa

from jobcore.jobs import runner
from jobcore.schema import topic_history

REVIEW = "pages/review.py"


def _flag(make_topic, name: str, reason: str, **columns) -> int:
    return make_topic(name, review_status="needs_review", review_reason=reason, **columns)


def test_empty_queue(open_app):
    at = open_app(REVIEW)
    assert not at.exception and any("Nothing needs review" in s.value for s in at.success)


def test_edit_validates_writes_history_and_resolves(open_app, make_topic, get_topic, engine,
                                                    button):
    topic_id = _flag(make_topic, "Qqqz Wxyv", "Not classified: no rule matched")
    _flag(make_topic, "Other Topic", "LLM: the answer is not JSON")
    at = open_app(REVIEW)
    assert not at.exception
    assert len(at.dataframe[0].value) == 2
    next(s for s in at.selectbox if s.label == "Reason").set_value(
        "LLM: the answer is not JSON").run()
    assert at.dataframe[0].value["name"].tolist() == ["Other Topic"]
    next(s for s in at.selectbox if s.label == "Reason").set_value("(all)").run()
    next(s for s in at.selectbox if s.label == "Topic").set_value(topic_id).run()
    # Interest with a Demographic audience type is refused, naming the problem
    next(s for s in at.selectbox if s.label == "Taxonomy type").set_value("Interest")
    next(s for s in at.selectbox if s.label == "Audience type").set_value("demographic")
    at.button[-1].click().run()
    assert any("Not saved" in e.value for e in at.error)
    assert get_topic(topic_id).review_status == "needs_review"
    next(s for s in at.selectbox if s.label == "Audience type").set_value("interest")
    next(s for s in at.selectbox if s.label == "Parent category").set_value("Sports")
    at.button[-1].click().run()
    assert not at.exception
    topic = get_topic(topic_id)
    assert (topic.review_status, topic.parent_category, topic.classification_source) == (
        "reviewed", "Sports", "manual")
    with engine.connect() as conn:
        history = conn.execute(sa.select(topic_history.c.action, topic_history.c.created_by)
                               .where(topic_history.c.topic_id == topic_id)).all()
    assert [tuple(h) for h in history] == [("manual_edit", "test-analyst")]


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
    assert retry.config["topicIds"] == [b] and retry.total_items == 1
