"""Claude's question in LLM mode: the local classifier's candidates only; the wide question
(the whole taxonomy) in column mode or when the classifier has nothing.
"""

from __future__ import annotations

import json

import pytest

from jobcore.classify.prompts import (
    MAX_CANDIDATES,
    candidate_request_params,
    candidates_of,
    parse_answer,
    reclassify_profile,
    request_params,
)
from jobcore.classify.segment_classifier import get_classifier
from jobcore.classify.taxonomy import Classification, get_taxonomy
from jobcore.llm.answers import AnswerError
from jobcore.llm.cost import estimate

NOTHING = Classification(None, None, None, None, None)


def test_the_schema_holds_only_the_candidate_ids_with_their_paths_in_the_prompt():
    decision = get_classifier().classify("/Motoring/Vintage & Classic Cars")
    candidates = candidates_of(decision)
    ids = [node_id for node_id, _ in candidates]
    assert ids[0] == decision.best.node.id and decision.runner_up.node.id in ids
    assert len(ids) == len(set(ids)) <= MAX_CANDIDATES
    # the parents of the best candidates are offered too (the right answer may be one)
    assert decision.best.node.parent_id in ids
    params = candidate_request_params(name="/Motoring/Vintage & Classic Cars",
                                      description=None, candidates=candidates,
                                      model="claude-sonnet-4-5", web_search=False)
    schema = params["output_config"]["format"]["schema"]
    assert schema["required"] == ["node_id"] and schema["additionalProperties"] is False
    assert schema["properties"]["node_id"]["enum"] == ids
    prompt = params["messages"][0]["content"]
    for node_id, path in candidates:
        assert f"{node_id}: {path}" in prompt
    assert "tools" not in params
    assert "Taxonomy:" not in json.dumps(params)  # not the whole taxonomy


def test_a_named_node_becomes_its_classification_and_a_made_up_one_is_refused():
    classification, node_id = parse_answer('{"node_id": "iab_audience_1_1:249"}', NOTHING)
    assert node_id == "iab_audience_1_1:249"
    assert (classification.taxonomy_type, classification.parent_category,
            classification.subcategory, classification.audience_type) == (
        "Interest", "Automotive", "Classic Cars", "interest")
    assert get_taxonomy().problems(classification) == []
    for bad in ('{"node_id": "iab_audience_1_1:999999"}', '{"node_id": "iab_audience_1_1:1"}',
                '{"node_id": 5}'):
        with pytest.raises(AnswerError, match="outside the taxonomy"):
            parse_answer(bad, NOTHING)


def test_column_mode_asks_the_wide_question_with_the_taxonomy_cached():
    params = request_params(name="Yoga Fans", description=None, current=NOTHING,
                            model="m", web_search=False, target_column="parent_category")
    assert params["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert params["output_config"]["format"]["schema"]["required"] == ["parent_category"]


def test_the_narrow_question_costs_less_per_topic():
    wide = estimate(1000, reclassify_profile(web_search=False, narrow=False))
    narrow = estimate(1000, reclassify_profile(web_search=False))
    assert narrow.dollars < wide.dollars
