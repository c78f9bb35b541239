"""What a job that asks Claude through Message Batches keeps: in its ``result``, the phase
it is in (submit, poll, done), the usage of the answers so far, and a cost estimate made
once the job knew what it sends (a sweep's pairs); in its ``cursor``, where phase 1 stands
(jobcore.llm.phases).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from jobcore.jobs.base import JobResult, KeyCursor
from jobcore.sql_rules import POLL_PHASE


class BatchResult(JobResult):
    """The LLM phases' part of a job's result."""

    phase: str | None = None
    usage: dict[str, Any] | None = None  # jobcore.llm.answers.Usage, as stored
    cost_estimate: dict[str, Any] | None = None  # {usage, dollars}


class BatchCursor(KeyCursor):
    """The LLM phases' part of a job's cursor: its phase, the items submitted, those it
    refused to send, and those to submit again (a sub-batch Anthropic did not take).
    """

    phase: str = "submit"  # then POLL_PHASE until every answer is written
    submitted: int = 0
    unsent: int = 0
    retry_ids: list[int] = Field(default_factory=list)

    @property
    def submitting(self) -> bool:
        return self.phase == "submit"

    def submitted_all(self) -> None:
        """Phase 1 is over: poll and stage from now on."""
        self.phase = POLL_PHASE
