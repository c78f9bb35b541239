"""The job detail's figures and notes: counters with rate and ETA, why it failed or left
items alone, retention's note, its times and its events.
"""

import streamlit as st

from app_pages.parts import messages
from jobcore.jobs import retention
from jobcore.jobs.store import JobEvent, JobSummary
from jobcore.ui.charts import Throughput
from jobcore.ui.forms import plural
from jobcore.ui.tables import format_duration


def metrics(job: JobSummary, rate: Throughput, *, live: bool, resting: bool) -> None:
    """Processed, success, errors, skipped, and the rate and ETA of a run happening now."""
    cols = st.columns(6)
    cols[0].metric("Processed", f"{job.processed_items:,}", help=f"of {job.total_items:,}")
    cols[1].metric("Success", f"{job.success_count:,}")
    cols[2].metric("Errors", f"{job.error_count:,}")
    cols[3].metric("Skipped", f"{job.skip_count:,}",
                   help="Items the job looked at and left as they were: already as it would "
                        "make them (a reclassify whose rules give the same classification), "
                        "or with nothing to do")
    cols[4].metric("Items/s", f"{rate.items_per_second:,.0f}"
                   if rate.items_per_second and live and not resting else "–")
    cols[5].metric("ETA", "waiting" if resting else format_duration(rate.eta) if live else "–",
                   help="Anthropic is still processing the message batches: it cannot say "
                        "when they end (at most 24 hours)" if resting else None)


def notes(job: JobSummary) -> None:
    """Why it failed, a refused action, planned items left alone."""
    if job.failure_message:
        messages.error(f"Failed: {job.failure_message}")
    if problem := st.session_state.pop("job_detail_problem", None):
        messages.error(problem)
    if job.status == "completed" and job.processed_items < job.total_items:
        st.info(f"{job.total_items - job.processed_items:,} of the {job.total_items:,} "
                "planned items were not processed: another job or an edit changed them (or "
                "they were deleted or merged) after this job was planned, so they were left "
                "as they are.")


def history(job: JobSummary, events: list[JobEvent]) -> None:
    """Retention's note, the job's times and its events."""
    if job.log_pruned_at:
        staged = (f" and {plural(job.staged_pruned, 'staged LLM result')} (so it cannot be "
                  "resumed)" if job.staged_pruned else "")
        policy = retention.Policy.from_settings().describe()
        st.caption(f":material/auto_delete: Retention removed this job's chunk log{staged} "
                   f"on {job.log_pruned_at:%Y-%m-%d}: {policy} Its counts, errors and "
                   "history stay.")
    ended = job.status if job.status in ("completed", "cancelled", "failed") else "ended"
    times = {"created": job.created_at, "started": job.started_at,
             ended: job.completed_at, "last progress": job.last_progress_at}
    st.caption(" · ".join(f"{k} {v:%Y-%m-%d %H:%M:%S}" for k, v in times.items() if v))
    if events:
        with st.expander(f"History ({len(events)} event{'s' if len(events) != 1 else ''})"):
            for event in events:
                who = f" by {event.created_by}" if event.created_by else ""
                st.text(f"{event.created_at:%Y-%m-%d %H:%M:%S}  {event.kind}{who}"
                        + (f": {event.message}" if event.message else ""))


