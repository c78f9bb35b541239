"""Classification by Claude: the prompt, the answer's JSON schema, and reading answers.

One request per topic (custom_id = the topic id). The shared instructions and the whole
taxonomy come first in the system prompt, marked for prompt caching, so that every
request after the first in a batch reads them from the cache. The answer is structured
output against a JSON schema of the five fields (or of one field in column mode); it is
validated against the taxonomy before anything is written.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

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


def parse_answer(text: str, current: Classification,
                 target_column: str | None = None) -> Classification:
    """The classification an answer's text gives (``current`` with the one field replaced
    in column mode), validated against the taxonomy; AnswerError says what is wrong.
    """
    answer = json_answer(text)
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
    return classification


def reclassify_profile(*, web_search: bool) -> PromptProfile:
    """The token profile of LLM reclassify's requests: instructions and the whole taxonomy,
    cached; web search as configured.
    """
    return PromptProfile(len(INSTRUCTIONS + taxonomy_text()) // CHARS_PER_TOKEN, True,
                         TOPIC_PROMPT_TOKENS, ANSWER_TOKENS, web_search)
