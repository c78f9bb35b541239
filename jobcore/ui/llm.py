"""What the job detail shows of an LLM job: its message batches and its cost (pure)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from jobcore.jobs.registry import get_handler
from jobcore.llm import cost
from jobcore.llm.answers import Usage


def is_llm_job(job_type: str, config: dict[str, Any]) -> bool:
    """Whether a job goes through Anthropic's Message Batches (its detail shows batches)."""
    return get_handler(job_type).uses_llm_batches(config)


def batches_frame(batches: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per submitted message batch: status, request counts, results staged."""
    rows = []
    for b in batches:
        counts = b.get("counts") or {}
        rows.append({"batch": b["id"], "status": b.get("status"), "requests": b["requests"],
                     **{k: counts.get(k, 0) for k in ("processing", "succeeded", "errored",
                                                       "canceled", "expired")},
                     "staged": b.get("staged", 0)})
    return pd.DataFrame(rows, columns=["batch", "status", "requests", "processing", "succeeded",
                                       "errored", "canceled", "expired", "staged"])


def cost_frame(total_items: int, config: dict[str, Any], usage: dict[str, int] | None, *,
               job_type: str = "reclassify",
               estimate_of_job: dict[str, Any] | None = None) -> pd.DataFrame:
    """Estimate beside actual: tokens, web searches and dollars. The estimate is the job's
    own when it made one (``result.costEstimate``: a sweep sizes it by the pairs it
    sends), else its type's cost profile over its items.
    """
    profile = get_handler(job_type).cost_profile(config)
    if estimate_of_job:
        estimate = cost.Cost(Usage.from_dict(estimate_of_job.get("usage")),
                             float(estimate_of_job.get("dollars", 0.0)))
    else:
        estimate = cost.estimate(total_items, profile) if profile is not None else None
    spent = cost.actual(usage)
    rows = []
    for label, attr in (("input tokens", "input_tokens"), ("output tokens", "output_tokens"),
                        ("cache reads", "cache_read_tokens"),
                        ("cache writes", "cache_write_tokens"),
                        ("web searches", "web_searches")):
        rows.append({"": label,
                     "estimate": getattr(estimate.usage, attr) if estimate else 0,
                     "actual": getattr(spent.usage, attr)})
    rows = [r for r in rows if r["estimate"] or r["actual"]]  # e.g. no web search: no row
    rows.append({"": "cost (USD)", "estimate": round(estimate.dollars, 4) if estimate else 0.0,
                 "actual": round(spent.dollars, 4)})
    return pd.DataFrame(rows)


def llm_cost_line(job_type: str, config: dict[str, Any], total: int) -> str:
    """For an LLM job of ``total`` topics: the estimated cost, as a sentence."""
    profile = get_handler(job_type).cost_profile(config)
    if profile is None:
        return ""
    estimate = cost.estimate(total, profile)
    return (f" Estimated cost through Message Batches: ${estimate.dollars:,.2f} "
            f"({estimate.usage.web_searches:,} web searches assumed).")
