"""What the job detail shows of an LLM reclassify: phase, sub-batches, cost (pure)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from jobcore.classify import cost


def is_llm_job(job_type: str, config: dict[str, Any]) -> bool:
    """Whether a job goes through Anthropic's Message Batches (its detail shows batches)."""
    if job_type == "backfill_taxonomy_nodes":
        return True
    return job_type == "reclassify" and config.get("mode", "local") != "local" \
        and not config.get("rollbackOf")


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


def _web_search(config: dict[str, Any]) -> bool:
    """Whether the job's requests carry the web search tool (reclassify's default: on)."""
    return "mode" in config and config.get("enableWebSearch", True)


def _profile(job_type: str) -> cost.PromptProfile | None:
    if job_type == "backfill_taxonomy_nodes":
        from jobcore.jobs.node_backfill import PROMPT_PROFILE

        return PROMPT_PROFILE
    return None  # reclassify's


def cost_frame(total_items: int, config: dict[str, Any], usage: dict[str, int] | None, *,
               job_type: str = "reclassify") -> pd.DataFrame:
    """Estimate beside actual: tokens, web searches and dollars."""
    estimate = cost.estimate(total_items, web_search=_web_search(config),
                             profile=_profile(job_type))
    spent = cost.actual(usage)
    rows = []
    for label, attr in (("input tokens", "input_tokens"), ("output tokens", "output_tokens"),
                        ("cache reads", "cache_read_tokens"),
                        ("cache writes", "cache_write_tokens"),
                        ("web searches", "web_searches")):
        rows.append({"": label, "estimate": getattr(estimate.usage, attr),
                     "actual": getattr(spent.usage, attr)})
    rows.append({"": "cost (USD)", "estimate": round(estimate.dollars, 4),
                 "actual": round(spent.dollars, 4)})
    return pd.DataFrame(rows)


def llm_cost_line(job_type: str, config: dict[str, Any], total: int) -> str:
    """For an LLM reclassify of ``total`` topics: the estimated cost, as a sentence."""
    if not is_llm_job(job_type, config):
        return ""
    estimate = cost.estimate(total, web_search=_web_search(config), profile=_profile(job_type))
    return (f" Estimated cost through Message Batches: ${estimate.dollars:,.2f} "
            f"({estimate.usage.web_searches:,} web searches assumed).")
