"""Activation hygiene: an organisation's stale segments, per platform, and a one-click
refresh that shows its progress; credentials shown only as present or absent."""

import streamlit as st

from jobcore.activations.stale import stale_report
from jobcore.catalog.overview import organizations
from jobcore.errors import JobcoreError
from jobcore.jobs import runner
from jobcore.ui import pages
from jobcore.ui.hygiene import stale_frame

PLATFORM_NAMES = {"liveramp": "LiveRamp", "the_trade_desk": "The Trade Desk"}

st.title("Activation hygiene")
orgs = organizations()
if not orgs:
    st.info("No organisations yet. Load the demo catalogue on the Jobs page.")
    st.stop()
labels = {f"{o.name} ({o.stale_activations:,} stale)": o.id for o in orgs}
org_id = labels[st.selectbox("Organisation", list(labels))]

report = stale_report(org_id)
present, counts = report.credentials, report.by_platform
cols = st.columns(4)
for i, (platform, name) in enumerate(PLATFORM_NAMES.items()):
    cols[i].metric(f"Stale on {name}", f"{counts.get(platform, 0):,}")
    cols[i + 2].metric(f"{name} credentials", "present" if present[platform] else "absent")

frame = stale_frame(report)
if frame.empty:
    st.success("Every segment of this organisation matches its topic.")
    st.stop()
st.dataframe(frame, hide_index=True, width="stretch")

if st.button("Refresh All Stale", type="primary", icon=":material/sync:"):
    try:
        created = runner.create_job("refresh_activations", {}, org_id=org_id,
                                    created_by=pages.current_user(st.session_state))
    except JobcoreError as exc:
        st.error(str(exc))
        st.stop()
    bar = st.progress(0.0, text=f"Job {created.id}: 0 of {created.total_items:,}")
    report = None
    while report is None or not report.done:
        report = runner.process_chunk(created.id)
        share = report.processed_items / max(report.total_items, 1)
        bar.progress(min(share, 1.0), text=f"Job {created.id}: {report.processed_items:,} of "
                                           f"{report.total_items:,}, {report.error_count:,} errors")
    (st.success if report.error_count == 0 else st.warning)(
        f"Job {created.id} {report.status}: {report.success_count:,} refreshed, "
        f"{report.error_count:,} errors.")
    st.page_link(pages.JOB_DETAIL, label=f"Open job {created.id}",
                 query_params={"job": created.id}, icon=":material/open_in_new:")
