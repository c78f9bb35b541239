"""What LLM reclassify sends and costs per 1,000 topics: the wide question (the whole
taxonomy in a cached system prompt, five fields to fill; the question before issue 26, and
column mode's still) against the narrow one (the local classifier's candidate nodes, their
ids as the answer's enum).

Builds the real request of every name of a labelled CSV (default: the development set in
../shared/data/segments_dev, read from there), counts its characters as tokens the way
jobcore.llm.cost does (4 characters a token; the schema counted too), and prices 1,000
topics through Message Batches in sub-batches of 100 with the configured prices: the wide
question writes its system prompt to the cache once a sub-batch and reads it for the rest;
the narrow one's is below the cacheable size and is paid in full. Web search off.

    python bench/reclassify_cost.py [--data ../shared/data/segments_dev/segments_dev.csv]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobcore.classify.prompts import (
    ANSWER_TOKENS,
    CANDIDATE_ANSWER_TOKENS,
    candidate_request_params,
    candidates_of,
    request_params,
)
from jobcore.classify.segment_classifier import get_classifier
from jobcore.classify.taxonomy import Classification
from jobcore.llm.answers import Usage
from jobcore.llm.cost import CHARS_PER_TOKEN, SUB_BATCH_SIZE, price

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/segments_dev/segments_dev.csv"
TOPICS = 1000
NOTHING = Classification(None, None, None, None, None)


def _tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN


def _split(params: dict) -> tuple[int, int]:
    """(system tokens, the topic's own tokens: message and answer schema)."""
    system = sum(_tokens(block["text"]) for block in params["system"])
    own = _tokens(params["messages"][0]["content"]) + _tokens(
        json.dumps(params["output_config"]["format"]["schema"]))
    return system, own


def usage_per_thousand(requests: list[dict], answer_tokens: int, cached: bool) -> Usage:
    systems, owns = zip(*(_split(p) for p in requests), strict=True)
    system, own = statistics.mean(systems), statistics.mean(owns)
    batches = TOPICS // SUB_BATCH_SIZE
    if cached:
        return Usage(input_tokens=round(TOPICS * own), output_tokens=TOPICS * answer_tokens,
                     cache_read_tokens=round((TOPICS - batches) * system),
                     cache_write_tokens=round(batches * system))
    return Usage(input_tokens=round(TOPICS * (own + system)),
                 output_tokens=TOPICS * answer_tokens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    with args.data.open(newline="", encoding="utf-8") as handle:
        names = [row["name"] for row in csv.DictReader(handle)]
    model = "claude-sonnet-4-5"
    wide = [request_params(name=n, description=None, current=NOTHING, model=model,
                           web_search=False) for n in names]
    decisions = get_classifier().classify_many([(n, None) for n in names])
    narrow = [candidate_request_params(name=n, description=None, candidates=candidates_of(d),
                                       model=model, web_search=False)
              for n, d in zip(names, decisions, strict=True) if d.best is not None]
    offered = statistics.mean(len(candidates_of(d)) for d in decisions if d.best is not None)
    print(f"{len(names)} names; the narrow question offers {offered:.1f} candidate nodes on "
          f"average ({len(names) - len(narrow)} names with none ask the wide question)")
    for label, requests, answer, cached in (
            ("before: wide question (whole taxonomy, cached)", wide, ANSWER_TOKENS, True),
            ("after:  narrow question (candidate ids)", narrow, CANDIDATE_ANSWER_TOKENS,
             False)):
        usage = usage_per_thousand(requests, answer, cached)
        print(f"{label}\n  per 1,000 topics: input {usage.input_tokens:,}  cache read "
              f"{usage.cache_read_tokens:,}  cache write {usage.cache_write_tokens:,}  output "
              f"{usage.output_tokens:,} tokens = ${price(usage):.2f} (Message Batches prices)")


if __name__ == "__main__":
    main()
