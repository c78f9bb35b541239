"""What a job that asks Claude through Message Batches keeps in its ``result``: the phase it
is in (submit, poll, done), the usage of the answers so far, and a cost estimate made once
the job knew what it sends (a sweep's pairs).
"""

from __future__ import annotations

from typing import Any

from jobcore.jobs.base import JobResult


class BatchResult(JobResult):
    """The LLM phases' part of a job's result."""

    phase: str | None = None
    usage: dict[str, Any] | None = None  # jobcore.llm.answers.Usage, as stored
    cost_estimate: dict[str, Any] | None = None  # {usage, dollars}
