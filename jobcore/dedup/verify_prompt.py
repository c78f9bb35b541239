"""Claude as a second reviewer of uncertain duplicate pairs: the question and its answer.

A request asks about one or several pairs (``pairs_per_request``): both topics' names,
descriptions and classifications, and the evidence the matcher found (its score, the
embeddings' and the names' similarity, the identifiers both names carry and those only one
does). The shared instructions are the system prompt, marked for prompt caching. The answer
is structured output: ``{"verdicts": [{"pair", "same", "confidence", "reason"}]}``, one
verdict per pair, read back by ``read_verdicts``, which refuses a malformed answer whole
(the pairs stay unverified) and names what is wrong.

This module is the question, its schema, the reader and the token profile that chose how
many pairs share a request (bench/verify_tokens.py); jobcore.dedup.verify puts it into the
sweep.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jobcore.dedup.proposals import Evidence
from jobcore.llm.answers import AnswerError, json_answer
from jobcore.llm.cost import CHARS_PER_TOKEN, PromptProfile

# bench/verify_tokens.py, default prices: $1.33 per 1,000 pairs asked one a request, $0.62
# ten a request, $0.56 fifty a request (the 409-token instructions are too short to cache,
# so each request pays them). Ten keeps most of the saving while a malformed answer, which
# leaves all its pairs unverified, costs ten pairs, not fifty.
DEFAULT_PAIRS_PER_REQUEST = 10
MAX_TOKENS_PER_PAIR = 120  # a verdict with a one-sentence reason, with room to spare
# Anthropic caches a prompt prefix only from this many tokens on (Sonnet and Opus; Haiku
# needs 2,048): shorter instructions are paid in full by every request.
MIN_CACHED_TOKENS = 1024
ANSWER_TOKENS_PER_PAIR = 45  # what a verdict takes on average (the estimate's figure)

INSTRUCTIONS = """You review pairs of audience segments (topics) from an advertising \
catalogue that an automatic matcher proposed as possible duplicates. A topic is a group of \
people, such as "Salesforce CRM Users", "Luxury SUV Intenders" or "Yoga Enthusiasts".

Two topics are the same when an advertiser would reach the same people with either: the \
same audience described with other words, spelling, word order, abbreviations, a data \
provider's path ("Eyeota > Automotive > SUV Intenders"), or a longer description.

They are different when they target different people, even if their names look alike:
- another market or country ("- UK" and "- US"),
- another income or age band, another product version ("Windows 10" and "Windows 11"),
- another qualifier of the audience ("Affluent", "Senior", "Gen Z", "Budget"),
- purchase intent ("Intenders", "In-Market for", "Shoppers") versus interest ("Fans", \
"Enthusiasts", "Content Readers"),
- another subject that shares a wording ("Suburban Intuit Administrators" and "Suburban \
Qualcomm Administrators"), or a narrower audience ("Coffee Shoppers" and "Coffee Makers \
Buyers").

The matcher's evidence is given with each pair: its score (0 to 1), the similarity of the \
embeddings and of the names, and the identifiers (numbers, model codes, markets) both \
names carry or only one carries. Use it, but judge the audiences yourself.

Answer for every pair, in the order given, with the fields of the JSON schema only:
- pair: the pair's number,
- same: true when the two topics are the same audience, else false,
- confidence: how sure you are, from 0 to 1,
- reason: one short sentence naming what decides it."""


@dataclass(frozen=True)
class PairTopic:
    """One side of a pair as the question shows it."""

    id: int
    name: str
    description: str | None
    classification: str  # "Interest > Pets > Reptiles", or "unclassified"


@dataclass(frozen=True)
class PairQuestion:
    """A pair the matcher was unsure of, with its score and evidence."""

    a: PairTopic
    b: PairTopic
    score: float
    evidence: Evidence


@dataclass(frozen=True)
class Verdict:
    """Claude's answer about one pair."""

    same: bool
    confidence: float
    reason: str


def verdict_schema(pairs: int) -> dict[str, Any]:
    """JSON schema of an answer about ``pairs`` pairs."""
    verdict = {
        "type": "object",
        "properties": {
            "pair": {"type": "integer", "minimum": 1, "maximum": pairs},
            "same": {"type": "boolean"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reason": {"type": "string"},
        },
        "required": ["pair", "same", "confidence", "reason"],
        "additionalProperties": False,
    }
    return {"type": "object",
            "properties": {"verdicts": {"type": "array", "items": verdict,
                                        "minItems": pairs, "maxItems": pairs}},
            "required": ["verdicts"], "additionalProperties": False}


def _topic_text(label: str, topic: PairTopic) -> str:
    return (f"  {label}: {topic.name}\n"
            f"     description: {topic.description or '(none)'}\n"
            f"     classification: {topic.classification}")


def _evidence_text(question: PairQuestion) -> str:
    e = question.evidence
    parts = [f"score {question.score:.3f}"]
    if e.semantic is not None:
        parts.append(f"embeddings {e.semantic:.3f}")
    if e.lexical is not None:
        parts.append(f"names {e.lexical:.3f}")
    parts.append("both carry " + (", ".join(e.shared) or "no identifiers"))
    parts.append("only one carries " + (", ".join(e.unshared) or "nothing"))
    return "  evidence: " + "; ".join(parts)


def user_prompt(questions: list[PairQuestion]) -> str:
    """The pairs of one request, numbered from 1."""
    blocks = [f"Pair {n}:\n{_topic_text('A', q.a)}\n{_topic_text('B', q.b)}\n"
              f"{_evidence_text(q)}" for n, q in enumerate(questions, start=1)]
    return "\n\n".join(blocks)


def request_params(questions: list[PairQuestion], *, model: str) -> dict[str, Any]:
    """The Messages API parameters of one request about these pairs (a batch request's
    ``params``).
    """
    if not questions:
        raise ValueError("a request needs at least one pair")
    return {
        "model": model,
        "max_tokens": MAX_TOKENS_PER_PAIR * len(questions),
        "system": [{"type": "text", "text": INSTRUCTIONS,
                    "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": user_prompt(questions)}],
        "output_config": {"format": {"type": "json_schema",
                                     "schema": verdict_schema(len(questions))}},
    }


def read_verdicts(text: str, pairs: int) -> list[Verdict]:
    """The verdicts of an answer about ``pairs`` pairs, in the pairs' order; AnswerError
    (the whole answer refused: its pairs stay unverified) says what is wrong.
    """
    answer = json_answer(text)
    items = answer.get("verdicts") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise AnswerError("the answer has no list of verdicts")
    found: dict[int, Verdict] = {}
    for item in items:
        if not isinstance(item, dict):
            raise AnswerError(f"a verdict is not an object: {item!r}")
        number, same = item.get("pair"), item.get("same")
        confidence, reason = item.get("confidence"), item.get("reason")
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= pairs:
            raise AnswerError(f"a verdict names no pair of 1..{pairs}: {number!r}")
        if number in found:
            raise AnswerError(f"pair {number} has two verdicts")
        if not isinstance(same, bool):
            raise AnswerError(f"pair {number}: same must be true or false, got {same!r}")
        if (not isinstance(confidence, int | float) or isinstance(confidence, bool)
                or not 0 <= confidence <= 1):
            raise AnswerError(f"pair {number}: confidence must be 0..1, got {confidence!r}")
        if not isinstance(reason, str) or not reason.strip():
            raise AnswerError(f"pair {number}: the reason is missing")
        found[number] = Verdict(same, float(confidence), reason.strip())
    missing = [n for n in range(1, pairs + 1) if n not in found]
    if missing:
        raise AnswerError(f"no verdict for pair {', '.join(map(str, missing))}")
    return [found[n] for n in range(1, pairs + 1)]


def verify_profile(questions: list[PairQuestion], pairs_per_request: int) -> PromptProfile:
    """The token profile of verification requests that ask about ``pairs_per_request``
    pairs each, from the average pair of these samples: per request, the instructions
    (cached only when long enough to be), that many pairs' text, the schema, and as many
    verdicts. ``estimate(requests, profile)`` then prices ``requests`` such requests.
    """
    if not questions or pairs_per_request < 1:
        raise ValueError("a profile needs sample pairs and at least one pair a request")
    pair_chars = sum(len(user_prompt([q])) for q in questions) / len(questions)
    schema_chars = len(json.dumps(verdict_schema(pairs_per_request)))
    per_request = (pair_chars * pairs_per_request + schema_chars) / CHARS_PER_TOKEN
    system = len(INSTRUCTIONS) // CHARS_PER_TOKEN
    return PromptProfile(system, system >= MIN_CACHED_TOKENS, round(per_request),
                         ANSWER_TOKENS_PER_PAIR * pairs_per_request)
