"""The question Claude is asked about uncertain pairs, the answer's schema, and reading it."""

from __future__ import annotations

import json

import pytest

from jobcore.dedup.proposals import pair_evidence
from jobcore.dedup.verify_prompt import (
    PairQuestion,
    PairTopic,
    Verdict,
    read_verdicts,
    request_params,
    verdict_schema,
    verify_profile,
)
from jobcore.llm.answers import AnswerError
from jobcore.llm.cost import estimate


def _question(n: int) -> PairQuestion:
    a = PairTopic(n, f"Premium In-Market for Energy Svcs {n} - FR", "People about to buy energy "
                  "services.", "Purchase Intent > Energy")
    b = PairTopic(1000 + n, f"Premium In-Market for Energy Services {n} - FR", None,
                  "unclassified")
    return PairQuestion(a, b, 0.57, pair_evidence(a.name, b.name, 0.93, 0.45))


def test_a_request_shows_both_topics_the_evidence_and_asks_for_one_verdict_a_pair():
    params = request_params([_question(1), _question(2)], model="claude-sonnet-4-5")
    text = params["messages"][0]["content"]
    assert "Pair 1:" in text and "Pair 2:" in text
    assert "Premium In-Market for Energy Svcs 1 - FR" in text and "(none)" in text
    assert "score 0.570; embeddings 0.930; names 0.450" in text
    assert "both carry 1, market FR; only one carries nothing" in text
    schema = params["output_config"]["format"]["schema"]
    assert schema == verdict_schema(2)
    assert schema["properties"]["verdicts"]["minItems"] == 2
    assert params["max_tokens"] == 240
    assert params["system"][0]["cache_control"] == {"type": "ephemeral"}
    with pytest.raises(ValueError):
        request_params([], model="m")


def test_verdicts_come_back_in_the_pairs_order():
    answer = json.dumps({"verdicts": [
        {"pair": 2, "same": False, "confidence": 0.8, "reason": "Different markets."},
        {"pair": 1, "same": True, "confidence": 0.95, "reason": " Svcs abbreviates Services. "}]})
    assert read_verdicts(answer, 2) == [Verdict(True, 0.95, "Svcs abbreviates Services."),
                                        Verdict(False, 0.8, "Different markets.")]


@pytest.mark.parametrize(("answer", "problem"), [
    ("not json", "not JSON"),
    ('{"same": true}', "no list of verdicts"),
    ('{"verdicts": [1]}', "not an object"),
    ('{"verdicts": [{"pair": 3, "same": true, "confidence": 1, "reason": "x"}]}',
     "no pair of 1..2"),
    ('{"verdicts": [{"pair": 1, "same": "yes", "confidence": 1, "reason": "x"}]}',
     "same must be true or false"),
    ('{"verdicts": [{"pair": 1, "same": true, "confidence": 1.5, "reason": "x"}]}',
     "confidence must be 0..1"),
    ('{"verdicts": [{"pair": 1, "same": true, "confidence": 1, "reason": " "}]}',
     "reason is missing"),
    ('{"verdicts": [{"pair": 1, "same": true, "confidence": 1, "reason": "x"},'
     ' {"pair": 1, "same": false, "confidence": 1, "reason": "y"}]}', "two verdicts"),
    ('{"verdicts": [{"pair": 1, "same": true, "confidence": 1, "reason": "x"}]}',
     "no verdict for pair 2"),
])
def test_a_malformed_answer_is_refused_whole_naming_what_is_wrong(answer, problem):
    with pytest.raises(AnswerError, match=problem):
        read_verdicts(answer, 2)


def test_several_pairs_a_request_cost_less_per_pair_than_one():
    # the instructions are too short to be cached, so every request pays them in full
    questions = [_question(n) for n in range(40)]
    one, ten = verify_profile(questions, 1), verify_profile(questions, 10)
    assert not one.cached and one.system_tokens == ten.system_tokens
    per_pair_one = estimate(40, one).dollars / 40
    per_pair_ten = estimate(4, ten).dollars / 40
    assert per_pair_ten < per_pair_one / 2
    assert ten.topic_tokens > 5 * one.topic_tokens  # ten pairs' text in each request
