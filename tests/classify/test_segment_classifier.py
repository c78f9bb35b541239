"""The local segment classifier: structure first (bands, generations, gender, job and
company context), then the leaf against the taxonomy's labels, framing choosing the tree;
right or unsure, deterministic and versioned (pure: no database).
"""

from __future__ import annotations

import pytest

from jobcore.classify.segment_classifier import current_version, get_classifier, load_rules
from jobcore.classify.taxonomy import get_taxonomy


def _path(name: str, description: str | None = None) -> tuple[str, ...]:
    decision = get_classifier().classify(name, description)
    assert decision.best is not None, name
    return decision.best.node.path


@pytest.mark.parametrize("name, path", [
    # household income bands in any notation go to the IAB band that contains them
    ("US » Reach » Sociodemographic » Household Income » $50,000-$74,999",
     ("Demographic", "Household Data", "Household Income (USD)", "$50000 - $74999")),
    ("Household Income $50K-$75K",
     ("Demographic", "Household Data", "Household Income (USD)", "$50000 - $74999")),
    ("HHI: $175,000-$199,999",
     ("Demographic", "Household Data", "Household Income (USD)", "$175,000-$199,999")),
    ("Household Income > $250K+",
     ("Demographic", "Household Data", "Household Income (USD)", "$250,000+")),
    # personal income and affluence are their own families
    ("Personal Income > $75,000 - $99,999",
     ("Demographic", "Personal Finance", "Income (USD)", "$75000 - $99999")),
    # ages: one IAB band, or Age Range when the band straddles IAB's bands
    ("Adults 25-29", ("Demographic", "Age Range", "25-29")),
    ("Age 21", ("Demographic", "Age Range", "21-24")),
    ("Age 75 and over", ("Demographic", "Age Range", "75+")),
    ("Demographics > Age > 65+", ("Demographic", "Age Range")),
    ("Adults 25 to 34", ("Demographic", "Age Range")),
    ("Audience » Age » 55+ years", ("Demographic", "Age Range")),
    # household counts and residence
    ("Household Size: 6+ people",
     ("Demographic", "Household Data", "Number of Individuals", "6+ People")),
    ("Number of Children > 3+", ("Demographic", "Household Data", "Number of Children",
                                 "3+ Child")),
])
def test_bands_map_onto_iab_ranges_and_straddling_bands_to_the_parent(name, path):
    assert _path(name) == path


@pytest.mark.parametrize("name, path", [
    ("Gen Z", ("Demographic", "Age Range")),
    ("Millennials", ("Demographic", "Age Range")),
    ("Baby Boomers", ("Demographic", "Age Range")),
    ("Demographics » Gender » Women", ("Demographic", "Gender", "Female")),
    ("Men", ("Demographic", "Gender", "Male")),
    ("Demographics > Education > Education Level > High school grad",
     ("Demographic", "Education & Occupation", "Education (Highest Level)",
      "Secondary Education")),
    ("Education: Bachelor's Degree", ("Demographic", "Education & Occupation",
                                      "Education (Highest Level)", "College Education",
                                      "Undergraduate Education")),
    ("Married", ("Demographic", "Marital Status", "Married")),
    ("Empty Nesters", ("Demographic", "Household Data", "Life Stage",
                       "Multi Generation Household", "Empty Nest (Adults, Children left home)")),
    ("Homeowners", ("Demographic", "Household Data", "Ownership", "Home Owners")),
])
def test_demographic_structure(name, path):
    assert _path(name) == path


@pytest.mark.parametrize("name, path", [
    ("Job Functions » Marketing", ("Demographic", "Education & Occupation",
                                   "Employment Role")),
    ("B2B > Job Function > Information Technology", ("Demographic", "Education & Occupation",
                                                     "Employment Role")),
    ("Seniority > CXO", ("Demographic", "Education & Occupation", "Employment Role",
                         "Director/Managerial")),
    ("IT Decision Makers", ("Demographic", "Education & Occupation", "Employment Role")),
    ("Firmographics » Company Size » 50-249 employees", ("Demographic", "Education & Occupation")),
    ("Firmographics > Company Revenue > $10M-$50M", ("Demographic", "Education & Occupation")),
    ("Salesforce CRM Users", ("Business Technology", "Business Applications", "CRM")),
    ("Oracle Database Administrators", ("Business Technology", "Infrastructure Software",
                                        "Databases")),
])
def test_b2b_names_go_to_occupation_or_the_business_technology_tree(name, path):
    assert _path(name) == path


@pytest.mark.parametrize("name, tier1, tier2", [
    ("Luxury SUV Intenders", "Purchase Intent", "Automotive Ownership"),
    ("In-Market > Autos > SUVs", "Purchase Intent", "Automotive Ownership"),
    ("Acme » Purchase Intent » Travel » Cruises", "Purchase Intent", "Travel and Tourism"),
    ("Luxury Cars Fans", "Interest", "Automotive"),
    ("Interests > Autos > Luxury Cars", "Interest", "Automotive"),
    ("Yoga Enthusiasts (UK)", "Interest", "Healthy Living"),
    ("Dog Lovers - US", "Interest", "Pets"),
    ("Lotame - Interest - Cooking", "Interest", "Food & Drink"),
])
def test_framing_chooses_interest_or_purchase_intent(name, tier1, tier2):
    assert _path(name)[:2] == (tier1, tier2)


def test_markets_and_provider_prefixes_do_not_change_the_answer():
    plain = _path("Luxury SUV Intenders")
    for name in ("Luxury SUV Intenders - US", "(UK) Luxury SUV Intenders",
                 "Eyeota > Luxury SUV Intenders", "US: Luxury SUV Intenders"):
        assert _path(name) == plain


def test_a_low_margin_name_is_unsure_with_its_two_candidates():
    decision = get_classifier().classify("/Motoring/Vintage & Classic Cars")
    assert decision.unsure
    assert decision.runner_up is not None
    assert decision.best.key != decision.runner_up.key
    assert decision.margin < load_rules()["flag_margin"]
    reason = decision.reason()
    assert decision.best.describe() in reason and decision.runner_up.describe() in reason
    assert 0.0 <= decision.confidence < 0.5


def test_a_clear_name_is_sure_with_a_runner_up():
    decision = get_classifier().classify("Adults 25-29")
    assert not decision.unsure and decision.confidence >= 0.5
    assert decision.runner_up is not None


def test_a_name_with_nothing_to_match_is_not_classified():
    decision = get_classifier().classify("Qqqz Wxyv")
    assert decision.best is None and decision.unsure
    assert decision.reason().startswith("Not classified:")


def test_the_description_is_used_when_the_name_says_nothing():
    assert _path("Segment 4711", "People who love luxury cars")[-1] == "Luxury Cars"


def test_every_answer_is_a_valid_classification_and_deterministic():
    names = ["Coffee Lovers", "Home Improvement Shoppers", "Microsoft Decision Makers",
             "/Travel/Air Travel", "Gen X Women", "$100,000 or more"]
    first = get_classifier().classify_many([(n, None) for n in names])
    again = get_classifier().classify_many([(n, None) for n in reversed(names)])
    assert [d.best.node.id for d in first] == [d.best.node.id for d in reversed(again)]
    for decision in first:
        assert decision.best.node.id in get_taxonomy().nodes
    assert get_classifier().version == current_version() == load_rules()["version"]


def test_a_full_answer_cache_never_loses_an_answer(monkeypatch):
    from jobcore.classify import segment_classifier

    monkeypatch.setattr(segment_classifier, "CACHE_SIZE", 3)  # its answers cache
    classifier = get_classifier()
    classifier.classify_many([("Coffee Lovers", None), ("Adults 25-29", None)])
    names = ["Coffee Lovers", "Tea Lovers", "Yoga Fans", "Golf Fans", "Adults 25-29"]
    decisions = classifier.classify_many([(n, None) for n in names])
    assert [d.parsed.raw for d in decisions] == names
    assert all(d.best is not None for d in decisions)


def test_one_name_gets_the_same_answer_alone_and_in_any_batch():
    names = ["/Motoring/Vintage & Classic Cars", "Coffee Lovers", "Gen Z Shoppers",
             "Purchase Intent > Electronics > Audio > Speakers"] * 3
    alone = [get_classifier().classify(n) for n in names[:4]]
    batch = get_classifier().classify_many([(n, None) for n in names])
    for one, other in zip(alone * 3, batch, strict=True):
        assert (one.best.node.id, one.margin, one.unsure) == (
            other.best.node.id, other.margin, other.unsure)
