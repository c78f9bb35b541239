"""Jobs: the catalogue at a glance, the job list, and demo data for an empty catalogue."""

import streamlit as st

from jobcore import runner
from jobcore.db import get_engine
from jobcore.demo import seed_demo
from jobcore.errors import JobcoreError
from jobcore.jobs import job_types
from jobcore.overview import catalogue_summary
from jobcore.schema import JOB_STATUSES
from jobcore.ui.tables import jobs_frame

st.title("Jobs")

try:
    summary = catalogue_summary()
except JobcoreError as exc:
    st.error(str(exc))
    st.stop()

if summary.is_empty:
    st.info("The catalogue is empty. Load a demo catalogue built from the IAB Audience "
            "Taxonomy and public company lists to try the jobs.")
    size = st.select_slider("Demo topics", options=[500, 2000, 5000, 10000], value=2000)
    if st.button("Load demo data", type="primary", icon=":material/dataset:"):
        with st.spinner("Loading demo catalogue..."):
            loaded = seed_demo(get_engine(), topics_count=size)
        st.success(f"Loaded {loaded.topics:,} topics, {loaded.organizations:,} organisations "
                   f"and {loaded.activations:,} activations.")
        st.rerun()
else:
    cols = st.columns(5)
    cols[0].metric("Live topics", f"{summary.live_topics:,}")
    cols[1].metric("Unclassified", f"{summary.unclassified:,}")
    cols[2].metric("Outdated", f"{summary.outdated:,}",
                   help=f"Classified by rules older than {summary.rules_version}")
    cols[3].metric("Needs review", f"{summary.needs_review:,}")
    cols[4].metric("Activations", f"{summary.activations:,}")

filters = st.columns([2, 2, 1])
job_type = filters[0].selectbox("Job type", ["all", *job_types()])
status = filters[1].selectbox("Status", ["all", *JOB_STATUSES])
limit = filters[2].number_input("Limit", min_value=1, max_value=100, value=20, step=1)

jobs = runner.list_jobs(job_type=None if job_type == "all" else job_type,
                        status=None if status == "all" else status, limit=int(limit))
if not jobs:
    st.caption("No jobs yet. Start one from the command line: "
               "`python -m jobcore reclassify-global`.")
else:
    st.dataframe(
        jobs_frame(jobs),
        hide_index=True,
        width="stretch",
        column_config={
            "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=1,
                                                        format="percent"),
            "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "started": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "completed": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        },
    )
