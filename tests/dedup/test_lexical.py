"""The lexical index: name folding, the same-subject rule and its exact candidate search."""

from __future__ import annotations

import itertools
import random

import pytest

from jobcore.catalog.demo_names import VARIANTS, topic_names
from jobcore.catalog.demo_names import variant as variant_of
from jobcore.dedup import guards, lexical, wording


def test_name_text_folds_provider_paths_wordings_and_ampersands() -> None:
    assert lexical.lexical_text("Acme > Auto > Pickup Truck Intenders") == "pickup truck intent"
    assert lexical.lexical_text("In-Market for Home & Garden") == "intent hom and garden"
    assert lexical.lexical_text("People Interested in Cooking") == "interest cook"


@pytest.mark.parametrize(("a", "b"), [
    # one segment in two notations reads as one text
    ("Household Income $75K-$100K", "HHI $75,000 - $99,999"),
    ("Household Income $200K+", "Household Income $200,000 and Above"),
    ("Ages 35-44", "Adults Aged 35 to 44"),
    ("Age 65+", "Seniors 65 and Over"),
    ("Gen Z", "Generation Z"),
    ("Boomers", "Baby Boomers"),
    ("Men 18-34", "Males Age 18-34"),
    ("Household Size 2", "Two-Person Households"),
    ("Sports Bettors (CA)", "Sports Bettors - CA"),
    ("Eyeota / Interest / Outdoor / Camping", "Camping Enthusiasts"),
    ("Moms", "Mothers"),
    ("Cyclists", "Cycling"),
    ("SUV Intenders", "Sport Utility Vehicle Intenders"),
    ("HP F3H982-10 Toner", "HP f3h98210 toner"),
])
def test_notations_of_one_segment_read_alike(a: str, b: str) -> None:
    assert lexical.lexical_text(a) == lexical.lexical_text(b)


@pytest.mark.parametrize(("a", "b"), [
    ("Ages 35-44", "Ages 45-54"), ("Gen Y", "Gen Z"), ("Hikers", "Campers"),
    ("Household Income $30K-$50K", "Household Income $50K-$75K"),
])
def test_different_segments_read_differently(a: str, b: str) -> None:
    assert lexical.lexical_text(a) != lexical.lexical_text(b)


def test_initialisms_the_catalogue_writes_read_as_their_words() -> None:
    names = ["Marketing Decision Makers", "MDMs", "Chief Financial Officers", "CFOs",
             "IT Decision Makers", "ITDMs", "Golf Fans"]
    index = lexical.LexicalIndex(list(range(1, 8)), names)
    assert index.text("MDMs") == index.text("Marketing Decision Makers")
    assert index.text("CFOs") == index.text("Chief Financial Officers")  # the field's table
    assert index.text("ITDMs") == index.text("IT Decision Makers")
    assert index.same_subject("MDMs", "Marketing Decision Makers")
    assert not index.same_subject("MDMs", "IT Decision Makers")


@pytest.mark.parametrize(("short", "long", "same"), [
    ("mgmt", "management", True), ("svcs", "services", True), ("tech", "technology", True),
    ("intl", "international", True),
    ("in", "international", False),   # two letters shorten nothing but a plural
    ("gen", "gardening", False),       # letters in order, but a word of its own
    ("men", "management", False), ("cat", "carpets", False),
    ("auto", "automotive", True),
])
def test_a_subject_matches_its_shortenings_only(short: str, long: str, same: bool) -> None:
    index = lexical.LexicalIndex([1, 2, 3, 4], [f"Blue {long} Fans", f"Red {long} Fans",
                                                f"Blue {short} Fans", f"Red {short} Fans"])
    short_word, long_word = wording.stem(short), wording.stem(long)
    assert (long_word in index.related_words(short_word)) is same
    assert (short_word in index.related_words(long_word)) is same
    assert index.same_subject(f"Blue {long} Fans", f"Blue {short} Fans") is same


def test_short_names_must_be_about_the_same_thing() -> None:
    names = ["Luxury Cars", "Luxury Homes", "Xbox One Gamers", "Xbox Series X Gamers",
             "Plug-in Hybrid Intenders", "PHEV Intenders", "Stock Investments",
             "Pension Investments", "Chessmaster 9000 (Mac)",
             "Chessmaster 9000: Feral Interactive"]
    index = lexical.LexicalIndex(list(range(1, 11)), names)
    assert not index.same_subject("Luxury Cars", "Luxury Homes")
    assert not index.same_subject("Xbox One Gamers", "Xbox Series X Gamers")
    assert not index.same_subject("Stock Investments", "Pension Investments")
    assert index.same_subject("Plug-in Hybrid Intenders", "PHEV Intenders")


def test_names_that_share_a_wording_but_not_a_subject_differ() -> None:
    names = ["Suburban Intuit Administrators", "Suburban Qualcomm Administrators",
             "Suburban Oracle Administrators", "Suburban Intuit Admins",
             "Urban Qualcomm Administrators"]
    index = lexical.LexicalIndex(list(range(1, 6)), names)
    assert not index.same_subject(names[0], names[1])
    assert index.same_subject(names[0], names[3])


def _demo_names(count: int) -> list[str]:
    rng = random.Random(7)
    names, seen = [], set()
    for (name, _seed), kind in zip(topic_names(rng), itertools.cycle(VARIANTS)):
        variant = variant_of(rng, name, kind, "Audiences")
        for text in (name.text, (variant + name.region) if variant else None):
            if text and text.casefold() not in seen and len(names) < count:
                seen.add(text.casefold())
                names.append(text)
        if len(names) >= count:
            return names
    raise AssertionError("unreachable")


def test_candidates_are_exactly_the_pairs_of_one_guard_key_and_subject_above_the_floor() -> None:
    names = _demo_names(600)
    ids = list(range(1, len(names) + 1))
    index = lexical.LexicalIndex(ids, names, guard_key=guards.guard_key)
    floor = 0.4
    vectors = index.vectors(names)
    similarity = (vectors @ vectors.T).toarray()
    expected = {
        (a, b) for a, b in itertools.permutations(range(len(names)), 2)
        if similarity[a, b] >= floor and guards.guard_key(names[a]) ==
        guards.guard_key(names[b]) and index.same_subject(names[a], names[b])}
    found = index.candidates(dict(zip(ids, names, strict=True)), k=len(names), floor=floor)
    got = {(a - 1, b - 1) for a, listed in found.items() for b, _ in listed
           if index.same_subject(names[a - 1], names[b - 1])}
    assert len(expected) > 100  # the demo's variants and near misses make plenty of pairs
    assert got == expected
    for a, listed in found.items():  # best first, scores as computed from the names
        assert [s for _, s in listed] == sorted((s for _, s in listed), reverse=True)
        for b, score in listed:
            assert score == pytest.approx(min(1.0, similarity[a - 1, b - 1]), abs=1e-5)


def test_a_renamed_topic_is_searched_under_its_current_name() -> None:
    names = ["Acme FS105 Ethernet Switch", "Acme 5 Port Switch FS105", "Garden Tools Fans",
             "Garden Hoses Fans"]
    index = lexical.LexicalIndex([1, 2, 3, 4], names)
    found = index.candidates({3: "Acme FS105 Switch"}, k=5, floor=0.3)
    assert {i for i, _ in found[3]} == {1, 2}


def test_the_subject_rule_does_not_depend_on_the_order_of_the_names() -> None:
    names = ["Garmin Forerunner Running Watch Bands", "Garmin Running Watch Bands Connectors",
             "Forerunner Reviews", "Forerunner Tips", "Connectors Outlet", "Garmin Maps",
             "Garmin Deals", "Running Shoes", "Running Bands", "Bands Music", "Tech Blogs",
             "Technology Tech", "Fans", "Golf Fans"]
    index = lexical.LexicalIndex(list(range(1, len(names) + 1)), names)
    for a, b in itertools.permutations(names, 2):
        assert index.same_subject(a, b) == index.same_subject(b, a), (a, b)
    assert not index.same_subject("Fans", "Golf Fans")  # says how, not what


def test_an_initialism_is_read_only_where_written_in_capitals() -> None:
    names = ["Marketing Decision Makers", "MDMs", "mdm software"]
    index = lexical.LexicalIndex([1, 2, 3], names)
    assert index.text("MDMs") == index.text("Marketing Decision Makers")
    assert index.text("mdm software") == "mdm softwar"


def test_names_without_words_make_an_index_that_compares_nothing() -> None:
    index = lexical.LexicalIndex([1, 2, 3], ["!!!", "???", "..."])
    assert index.similarities([("!!!", "Golf Fans")]) == [0.0]
    assert index.candidates({1: "!!!"}, k=5, floor=0.3) == {1: []}
