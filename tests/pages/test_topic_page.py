"""A topic's page in AppTest: found by id or name, and everything that happened to it:
its reclassification with the job and before/after, a merge into it and its undo, the not-
duplicates marks, the job errors naming it; bad links said plainly."""

from __future__ import annotations

from jobcore.dedup import matching
from jobcore.dedup.follow_ups import UNDO_MERGE
from jobcore.jobs import drive, runner

TOPIC = "app_pages/topic.py"


def _table(at, column: str):
    """The first table with this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_a_topics_page_tells_its_reclassify_merge_and_undo(open_app, make_topic, engine):
    golf = make_topic("Golf Enthusiasts")
    copy = make_topic("golf enthusiasts")
    odd = make_topic("Zzqx Wvvy")  # no rule matches: an error naming it
    reclassify = runner.create_job("reclassify", {"mode": "local"})
    drive.run_to_completion(reclassify.id)
    merge = runner.create_job("merge", {"clusters": [{"winner": golf, "losers": [
        {"id": copy, "score": 0.98}]}]})
    drive.run_to_completion(merge.id)
    undo = UNDO_MERGE.create(merge.id)
    drive.run_to_completion(undo.id)
    with engine.begin() as conn:
        matching.mark_not_duplicates(conn, golf, odd, created_by="ana", job_id=None)

    at = open_app(TOPIC, topic=str(golf))
    assert not at.exception
    assert any(h.value == f"#{golf} · Golf Enthusiasts" for h in at.subheader)
    history = _table(at, "Changes")
    actions = history["What"].tolist()
    assert "reclassified" in actions and "merged" in actions and "unmerged" in actions
    row = history[history["What"] == "reclassified"].iloc[0]
    assert row["Job"] == f"/job_detail?job={reclassify.id}"
    assert "parent category: – → " in row["Changes"]
    merges = _table(at, "Merged")
    assert merges["Merged"].tolist() == ["into this topic"]
    assert merges["Topic"].tolist() == [f"/topic?topic={copy}"]
    assert merges["Undone"].notna().all()
    assert _table(at, "Sweep")["By"].tolist() == ["ana"]

    odd_page = open_app(TOPIC, topic=str(odd))
    errors = _table(odd_page, "Error")
    assert errors["Job"].tolist() == [f"/job_detail?job={reclassify.id}"]


def test_a_topic_is_found_by_id_or_part_of_its_name(open_app,
                                                                           make_topic):
    golf = make_topic("Golf Enthusiasts")
    make_topic("Yoga 100% Fans")
    at = open_app(TOPIC)
    at.text_input[0].set_value("golf").run()
    assert at.dataframe[0].value["Name"].tolist() == ["Golf Enthusiasts"]
    assert at.query_params["q"] == ["golf"] or at.query_params["q"] == "golf"
    at.text_input[0].set_value(f"#{golf}").run()
    assert at.dataframe[0].value["Id"].tolist() == [golf]
    at.text_input[0].set_value("100%").run()  # a LIKE wildcard is a plain character
    assert at.dataframe[0].value["Name"].tolist() == ["Yoga 100% Fans"]
    at.text_input[0].set_value("0%F").run()
    assert any("No topic has '0%F'" in i.value for i in at.info)


def test_a_bad_or_unknown_topic_link_says_so(open_app, make_topic):
    at = open_app(TOPIC, topic="12abc")
    assert any("'topic' must be a topic id" in e.value for e in at.error)
    at = open_app(TOPIC, topic="999999")
    assert any("There is no topic #999999." in w.value for w in at.warning)
