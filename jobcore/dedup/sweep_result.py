"""What a dedup sweep stores in its job's ``result``, typed: its clusters' counts, the
histogram of closest neighbours, and the verification by Claude of the pairs in the band;
and where it stands between chunks (its ``cursor``). The sweep writes them through these
models (``patch``), and the pages, the CLI and the API read them (``SweepResult.of``), so
the keys are spelled in one place.
"""

from __future__ import annotations

from jobcore.jobs.base import StoredModel
from jobcore.llm.batch_result import BatchCursor, BatchResult


class Verification(StoredModel):
    """Where the verification by Claude stands: the band it covers, then (once every topic
    is swept) the pairs numbered into requests, and the answers so far.
    """

    band: tuple[float, float]
    max_pairs: int = 0
    remembered: int = 0  # pairs judged by an earlier sweep, not asked again
    pairs: int | None = None  # None until every topic is swept
    requests: int = 0
    skipped: int = 0  # over max_pairs, not sent
    model: str | None = None
    same: int = 0
    different: int = 0
    failed: int = 0
    gone: int = 0  # a topic merged or deleted before the answer came

    @property
    def numbered(self) -> bool:
        """Whether the band's pairs have been numbered into requests."""
        return self.pairs is not None

    @property
    def waiting(self) -> int:
        """Pairs sent (or to send) that have no answer yet."""
        return max((self.pairs or 0) - self.same - self.different - self.failed - self.gone, 0)

    def answered(self, *, same: int = 0, different: int = 0, failed: int = 0,
                 gone: int = 0) -> Verification:
        """These figures with a post-processing chunk's answers added."""
        return self.model_copy(update={
            "same": self.same + same, "different": self.different + different,
            "failed": self.failed + failed, "gone": self.gone + gone})


class Histogram(StoredModel):
    """Swept topics by the score of their closest neighbour, in equal bins from ``start``."""

    start: float
    step: float
    counts: list[int]
    below: int = 0  # closest neighbour scoring under ``start``


class SweepResult(BatchResult):
    """A sweep job's ``result`` (with the LLM phases' part when Claude verifies)."""

    threshold: float | None = None
    matching: str | None = None
    search: str | None = None  # how candidates were found: lexical, exact or hnsw
    cluster_count: int = 0
    duplicate_count: int = 0
    embeddings_refreshed: int = 0
    embeddings_pending: int | None = None
    histogram: Histogram | None = None
    verification: Verification | None = None


def verification_caption(verification: Verification | None, submitted: int, *,
                         finished: bool = False) -> str:
    """Where a sweep's verification by Claude stands (or, ``finished``, what it did), as a
    sentence.
    """
    v = verification
    if v is None:
        return "Pairs in the verification band wait for Claude until every topic is swept."
    low, high = v.band
    if v.pairs is None:
        return (f"Pairs scoring {low:.2f}–{high:.2f} wait for Claude until every topic is "
                "swept.")
    if v.pairs:
        verb = "verified" if finished else "verifies"
        model = f" ({v.model})" if v.model else ""
        parts = [f"Claude{model} {verb} {v.pairs:,} pair{'s' if v.pairs != 1 else ''} "
                 f"scoring {low:.2f}–{high:.2f} in {v.requests:,} "
                 f"request{'s' if v.requests != 1 else ''} ({submitted:,} submitted)",
                 f"{v.same:,} judged the same (they joined clusters), {v.different:,} "
                 f"different, {v.failed:,} unverified (see the errors)"]
        if v.gone:
            parts.append(f"{v.gone:,} left out: a topic was merged or deleted before the "
                         "answer came")
    else:
        parts = [f"No pair scoring {low:.2f}–{high:.2f} {'needed' if finished else 'needs'} "
                 "asking Claude"]
    if v.skipped:
        parts.append(f"{v.skipped:,} more were not sent (over Max pairs, {v.max_pairs:,}, the "
                     "lowest scores)")
    if v.remembered:
        parts.append(f"{v.remembered:,} joined on an earlier sweep's verdict, not asked again")
    return "; ".join(parts) + "."


class SweepCursor(BatchCursor):
    """Where a sweep stands: the topics swept by id up to the planned largest, with the
    search method chosen when it was planned; then, verifying, the LLM phases over its
    numbered requests (ids are request numbers from there on).
    """

    phase: str = "sweep"  # then "submit" and POLL_PHASE, when it verifies
    method: str = "exact"
