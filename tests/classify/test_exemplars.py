"""Exemplars: a classification saved or accepted in the review queue decides close names in
later local runs, is listed with what it decided, and stops deciding once removed.
"""

from __future__ import annotations

import pytest

from jobcore.catalog import review
from jobcore.classify import exemplars
from jobcore.classify.segment_classifier import get_classifier
from jobcore.jobs import drive, runner

CLASSIC = "/Motoring/Vintage & Classic Cars"  # the classifier is unsure: interest or intent


@pytest.mark.parametrize("first, second, same", [
    ("Luxury SUV Intenders - UK", "Luxury SUVs Intenders", True),
    ("Luxury SUV Intenders", "Acme > Autos > Luxury SUV Intenders", True),
    ("Luxury SUV Intenders", "Luxury SUV Fans", False),      # framing differs
    ("Age 25-34", "Age 35-44", False),                      # band differs
    ("Gen X", "Gen Z", False),
    ("Household Income $50K-$75K", "Household Income $50,000 - $74,999", True),
    ("Autos > Luxury", "Fashion > Luxury", False),          # a one-word leaf: its path too
    ("Sports > Soccer Fans", "Video Games > Soccer Fans", False),
])
def test_close_names_share_a_key(first, second, same):
    key = get_classifier().exemplar_key
    assert (key(first) == key(second)) is same


def _run(engine, config=None):
    created = runner.create_job("reclassify", config or {}, engine=engine)
    return drive.run_to_completion(created.id, engine=engine)


def test_an_accepted_suggestion_decides_a_close_name_and_stops_when_removed(
        engine, make_topic, get_topic):
    first = make_topic(CLASSIC)
    _run(engine)
    flagged = review.flagged(engine=engine)[0]
    assert flagged.id == first and len(flagged.suggestions) == 2
    interest = next(s for s in flagged.suggestions if s.path.startswith("Interest"))
    review.accept(first, interest.node_id, user="ana", engine=engine)
    accepted = get_topic(first)
    assert (accepted.taxonomy_type, accepted.classification_source, accepted.review_status) == (
        "Interest", "manual", "reviewed")
    assert accepted.taxonomy_node_id == interest.node_id

    close = make_topic("Acme > Motoring > Vintage & Classic Cars - US")
    _run(engine)
    followed = get_topic(close)
    assert (followed.taxonomy_type, followed.subcategory) == ("Interest", "Classic Cars")
    assert followed.classification_source == "exemplar"
    assert followed.review_status == "ok"  # an analyst decided: not unsure any more
    [exemplar] = exemplars.listed(engine=engine)
    assert followed.classification_detail["exemplar"]["id"] == exemplar.id
    assert (exemplar.name, exemplar.decided, exemplar.created_by) == (CLASSIC, 1, "ana")

    assert exemplars.remove([exemplar.id], user="ana", engine=engine) == 1
    assert exemplars.listed(engine=engine) == []
    report = _run(engine)  # the topics it decided are taken again
    assert report.processed_items == 1
    again = get_topic(close)
    assert again.classification_source == "rules"
    assert again.review_status == "needs_review"  # unsure again, as before the exemplar
    assert get_topic(first).classification_source == "manual"  # never the classifier's


def test_a_newer_classification_of_the_same_key_replaces_the_exemplar(engine, make_topic):
    a = make_topic(CLASSIC, review_status="needs_review", review_reason="Unsure between x")
    b = make_topic("Vintage & Classic Cars", review_status="needs_review",
                   review_reason="Unsure between x")
    review.accept(a, "iab_audience_1_1:249", user="ana", engine=engine)
    review.accept(b, "iab_audience_1_1:821", user="ben", engine=engine)
    [live] = exemplars.listed(engine=engine)
    assert (live.created_by, live.node_id) == ("ben", "iab_audience_1_1:821")


def test_removing_nothing_is_refused(engine):
    from jobcore.errors import UsageError

    with pytest.raises(UsageError, match="at least one"):
        exemplars.remove([], user="ana", engine=engine)
