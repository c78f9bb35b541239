"""What an LLM job costs: an estimate before it starts, the actual after.

Prices are settings (dollars per million tokens, per 1,000 web searches); Message Batches
pay ``BATCH_DISCOUNT`` of the token prices. The estimate counts tokens as characters / 4
(a documented approximation of Claude's tokenizer for English text, within ~15 %): the
shared system prompt is written to the cache once per sub-batch and read by the other
requests; each topic adds its own prompt and an answer of about ``ANSWER_TOKENS``; with web
search on, one search per ``TOPICS_PER_SEARCH`` topics is assumed. Another job's prompts
come as each job type's ``PromptProfile`` (see the handlers' ``cost_profile``).
"""

from __future__ import annotations

from dataclasses import dataclass

from jobcore.config import Settings, get_settings
from jobcore.llm.answers import Usage

CHARS_PER_TOKEN = 4
ANSWER_TOKENS = 60
TOPIC_PROMPT_TOKENS = 45
TOPICS_PER_SEARCH = 4
SUB_BATCH_SIZE = 100


@dataclass(frozen=True)
class PromptProfile:
    """The token sizes of one job type's requests: the shared system prompt (cached or
    not), each topic's own prompt, its answer.
    """

    system_tokens: int
    cached: bool
    topic_tokens: int
    answer_tokens: int
    web_search: bool = False  # the requests carry the web search tool


@dataclass(frozen=True)
class Cost:
    """Dollars, with the usage they come from."""

    usage: Usage
    dollars: float


def price(usage: Usage, settings: Settings | None = None) -> float:
    """Dollars for this usage through Message Batches."""
    s = settings or get_settings()
    tokens = (usage.input_tokens * s.price_input_per_mtok
              + usage.output_tokens * s.price_output_per_mtok
              + usage.cache_read_tokens * s.price_cache_read_per_mtok
              + usage.cache_write_tokens * s.price_cache_write_per_mtok) / 1_000_000
    return tokens * s.batch_discount + usage.web_searches * s.price_web_search_per_thousand / 1000


def estimate(topics: int, profile: PromptProfile, *, settings: Settings | None = None) -> Cost:
    """The expected usage and cost of sending ``topics`` topics with ``profile``'s prompts."""
    p = profile
    web_search = p.web_search
    batches = -(-topics // SUB_BATCH_SIZE)
    if p.cached:
        usage = Usage(input_tokens=topics * p.topic_tokens,
                      output_tokens=topics * p.answer_tokens,
                      cache_read_tokens=max(topics - batches, 0) * p.system_tokens,
                      cache_write_tokens=batches * p.system_tokens,
                      web_searches=topics // TOPICS_PER_SEARCH if web_search else 0)
    else:
        usage = Usage(input_tokens=topics * (p.topic_tokens + p.system_tokens),
                      output_tokens=topics * p.answer_tokens,
                      web_searches=topics // TOPICS_PER_SEARCH if web_search else 0)
    return Cost(usage, price(usage, settings))


def actual(usage_dict: dict | None, settings: Settings | None = None) -> Cost:
    """The cost of the usage a job has summed from its results so far."""
    usage = Usage.from_dict(usage_dict)
    return Cost(usage, price(usage, settings))
