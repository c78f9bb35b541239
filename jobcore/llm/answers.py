"""Reading Message Batches results: the answer text of a staged result, why a result
failed, and the token and tool usage of results, summed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jobcore.catalog import topic_store
from jobcore.jobs.base import ChunkOutcome


def json_answer(text: str) -> Any:
    """An answer's text read as JSON; AnswerError (with the start of the text) when it is
    not.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnswerError(f"the answer is not JSON ({exc.msg} at {exc.pos}): "
                          f"{text[:200]!r}") from None


class AnswerError(ValueError):
    """The model's answer cannot be used (not JSON, wrong shape, outside the taxonomy)."""


def answer_of(row: Any) -> str:
    """The answer text (the last text block) of a succeeded staged result; AnswerError for
    a failed result or one without text.
    """
    if row.result_type != "succeeded":
        raise AnswerError(failed_result(row.result_type, row.failure))
    if row.answer is None:
        raise AnswerError(f"no text in the answer (stop_reason {row.stop_reason})")
    return row.answer


def live_results(staged: list[Any], outcome: ChunkOutcome
                 ) -> Iterator[tuple[Any, topic_store.TopicRow]]:
    """The staged results whose topic is still live, with it; the others count as skips
    (deleted or merged since they were submitted).
    """
    for row in staged:
        if row.id is None:
            outcome.skips += 1
            continue
        yield row, topic_store.topic_row(row)


def failed_result(kind: str, payload: dict[str, Any]) -> str:
    if kind == "errored":
        error = (payload.get("error") or {}).get("error") or {}
        return f"the request errored ({error.get('type', 'error')}: {error.get('message', '')})"
    return {"expired": "the request expired before it was processed (24 h)",
            "canceled": "the request was canceled"}.get(kind, f"result {kind}")


@dataclass(frozen=True)
class Usage:
    """Token and tool usage of results, summed."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    web_searches: int = 0

    @classmethod
    def total(cls, start: Usage, messages: Iterable[dict[str, Any]]) -> Usage:
        """``start`` plus the usage of every message (one pass: this runs per result)."""
        sums = list(start.as_tuple())
        for message in messages:
            usage = message.get("usage") or {}
            sums[0] += usage.get("input_tokens") or 0
            sums[1] += usage.get("output_tokens") or 0
            sums[2] += usage.get("cache_read_input_tokens") or 0
            sums[3] += usage.get("cache_creation_input_tokens") or 0
            sums[4] += (usage.get("server_tool_use") or {}).get("web_search_requests") or 0
        return cls(*sums)

    def as_tuple(self) -> tuple[int, ...]:
        return (self.input_tokens, self.output_tokens, self.cache_read_tokens,
                self.cache_write_tokens, self.web_searches)

    def as_dict(self) -> dict[str, int]:
        return {"inputTokens": self.input_tokens, "outputTokens": self.output_tokens,
                "cacheReadTokens": self.cache_read_tokens,
                "cacheWriteTokens": self.cache_write_tokens, "webSearches": self.web_searches}

    @classmethod
    def from_dict(cls, data: dict[str, int] | None) -> Usage:
        data = data or {}
        return cls(data.get("inputTokens", 0), data.get("outputTokens", 0),
                   data.get("cacheReadTokens", 0), data.get("cacheWriteTokens", 0),
                   data.get("webSearches", 0))
