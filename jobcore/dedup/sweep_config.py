"""A dedup sweep's config: its threshold, matching mode and verification band, and
which topics it sweeps."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from pydantic import Field

from jobcore.catalog.topic_store import LIVE
from jobcore.dedup import (
    thresholds,
    verify_band,
)
from jobcore.jobs.base import (
    JOB_ID_PATTERN,
    JobConfig,
    shown_when,
)
from jobcore.schema import topic_history, topics

_VERIFYING = shown_when(verify=["claude"])


_WEIGHT = thresholds.SEMANTIC_WEIGHT
_DEFAULTS = thresholds.DEFAULT_THRESHOLDS
_LOWEST = min(thresholds.REPORTED_FROM.values())  # a sweep reports (and can cluster) from here


class DedupSweepConfig(JobConfig):
    source_batch_id: str | None = Field(
        default=None, pattern=JOB_ID_PATTERN,
        description="Only the topics this reclassify job changed (else the whole catalogue).")
    parent_category_filter: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="Only topics currently in this parent category.",
        json_schema_extra={"choicesFrom": "parentCategories"})
    matching: Literal["hybrid", "semantic"] = Field(
        default=thresholds.DEFAULT_MATCHING,
        description=f"hybrid: embeddings and names (candidates from both, score "
                    f"{_WEIGHT:.2f} x cosine + {1 - _WEIGHT:.2f} x name similarity); "
                    "semantic: the embeddings' cosine alone.")
    threshold: float | None = Field(
        default=None, ge=_LOWEST, le=1.0,
        description=f"Score at which two topics are near-duplicates (default "
                    f"{_DEFAULTS[thresholds.HYBRID]:.2f} for hybrid, "
                    f"{_DEFAULTS[thresholds.SEMANTIC]:.2f} for semantic matching).")
    limit: int | None = Field(default=None, ge=1, le=10_000_000,
                              description="At most this many topics swept.")
    verify: Literal["off", "claude"] = Field(
        default="off",
        description="claude: pairs scoring between Verify from and the threshold are sent to "
                    "Claude (Message Batches, paid); those it judges the same join clusters "
                    "with its reason.")
    verify_from: float | None = Field(
        default=None, ge=_LOWEST, le=1.0,
        description=f"Lower edge of the band Claude verifies (default "
                    f"{thresholds.VERIFY_FROM[thresholds.HYBRID]:.2f} for hybrid, "
                    f"{thresholds.VERIFY_FROM[thresholds.SEMANTIC]:.2f} for semantic "
                    "matching); pairs below it are dropped.",
        json_schema_extra=_VERIFYING)
    max_pairs: int = Field(default=verify_band.DEFAULT_MAX_PAIRS, ge=1, le=100_000,
                           description="At most this many pairs sent to Claude, the highest "
                                       "scores first.", json_schema_extra=_VERIFYING)
    model: str | None = Field(default=None, min_length=1, max_length=100,
                              pattern=r"^claude-[a-z0-9.-]+$",
                              description="The Claude model, such as claude-sonnet-4-5 "
                                          "(default: the CLASSIFICATION_MODEL setting).",
                              json_schema_extra=_VERIFYING)
    concurrency: int = Field(default=4, ge=1, le=16,
                             description="Message batches of 100 requests submitted at the "
                                         "same time.", json_schema_extra=_VERIFYING)

    @property
    def score_threshold(self) -> float:
        """The threshold given, else the matching's default."""
        if self.threshold is not None:
            return self.threshold
        return thresholds.DEFAULT_THRESHOLDS[self.matching]

    @property
    def verifying(self) -> bool:
        return self.verify == "claude"

    @property
    def band_from(self) -> float:
        """The lowest score a pair is considered at: the band's lower edge when verifying,
        else the threshold.
        """
        if not self.verifying:
            return self.score_threshold
        if self.verify_from is not None:
            return self.verify_from
        return min(thresholds.VERIFY_FROM[self.matching], self.score_threshold)


def sources_where(config: DedupSweepConfig) -> sa.ColumnElement[bool]:
    conditions: list[sa.ColumnElement[bool]] = [LIVE]
    if config.source_batch_id is not None:
        conditions.append(topics.c.id.in_(
            sa.select(topic_history.c.topic_id)
            .where(topic_history.c.job_id == config.source_batch_id)))
    if config.parent_category_filter is not None:
        conditions.append(topics.c.parent_category == config.parent_category_filter)
    return sa.and_(*conditions)
