"""Why two topics are or are not proposed: the score's arithmetic and the refusing rule."""

from __future__ import annotations

import pytest

from jobcore.dedup import embeddings, explain
from jobcore.errors import UsageError
from jobcore.jobs import drive, runner


def _swept(engine) -> str:
    embeddings.refresh_all(engine, embeddings.get_provider())
    created = runner.create_job("dedup_sweep", {}, engine=engine)
    drive.run_to_completion(created.id, engine=engine)
    return created.id


def test_a_proposed_pair_shows_its_arithmetic_and_a_refused_one_its_rule(engine, make_topic):
    a = make_topic("HHI $75,000 - $99,999")
    b = make_topic("Household Income $75K-$100K")
    c = make_topic("Household Income $100K-$150K")
    d = make_topic("Luxury Cars")
    e = make_topic("Luxury Homes")
    sweep_id = _swept(engine)
    same = explain.why_not(sweep_id, f"#{a}", "household income $75k-$100k", engine=engine)
    assert same.refusal is None and same.proposed
    assert same.reading[0] == same.reading[1]  # one band, one text
    assert same.arithmetic().startswith("score = 0.25 × ")
    assert same.arithmetic().endswith(f"= {same.score:.3f}")
    other = explain.why_not(sweep_id, str(b), f"#{c}", engine=engine)
    assert other.refusal.startswith("different bands") and not other.proposed
    assert other.verdict().startswith("Not proposed: different bands")
    homes = explain.why_not(sweep_id, f"#{d}", f"#{e}", engine=engine)
    assert homes.refusal.startswith("different subjects")


def test_topics_are_found_by_id_or_exact_name_with_clear_errors(engine, make_topic):
    make_topic("Golf Fans")
    make_topic("Golf Fans")
    make_topic("Tennis Fans")
    sweep_id = _swept(engine)
    with pytest.raises(UsageError, match="Several topics are named 'golf fans'"):
        explain.why_not(sweep_id, "golf fans", "Tennis Fans", engine=engine)
    with pytest.raises(UsageError, match="No topic #999999"):
        explain.why_not(sweep_id, "#999999", "Tennis Fans", engine=engine)
    with pytest.raises(UsageError, match="Type a topic id"):
        explain.why_not(sweep_id, "  ", "Tennis Fans", engine=engine)


def test_why_not_agrees_with_the_sweep_on_a_shared_model_code(engine, make_topic):
    a = make_topic("Netgear FS105 Switch")
    b = make_topic("FS105 Replacement Power Adapter")
    for name in ("Netgear Routers", "Power Adapters", "Switch Games", "Replacement Parts"):
        make_topic(name)
    sweep_id = _swept(engine)
    found = explain.why_not(sweep_id, f"#{a}", f"#{b}", engine=engine)
    assert found.refusal is None  # the code settles the subject, as in the sweep
