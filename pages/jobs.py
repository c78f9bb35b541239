"""Jobs: the catalogue at a glance, the job list (live while jobs run), a new-job form."""

from datetime import timedelta

import streamlit as st

from jobcore.catalog.demo import load_demo
from jobcore.catalog.overview import catalogue_summary, organizations
from jobcore.errors import ConfigError, JobcoreError
from jobcore.jobs import runner
from jobcore.jobs.registry import get_handler, job_types
from jobcore.schema import JOB_STATUSES
from jobcore.ui import pages
from jobcore.ui.forms import config_from_form, form_fields, form_job_types, job_type_label
from jobcore.ui.llm import llm_cost_line
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
            loaded = load_demo(topics_count=size)
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


def _with_range(spec) -> str | None:
    bounds = [f"from {spec.minimum:,}" if spec.minimum is not None else "",
              f"to {spec.maximum:,}" if spec.maximum is not None else ""]
    allowed = " ".join(b for b in bounds if b)
    return " ".join(part for part in (spec.help, f"({allowed})" if allowed else "") if part) \
        or None


def _widget(spec, errors):
    key = f"new_{spec.key}"
    if spec.kind == "bool":
        value = st.checkbox(spec.label, value=bool(spec.default), help=spec.help, key=key)
    elif spec.kind == "choice":
        options = (["(any)"] if spec.optional else []) + list(spec.choices)
        value = st.selectbox(spec.label, options, help=spec.help, key=key,
                             index=options.index(spec.default) if spec.default in options else 0)
        value = None if value == "(any)" else value
    # numbers are not bounded in the widget (which would keep the last valid value and still
    # count and create with it): the config's validation names an out-of-range one
    elif spec.kind == "float":
        value = st.number_input(spec.label, value=spec.default, step=0.005, format="%.3f",
                                help=_with_range(spec), key=key,
                                placeholder="default" if spec.optional else None)
    elif spec.kind == "int":
        value = st.number_input(spec.label, value=spec.default, step=1,
                                help=_with_range(spec), key=key,
                                placeholder="no limit" if spec.optional else None)
    else:
        value = st.text_input(spec.label, value=spec.default or "", help=spec.help, key=key)
    if spec.key in errors:
        st.error(errors[spec.key])
    return value


with st.expander("New job", icon=":material/add_circle:",
                 expanded=bool(st.session_state.get("new_job_errors"))):
    job_type = st.selectbox("Job type", form_job_types(), key="new_job_type",
                            format_func=job_type_label,
                            help="Merges start from the Dedup Clusters screen.")
    specs = form_fields(job_type)
    errors = st.session_state.get("new_job_errors", {})
    with st.form("new_job"):
        org_id = None
        if get_handler(job_type).org_scoped:
            orgs = {f"{o.name} (#{o.id})": o.id for o in organizations()}
            org_id = orgs.get(st.selectbox("Organisation", list(orgs), key="new_org"))
        values = {spec.key: _widget(spec, errors) for spec in specs}
        count = st.form_submit_button("Count items")
        create = st.form_submit_button("Create job", type="primary")
    if count or create:
        config = config_from_form(specs, values)
        try:
            if create:
                created = runner.create_job(job_type, config, org_id=org_id,
                                            created_by=pages.current_user(st.session_state))
                st.session_state["new_job_errors"] = {}
                st.session_state["created_job"] = (created.id, created.total_items)
            else:
                total = runner.count_items(job_type, config, org_id=org_id)
                st.session_state["new_job_errors"] = {}
                st.info(f"This job would process {total:,} items."
                        + llm_cost_line(job_type, config, total))
        except ConfigError as exc:
            st.session_state["new_job_errors"] = exc.problems or {"": str(exc)}
            st.rerun()
        except JobcoreError as exc:
            st.error(str(exc))
    if errors.get(""):
        st.error(errors[""])
    if "created_job" in st.session_state:
        job_id, total = st.session_state["created_job"]
        st.success(f"Created job {job_id}: {total:,} items to process. It starts when you "
                   "process its first chunk.")
        if st.button("Open job", key="open_created", type="primary"):
            del st.session_state["created_job"]
            st.switch_page(pages.JOB_DETAIL, query_params={"job": job_id})

filters = st.columns([2, 2, 1])
type_filter = filters[0].selectbox("Job type filter", ["all", *job_types()])
status_filter = filters[1].selectbox("Status", ["all", *JOB_STATUSES])
limit = filters[2].number_input("Limit", min_value=1, max_value=100, value=20, step=1)
list_args = {"job_type": None if type_filter == "all" else type_filter,
             "status": None if status_filter == "all" else status_filter, "limit": int(limit)}
any_processing = any(j.status == "processing" for j in runner.list_jobs(**list_args))


@st.fragment(run_every=timedelta(seconds=3) if any_processing else None)
def job_list() -> None:
    jobs = runner.list_jobs(**list_args)
    if not jobs:
        st.caption("No jobs match. Create one above, or from the command line: "
                   "`python -m jobcore reclassify-global`.")
        return
    frame = jobs_frame(jobs)
    paused = int((frame["status"] == "paused").sum())
    st.caption("Click a row to open its job."
               + (f" {paused} paused: processing, but no chunk has finished for a while and "
                  "nobody seems to drive them; open one and press Run to go on."
                  if paused else ""))
    picked = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun",
                          selection_mode="single-row", key="job_rows", column_config={
        "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=1,
                                                    format="percent"),
        "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
    })
    if picked.selection.rows:
        st.switch_page(pages.JOB_DETAIL,
                       query_params={"job": frame["id"].iloc[picked.selection.rows[0]]})


job_list()
