"""The taxonomy's allowed values and the deterministic rule engine."""

from __future__ import annotations

import pytest

from jobcore.classify.rules import get_rule_engine, load_ruleset
from jobcore.classify.taxonomy import Classification, get_taxonomy


def test_taxonomy_is_built_from_iab_audience_and_the_b2b_tree():
    taxonomy = get_taxonomy()
    assert "Automotive" in taxonomy.parent_categories("Interest")
    assert "Business Applications" in taxonomy.parent_categories("Business Technology")
    assert "Purchase Intent" in {n.taxonomy_type for n in taxonomy.nodes.values()}
    assert "CRM" in taxonomy.subcategories("Business Technology", "Business Applications")
    assert len([n for n in taxonomy.nodes.values() if n.taxonomy == "iab_audience_1_1"]) == 1558


def test_valid_classification_has_no_problems():
    valid = Classification("b2c", "Interest", "Automotive", "Luxury Cars", "interest")
    assert get_taxonomy().problems(valid) == []


@pytest.mark.parametrize(("classification", "expected"), [
    (Classification("b2c", "Hobbies", "Automotive", None, "interest"), "taxonomy_type 'Hobbies'"),
    (Classification("b2x", "Interest", "Automotive", None, "interest"), "segment_type 'b2x'"),
    (Classification("b2c", "Interest", "Automotive", None, "intent"), "audience_type 'intent'"),
    (Classification("b2c", "Interest", "Automotiv", None, "interest"), "did you mean"),
    (Classification("b2c", "Interest", "Automotive", "Yoga", "interest"),
     "subcategory 'Yoga' is not under Interest > Automotive"),
])
def test_invalid_classifications_are_explained(classification, expected):
    problems = get_taxonomy().problems(classification)
    assert problems and any(expected in p for p in problems)


@pytest.mark.parametrize(("name", "expected"), [
    ("Luxury SUV Intenders", ("Purchase Intent", "Automotive Ownership", "SUV")),
    ("Luxury Cars Fans", ("Interest", "Automotive", "Luxury Cars")),
    ("In-Market for Luxury Cars", ("Purchase Intent", "Automotive Ownership", "Luxury Cars")),
    ("Salesforce Users", ("Business Technology", "Business Applications", "CRM")),
    ("Cybersecurity Professionals", ("Business Technology", "Infrastructure Software",
                                     "Cybersecurity")),
    ("Yoga Enthusiasts", ("Interest", "Healthy Living", "Fitness and Exercise")),
    ("Adults 25-29", ("Demographic", "Age Range", "25-29")),
])
def test_rules_classify_typical_segment_names(name, expected):
    match = get_rule_engine().classify(name)
    c = match.classification
    assert (c.taxonomy_type, c.parent_category, c.subcategory) == expected
    assert get_taxonomy().problems(c) == []


def test_rules_are_deterministic_and_versioned():
    engine = get_rule_engine()
    assert engine.version == load_ruleset()["version"]
    names = ["Coffee Lovers", "Home Improvement Shoppers", "Microsoft Decision Makers"]
    assert [engine.classify(n) for n in names] == [engine.classify(n) for n in names]


def test_description_is_used_when_the_name_says_nothing():
    match = get_rule_engine().classify("Segment 4711", "People who love luxury cars")
    assert match.classification.subcategory == "Luxury Cars"
