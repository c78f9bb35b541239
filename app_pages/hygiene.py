"""Activation hygiene: an organisation's stale segments, per platform, and a one-click
refresh that shows its progress; credentials shown only as present or absent, and a
refresh that could push nothing is refused before the click, with the reason.
"""

import streamlit as st

from app_pages.parts import messages
from jobcore.activations.platforms.base import PLATFORM_NAMES
from jobcore.activations.stale import stale_report
from jobcore.catalog.overview import organizations
from jobcore.errors import JobcoreError
from jobcore.jobs import runner
from jobcore.jobs.drive import drive
from jobcore.ui import pages
from jobcore.ui.errors import errors_frame, pattern_counts
from jobcore.ui.forms import plural
from jobcore.ui.hygiene import refresh_readiness, stale_frame


def refresh_all_stale(org_id: int) -> None:
    """Create the refresh job and drive it here with a progress bar; say what it did."""
    user = pages.current_user(st.session_state)
    try:
        created = runner.create_job("refresh_activations", {}, org_id=org_id, created_by=user)
    except JobcoreError as exc:
        messages.error(exc)
        st.stop()
    bar = st.progress(0.0, text=f"Job {created.id}: 0 of {created.total_items:,}")

    def show(chunk: runner.ChunkReport) -> None:
        share = chunk.processed_items / max(chunk.total_items, 1)
        bar.progress(min(share, 1.0), text=f"Job {created.id}: {chunk.processed_items:,} of "
                                           f"{chunk.total_items:,}, "
                                           f"{plural(chunk.error_count, 'error')}")

    chunk = drive(created.id, driven_by=user, on_chunk=show)
    done = (f"{chunk.success_count:,} refreshed, {plural(chunk.error_count, 'error')}")
    if chunk.status == "failed":  # the job stopped: why, not a green "0 refreshed"
        reason = chunk.failure_message or "no reason recorded"
        messages.error(f"Job {created.id} failed: {reason} ({done} before it stopped).")
    else:
        (st.success if chunk.error_count == 0 and chunk.status == "completed" else st.warning)(
            f"Job {created.id} {chunk.status}: {done}.")
    if chunk.error_count:  # why, here, without opening the job
        errors = runner.job_errors(created.id)
        st.caption("Why they failed")
        st.dataframe(pattern_counts(errors_frame(errors, {}, item_kind="activation")),
                     hide_index=True, width="stretch")
    st.page_link(pages.JOB_DETAIL, label=f"Open job {created.id}",
                 query_params={"job": created.id}, icon=":material/open_in_new:")


st.title("Activation hygiene")
orgs = organizations()
if not orgs:
    st.info("No organisations yet. Load the demo catalogue on the Jobs page.")
    st.stop()
labels = {f"{o.name} ({o.stale_activations:,} stale)": o for o in orgs}
org = labels[st.selectbox("Organisation", list(labels))]

report = stale_report(org.id)
present, counts = report.credentials, report.by_platform
cols = st.columns(4)
for i, (platform, name) in enumerate(PLATFORM_NAMES.items()):
    cols[i].metric(f"Stale on {name}", f"{counts.get(platform, 0):,}")
    cols[i + 2].metric(f"{name} credentials", "present" if present[platform] else "absent")

frame = stale_frame(report)
if frame.empty:
    st.success(f"Every segment of {org.name} matches its topic.")
    st.stop()
st.caption(f"{plural(sum(counts.values()), 'stale segment')} of {org.name}: what was pushed "
           "beside what the topic is now" + (" (the first 1,000)" if len(frame) >= 1000 else ""))
# widths that fit 1,400 px without sideways scrolling; a long name shows whole on hover
st.dataframe(frame, hide_index=True, width="stretch", column_config={
    "activation": st.column_config.NumberColumn(width=75),
    "platform": st.column_config.TextColumn(width=105),
    "topic": st.column_config.NumberColumn(width=60, help="the topic's id"),
    "pushed name": st.column_config.TextColumn(width=215),
    "current name": st.column_config.TextColumn(width=215),
    "changed": st.column_config.TextColumn(width=115, help="what differs from what was pushed"),
    "last pushed": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm", width=125),
})

readiness = refresh_readiness(report, org.name)
if readiness.blocked:
    st.warning(readiness.blocked, icon=":material/key_off:")
elif readiness.warning:
    st.warning(readiness.warning, icon=":material/key_off:")
if st.button("Refresh All Stale", type="primary", icon=":material/sync:",
             disabled=readiness.blocked is not None, help=readiness.blocked):
    refresh_all_stale(org.id)
