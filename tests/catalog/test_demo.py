"""The demo catalogue: realistic, deterministic, with planted near-duplicates."""

from __future__ import annotations

import sqlalchemy as sa

from jobcore.catalog import demo_names
from jobcore.catalog.demo import seed_demo
from jobcore.catalog.overview import catalogue_summary


def _snapshot(engine):
    with engine.connect() as conn:
        return (
            conn.execute(sa.text("SELECT id, name, description, parent_category, "
                                 "classification_version FROM topics ORDER BY id")).all(),
            conn.execute(sa.text("SELECT * FROM demo_planted_duplicates ORDER BY 1")).all(),
            conn.execute(sa.text("SELECT org_id, topic_id FROM org_topics ORDER BY 1, 2")).all(),
        )


def test_same_seed_gives_the_same_catalogue(engine):
    seed_demo(engine, topics_count=600, seed=3)
    first = _snapshot(engine)
    seed_demo(engine, topics_count=600, seed=3, reset=True)
    assert _snapshot(engine) == first
    seed_demo(engine, topics_count=600, seed=4, reset=True)
    assert _snapshot(engine)[0] != first[0]


def test_catalogue_has_the_expected_shape(engine):
    summary = seed_demo(engine, topics_count=1000, seed=1)
    assert summary.topics == 1000
    assert summary.planted_duplicates > 10 and summary.activations > 0
    overview = catalogue_summary(engine=engine)
    assert overview.live_topics == 1000
    assert 200 < overview.unclassified < 600
    assert 100 < overview.outdated < 500
    with engine.connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM topics")).scalars().all()
        pairs = conn.execute(sa.text(
            "SELECT p.variant, t.name, o.name FROM demo_planted_duplicates p "
            "JOIN topics t ON t.id = p.topic_id JOIN topics o ON o.id = p.original_topic_id"
        )).all()
        stale = conn.execute(sa.text(
            "SELECT count(*) FROM activations a JOIN topics t ON t.id = a.topic_id "
            "WHERE a.pushed_name <> t.name OR a.pushed_topic_version <> t.version")).scalar()
    assert any(n.endswith(("Intenders", "Enthusiasts", "Users")) for n in names)
    assert stale > 0
    variants = {variant for variant, _, _ in pairs}
    assert {"provider", "wording", "abbreviation", "reordered"} <= variants
    for variant, name, original in pairs:
        assert (name == original) is (variant == "description")
        if variant == "case":
            assert name.casefold() == original.casefold()
        if variant == "provider":
            assert " > " in name and " > " not in original


def test_near_miss_twins_differ_only_where_the_segments_differ(engine):
    summary = seed_demo(engine, topics_count=1000, seed=1)
    assert summary.near_misses > 5
    with engine.connect() as conn:
        twins = conn.execute(sa.text(
            "SELECT m.kind, t.name, o.name, t.description = o.description FROM demo_near_misses m "
            "JOIN topics t ON t.id = m.topic_id JOIN topics o ON o.id = m.other_topic_id")).all()
    assert {kind for kind, *_ in twins} == {"income", "age", "market", "version", "qualifier"}
    for _kind, name, other, same_description in twins:
        assert name != other and same_description


def test_company_names_lose_their_legal_suffix_whole():
    # "McCormick & Company" once became the organisation "McCormick &"
    from jobcore.classify.companies import clean_company_name

    assert clean_company_name("McCormick & Company") == "McCormick"
    assert clean_company_name("Arthur J. Gallagher & Co.") == "Arthur J. Gallagher"
    assert clean_company_name("Johnson & Johnson") == "Johnson & Johnson"
    assert clean_company_name("Alphabet Inc. (Class A)") == "Alphabet"


def test_no_demo_organisation_or_topic_name_ends_in_a_dangling_word(engine):
    seed_demo(engine, topics_count=2000, seed=7)
    with engine.connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM organizations UNION ALL "
                                     "SELECT name FROM topics")).scalars().all()
    dangling = [n for n in names if n.rstrip().endswith(("&", " and", ",", "-"))]
    assert dangling == []


def test_names_speak_like_real_catalogues_and_the_classifier_reads_them():
    """Provider paths on every separator, markets and bands in several notations, B2B
    names; the local classifier puts most where the demo's truth says (tier 2).
    """
    import random

    from jobcore.catalog.segment_names import parse
    from jobcore.classify.segment_classifier import get_classifier

    names = demo_names.topic_names(random.Random(11))
    drawn = [next(names) for _ in range(3000)]
    texts = [name.text for name, _seed in drawn]
    assert {parse(t).path_separator for t in texts} >= {">", "/", ":", "-"}
    assert any(" » " in t for t in texts) and any(" | " in t for t in texts)
    assert {t[-5:] for t in texts if t.endswith(")") and "(" in t[-5:]}  # "(DE)"
    assert any(t[:4].endswith(": ") for t in texts)  # "US: ..."
    assert any("$" in t and "K-$" in t for t in texts)  # "$50K-$75K"
    assert any(t.startswith(("HHI: ", "Household Income")) for t in texts)
    assert any("Decision Makers" in t or "Job Function" in t for t in texts)
    assert any("Employees" in t for t in texts)
    markets = {parse(t).market for t in texts}
    assert {"US", "GB", "DE"} <= markets

    truths = [(name.text, seed.truth) for name, seed in drawn if seed.truth is not None]
    decisions = get_classifier().classify_many([(text, None) for text, _ in truths])
    agree = sum(1 for (_, truth), d in zip(truths, decisions, strict=True)
                if d.best is not None and d.best.key == (truth.taxonomy_type,
                                                         truth.parent_category))
    assert agree / len(truths) >= 0.8
