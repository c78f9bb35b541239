"""The job detail's lower sections: an LLM job's message batches and cost, and the job's
errors (search, CSV, counts by pattern and category, retry of one group).
"""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from app_pages.parts.topic_sections import TOPIC_PAGE, topic_url
from jobcore.catalog.topic_store import error_categories
from jobcore.jobs import detail as job_detail
from jobcore.jobs import relations, runner
from jobcore.jobs.base import JobHandler
from jobcore.jobs.store import Job, JobSummary
from jobcore.llm.batch_result import BatchResult
from jobcore.llm.progress import batch_progress
from jobcore.ui.errors import (
    category_counts,
    error_groups,
    errors_csv,
    errors_frame,
    filter_errors,
    pattern_counts,
)
from jobcore.ui.forms import plural
from jobcore.ui.llm import batches_frame, cost_frame

# creates the retry of one group of a job's errors: (job, group label, its topic ids)
RetryGroup = Callable[[JobSummary, str, list[int]], None]


def batches_panel(job_id: str, handler: JobHandler) -> None:
    """An LLM job's message batches and cost, followed like the live panel."""
    job = runner.get_job(job_id, with_errors=False, full_result=False)
    progress = batch_progress(job)
    st.subheader(f"Message batches · phase: {progress.phase}")
    late = handler.cost_estimated_late  # a sweep: once it knows the pairs it sends
    waiting = (f" {progress.staged:,} results staged, waiting for post-processing."
               if progress.staged else "")
    st.caption(handler.batches_caption(job, progress.submitted) + waiting)
    st.dataframe(batches_frame(progress.batches), hide_index=True, width="stretch")
    if late and BatchResult.of(job.result).cost_estimate is None:
        st.caption("Cost: estimated once the sweep has found the pairs it sends (Count items "
                   "on the Jobs page estimates it before a sweep).")
        return
    st.caption("Cost: the estimate made once the sweep had found the pairs it sends, beside "
               "the actual usage of the answers so far" if late else
               "Cost: estimate before the start beside the actual usage of the results so far")
    spent = BatchResult.of(job.result)
    st.dataframe(cost_frame(job.total_items, job.config, spent.usage,
                            job_type=job.job_type,
                            estimate_of_job=spent.cost_estimate),
                 hide_index=True, width="stretch")


def _retry_a_group(job: Job, frame: pd.DataFrame, retry_group: RetryGroup) -> None:
    """Retry only one message pattern's or parent category's topics."""
    retry = relations.follow_up(job, "retry")
    if retry is None or retry.refusal(job, job_detail.related_jobs(job)[1]) is not None:
        return  # not offered now (a rollback's errors, a retry pending): the server agrees
    by_group = error_groups(frame)
    pick = st.columns([4, 1], vertical_alignment="bottom")
    group = pick[0].selectbox(
        "Retry a group", list(by_group), key="retry_group",
        format_func=lambda g: f"{g} ({plural(len(by_group[g]), 'topic')})",
        help="Only the topics of one message pattern or one parent category, in a new "
             "job with the same mode (Retry errors takes them all)")
    if group is not None and pick[1].button("Retry this group", icon=":material/replay:"):
        retry_group(job, group, by_group[group])


def errors_section(job_id: str, handler: JobHandler, *,
                   retry_group: RetryGroup | None) -> None:
    """The job's errors: search, CSV, counts by pattern and by parent category."""
    job = runner.get_job(job_id, full_result=False)  # errors; not a sweep's clusters
    st.subheader(f"Errors ({len(job.errors):,})")
    if not job.errors:
        st.caption("No errors.")
        return
    if (note := job_detail.errors_note(job)) is not None:
        st.caption(note)
    item_kind = handler.item_kind
    frame = errors_frame(job.errors, error_categories(job.errors),
                         item_kind=item_kind)
    search = st.text_input("Search errors", placeholder="id, name, message or category")
    shown = filter_errors(frame, search)
    if search.strip():
        st.caption(f"{len(shown):,} of {len(frame):,} errors shown")
    topic_column = "id" if item_kind == "topic" else "topic id"
    st.dataframe(shown.assign(topic=[None if pd.isna(i) else topic_url(int(i))
                                     for i in shown[topic_column]]),
                 hide_index=True, width="stretch", column_config={"topic": TOPIC_PAGE})
    st.download_button("Export CSV", errors_csv(shown), file_name=f"{job_id}_errors.csv",
                       mime="text/csv", icon=":material/download:")
    groups = st.columns(2)
    groups[0].caption("By message pattern")
    groups[0].dataframe(pattern_counts(shown), hide_index=True, width="stretch")
    groups[1].caption("By parent category")
    groups[1].dataframe(category_counts(shown), hide_index=True, width="stretch")
    if retry_group is not None and job.is_finished:
        _retry_a_group(job, frame, retry_group)


