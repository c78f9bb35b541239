"""Classification by Claude: the prompt, the answer's JSON schema, and reading answers.

One request per topic (custom_id = the topic id). In LLM mode the question is narrow: the
candidate nodes the local classifier found (its best, runner-up and the rest of its
shortlist, with their parents), by id and path, and the answer's schema allows only those
ids, so Claude chooses among valid nodes (``candidate_request_params``). A topic the local
classifier finds nothing for, and column mode (one field), ask the wide question instead:
the shared instructions and the whole taxonomy first in the system prompt, marked for
prompt caching, and structured output against a JSON schema of the five fields (or of the
one field). Every answer is validated against the taxonomy before anything is written.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jobcore.classify.segment_classifier import Decision, classification_of
from jobcore.classify.taxonomy import (
    AUDIENCE_TYPES,
    CLASSIFICATION_FIELDS,
    SEGMENT_TYPES,
    TAXONOMY_TYPES,
    Classification,
    get_taxonomy,
)
from jobcore.llm.answers import AnswerError, json_answer
from jobcore.llm.cost import ANSWER_TOKENS, CHARS_PER_TOKEN, TOPIC_PROMPT_TOKENS, PromptProfile

MAX_TOKENS = 400
WEB_SEARCH_MAX_USES = 2
MAX_CANDIDATES = 10  # nodes offered in a narrow question
CANDIDATE_ANSWER_TOKENS = 20  # {"node_id": "iab_audience_1_1:1234"}

CANDIDATE_INSTRUCTIONS = """You classify audience segments (topics) of an advertising \
catalogue into one node of a fixed taxonomy: the IAB Audience Taxonomy 1.1 (Demographic: who \
people are; Interest: what they like or read about; Purchase Intent: what they are about to \
buy, as in-market segments, intenders, shoppers and buyers) and a Business Technology tree \
(the software their company uses). A local classifier has proposed candidate nodes for the \
topic. Answer with the id of the candidate that fits best: the most specific node the name \
supports, or a parent node when the name spans several of its children. A provider's \
framing decides Interest against Purchase Intent. When the name is ambiguous (a brand, an \
acronym), you may search the web once or twice to find out what it is."""

INSTRUCTIONS = """You classify audience segments (topics) of an advertising catalogue into a \
fixed taxonomy. A topic is a group of people, such as "Salesforce CRM Users", "Luxury SUV \
Intenders" or "Yoga Enthusiasts".

Answer with the fields of the JSON schema only:
- segment_type: "b2b" for people reached through their work or company, else "b2c".
- taxonomy_type: Demographic (who people are), Interest (what they like), Purchase Intent \
(what they are about to buy) or Business Technology (the software and technology their \
company uses or buys).
- parent_category: one of the parent categories listed below for that taxonomy type.
- subcategory: one of the subcategories listed under that parent category, or null when \
none fits better than the parent category itself.
- audience_type: demographic for Demographic, interest for Interest, intent for Purchase \
Intent, technographic for Business Technology.

Use exactly the spelling of the taxonomy. When the name is ambiguous (a brand, an acronym), \
you may search the web once or twice to find out what it is."""


@lru_cache(maxsize=1)
def taxonomy_text() -> str:
    """The whole taxonomy as indented text: type, parent categories, subcategories."""
    taxonomy = get_taxonomy()
    lines = ["Taxonomy:"]
    for taxonomy_type in TAXONOMY_TYPES:
        lines.append(f"{taxonomy_type}")
        for parent in taxonomy.parent_categories(taxonomy_type):
            subs = taxonomy.subcategories(taxonomy_type, parent)
            lines.append(f"  {parent}" + (f": {'; '.join(subs)}" if subs else ""))
    return "\n".join(lines)


def answer_schema(target_column: str | None = None) -> dict[str, Any]:
    """JSON schema of the answer: the five fields, or only ``target_column``."""
    properties: dict[str, Any] = {
        "segment_type": {"type": "string", "enum": list(SEGMENT_TYPES)},
        "taxonomy_type": {"type": "string", "enum": list(TAXONOMY_TYPES)},
        "parent_category": {"type": "string", "enum": get_taxonomy().parent_categories()},
        "subcategory": {"type": ["string", "null"]},
        "audience_type": {"type": "string", "enum": list(AUDIENCE_TYPES)},
    }
    fields = [target_column] if target_column else list(CLASSIFICATION_FIELDS)
    return {"type": "object", "properties": {f: properties[f] for f in fields},
            "required": fields, "additionalProperties": False}


def _user_prompt(name: str, description: str | None, current: Classification,
                 target_column: str | None) -> str:
    text = f"Topic: {name}\nDescription: {description or '(none)'}"
    if target_column:
        known = {k: v for k, v in current.as_dict().items() if v and k != target_column}
        text += (f"\nIts other fields, to keep consistent with: {json.dumps(known)}"
                 f"\nGive only {target_column}.")
    return text


def request_params(*, name: str, description: str | None, current: Classification,
                   model: str, web_search: bool, target_column: str | None = None
                   ) -> dict[str, Any]:
    """The Messages API parameters of one topic's request (a batch request's ``params``)."""
    params: dict[str, Any] = {
        "model": model,
        "max_tokens": MAX_TOKENS,
        "system": [{"type": "text", "text": INSTRUCTIONS},
                   {"type": "text", "text": taxonomy_text(),
                    "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": _user_prompt(
            name, description, current, target_column)}],
        "output_config": {"format": {"type": "json_schema",
                                     "schema": answer_schema(target_column)}},
    }
    if web_search:
        params["tools"] = [{"type": "web_search_20250305", "name": "web_search",
                            "max_uses": WEB_SEARCH_MAX_USES}]
    return params


def candidates_of(decision: Decision) -> list[tuple[str, str]]:
    """(node id, path) of the nodes a narrow question offers: the local classifier's
    shortlist, best first, with the parents of the first three (a parent is the right
    answer when a name spans its children), at most ``MAX_CANDIDATES``.
    """
    taxonomy = get_taxonomy()
    offered: list[str] = []
    for rank, candidate in enumerate(decision.candidates):
        node = candidate.node
        chain = [node.id]
        if rank < 3:
            parent = taxonomy.nodes.get(node.parent_id or "")
            while parent is not None and parent.level >= 2:
                chain.append(parent.id)
                parent = taxonomy.nodes.get(parent.parent_id or "")
        offered.extend(n for n in chain if n not in offered)
    offered = offered[:MAX_CANDIDATES]
    return [(node_id, " > ".join(taxonomy.nodes[node_id].path)) for node_id in offered]


def candidate_request_params(*, name: str, description: str | None,
                             candidates: list[tuple[str, str]], model: str,
                             web_search: bool) -> dict[str, Any]:
    """The Messages API parameters of a narrow question: choose one of ``candidates``."""
    lines = "\n".join(f"{node_id}: {path}" for node_id, path in candidates)
    params: dict[str, Any] = {
        "model": model,
        "max_tokens": MAX_TOKENS,
        "system": [{"type": "text", "text": CANDIDATE_INSTRUCTIONS}],
        "messages": [{"role": "user", "content": (
            f"Topic: {name}\nDescription: {description or '(none)'}\n\n"
            f"Candidate nodes:\n{lines}")}],
        "output_config": {"format": {"type": "json_schema", "schema": {
            "type": "object", "required": ["node_id"], "additionalProperties": False,
            "properties": {"node_id": {"type": "string",
                                       "enum": [node_id for node_id, _ in candidates]}}}}},
    }
    if web_search:
        params["tools"] = [{"type": "web_search_20250305", "name": "web_search",
                            "max_uses": WEB_SEARCH_MAX_USES}]
    return params


def parse_answer(text: str, current: Classification,
                 target_column: str | None = None) -> tuple[Classification, str | None]:
    """The classification an answer's text gives, and its node when the answer names one
    (a narrow question's ``node_id``; else ``current`` with the fields replaced, one in
    column mode), validated against the taxonomy; AnswerError says what is wrong.
    """
    answer = json_answer(text)
    if isinstance(answer, dict) and "node_id" in answer and target_column is None:
        node = get_taxonomy().nodes.get(answer["node_id"]) \
            if isinstance(answer["node_id"], str) else None
        if node is None or node.level < 2:
            raise AnswerError(f"outside the taxonomy: node_id {answer['node_id']!r} is not a "
                              "node a topic can be classified as")
        return classification_of(node), node.id
    fields = [target_column] if target_column else list(CLASSIFICATION_FIELDS)
    if not isinstance(answer, dict) or any(f not in answer for f in fields):
        raise AnswerError(f"the answer lacks {', '.join(f for f in fields if f not in answer)}"
                          if isinstance(answer, dict) else "the answer is not a JSON object")
    values = current.as_dict()
    for field in fields:
        value = answer[field]
        if value is not None and not isinstance(value, str):
            raise AnswerError(f"{field}: expected text, got {value!r}")
        values[field] = value
    classification = Classification.from_mapping(values)
    problems = get_taxonomy().problems(classification)
    if problems:
        raise AnswerError("outside the taxonomy: " + "; ".join(problems))
    return classification, None


def reclassify_profile(*, web_search: bool, narrow: bool = True) -> PromptProfile:
    """The token profile of LLM reclassify's requests: the narrow question (short
    instructions, not cached; the topic with its candidate nodes), or the wide one
    (instructions and the whole taxonomy, cached; column mode); web search as configured.
    """
    if narrow:
        candidates = "\n".join(f"iab_audience_1_1:1234: {path}" for path in _TYPICAL_PATHS)
        return PromptProfile(len(CANDIDATE_INSTRUCTIONS) // CHARS_PER_TOKEN, False,
                             TOPIC_PROMPT_TOKENS + len(candidates) // CHARS_PER_TOKEN,
                             CANDIDATE_ANSWER_TOKENS, web_search)
    return PromptProfile(len(INSTRUCTIONS + taxonomy_text()) // CHARS_PER_TOKEN, True,
                         TOPIC_PROMPT_TOKENS, ANSWER_TOKENS, web_search)


# Ten candidate paths of typical length, for the cost estimate of a narrow question.
_TYPICAL_PATHS = (
    "Purchase Intent > Automotive Ownership > New Vehicles > SUV",
    "Purchase Intent > Automotive Ownership > New Vehicles",
    "Purchase Intent > Automotive Ownership",
    "Interest > Automotive > Luxury Cars",
    "Interest > Automotive",
    "Purchase Intent > Automotive Products > Automotive Parts and Accessories",
    "Purchase Intent > Consumer Packaged Goods > Non-edible > General Merchandise > Automotive",
    "Interest > Business and Finance > Industries > Automotive Industry",
    "Purchase Intent > Automotive Services > Auto Rental",
    "Interest > Travel > Road Trips",
)
