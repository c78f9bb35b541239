"""The taxonomy's allowed values."""

from __future__ import annotations

import pytest

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
