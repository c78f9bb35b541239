"""Jobs: the catalogue at a glance, the job list (live while jobs run), a new-job form."""

from datetime import timedelta

import streamlit as st

from app_pages.parts import messages
from app_pages.parts.job_filters import list_filters
from jobcore import bulk
from jobcore.access import can
from jobcore.catalog.demo import load_demo
from jobcore.catalog.overview import catalogue_summary, organizations
from jobcore.errors import ConfigError, JobcoreError
from jobcore.jobs import retention, runner, supervision
from jobcore.jobs.registry import get_handler
from jobcore.ui import pages
from jobcore.ui.forms import (
    config_from_form,
    form_fields,
    form_job_types,
    form_problems,
    job_type_label,
    plural,
    whole_number,
)
from jobcore.ui.llm import is_llm_job, llm_cost_line
from jobcore.ui.markdown import escape_markdown
from jobcore.ui.tables import ROW_CLICK, clicked_row, jobs_frame


def catalogue_header() -> None:
    """The catalogue at a glance, or (when it is empty) the offer of the demo catalogue."""
    try:
        summary = catalogue_summary()
    except JobcoreError as exc:
        messages.error(exc)
        st.stop()

    if summary.is_empty:
        st.info("The catalogue is empty. Load a demo catalogue built from the IAB Audience "
                "Taxonomy and public company lists to try the jobs.")
        size = st.select_slider("Demo topics", options=[500, 2000, 5000, 10000], value=2000)
        if st.button("Load demo data", type="primary", icon=":material/dataset:",
                     disabled=not can("seed_demo"), help=None if can("seed_demo") else
                     "Loading the demo catalogue needs the operator role"):
            with st.spinner("Loading demo catalogue..."):
                loaded = load_demo(topics_count=size)
            # shown after the rerun that brings up the loaded catalogue
            st.session_state["demo_loaded"] = (
                f"Loaded {plural(loaded.topics, 'topic')}, "
                f"{plural(loaded.organizations, 'organisation')} and "
                f"{plural(loaded.activations, 'activation')}.")
            st.rerun()
    else:
        if loaded_message := st.session_state.pop("demo_loaded", None):
            st.success(loaded_message, icon=":material/check_circle:")
        cols = st.columns(5)
        cols[0].metric("Live topics", f"{summary.live_topics:,}")
        cols[1].metric("Unclassified", f"{summary.unclassified:,}")
        cols[2].metric("Outdated", f"{summary.outdated:,}",
                       help=f"Classified by rules older than {summary.rules_version}")
        cols[3].metric("Needs review", f"{summary.needs_review:,}")
        cols[4].metric("Activations", f"{summary.activations:,}")


st.title("Jobs")

catalogue_header()


def _with_range(spec) -> str | None:
    bounds = [f"from {spec.minimum:,}" if spec.minimum is not None else "",
              f"to {spec.maximum:,}" if spec.maximum is not None else ""]
    allowed = " ".join(b for b in bounds if b)
    return " ".join(part for part in (spec.help, f"({allowed})" if allowed else "") if part) \
        or None


def _widget(spec):
    key = f"new_{spec.key}"
    if spec.kind == "bool":
        return st.checkbox(spec.label, value=bool(spec.default), help=spec.help, key=key)
    if spec.kind == "choice":
        options = (["(any)"] if spec.optional else []) + list(spec.choices)
        value = st.selectbox(spec.label, options, help=spec.help, key=key,
                             index=options.index(spec.default) if spec.default in options else 0)
        return None if value == "(any)" else value
    # numbers are not bounded in the widget (which would keep the last valid value and still
    # count and create with it): the config's validation names an out-of-range one
    if spec.kind == "int":  # typed as text: a number widget turned '2.5' into 2, '1e10' into 1
        typed = st.text_input(spec.label, value="" if spec.default is None else
                              str(spec.default), help=_with_range(spec), key=key,
                              placeholder="no limit" if spec.optional else "a whole number")
        return whole_number(typed)
    if spec.kind == "float":
        return st.number_input(spec.label, value=spec.default, step=0.005, format="%.3f",
                               help=_with_range(spec), key=key,
                               placeholder="default" if spec.optional else None)
    return st.text_input(spec.label, value=spec.default or "", help=spec.help, key=key)


def _outcome_for(request: tuple) -> dict | None:
    """What the last Count or Create said, while the form still asks for the same job (a
    message about other values would linger under fields that no longer hold them).
    """
    outcome = st.session_state.get("new_job_outcome")
    return outcome if outcome and outcome["request"] == request else None


def _count_or_create(request: tuple, *, create: bool, confirmed_empty: bool = False) -> None:
    job_type, org_id, config = request[0], request[1], dict(request[2])
    outcome: dict = {"request": request}
    st.session_state.pop("created_job", None)
    try:
        if create:
            if not confirmed_empty and runner.count_items(job_type, config, org_id=org_id) == 0:
                outcome["empty"] = True  # ask before creating a job with nothing to do
            else:
                created = runner.create_job(job_type, config, org_id=org_id,
                                            created_by=pages.current_user(st.session_state))
                st.session_state["created_job"] = (created.id, created.total_items, request)
                outcome = {"request": None}
        else:
            outcome["count"] = runner.count_items(job_type, config, org_id=org_id)
            if is_llm_job(job_type, config):
                with st.spinner("Estimating the cost ..."):
                    line = runner.cost_preview(job_type, config, outcome["count"],
                                               org_id=org_id)
                outcome["cost"] = (llm_cost_line(job_type, config, outcome["count"])
                                   if line is None else line)
    except ConfigError as exc:
        outcome["problems"] = exc.problems or {"": str(exc)}
    except JobcoreError as exc:
        outcome["problems"] = {"": str(exc)}
    st.session_state["new_job_outcome"] = outcome


def new_job_form() -> None:
    """Job type, its fields (only those the chosen mode uses), Count and Create; each
    field's problem beside it, and Count and Create blocked while there is one.
    """
    job_type = st.selectbox("Job type", form_job_types(), key="new_job_type",
                            format_func=job_type_label,
                            help="Merges start from the Dedup Clusters screen.")
    org_id = None
    if get_handler(job_type).org_scoped:
        orgs = {f"{o.name} (#{o.id})": o.id for o in organizations()}
        org_id = orgs.get(st.selectbox("Organisation", list(orgs), key="new_org"))
    values: dict = {}
    slots = {}
    specs = form_fields(job_type)
    for spec in specs:
        if spec.applies(values):  # e.g. the LLM fields only for an LLM mode
            values[spec.key] = _widget(spec)
            slots[spec.key] = st.empty()
    config = config_from_form(specs, values)
    request = (job_type, org_id, tuple(sorted(config.items())))
    problems = form_problems(job_type, config)
    buttons = st.container(horizontal=True)
    # not callbacks: a click runs with the values of this run (a field edited just before
    # the click counts), not those of the run that drew the button
    if buttons.button("Count items", key="count_items", disabled=bool(problems)):
        _count_or_create(request, create=False)
    if buttons.button("Create job", key="create_job", type="primary",
                      disabled=bool(problems) or not can("create"),
                      help=None if can("create") else "Creating jobs needs the operator role"):
        _count_or_create(request, create=True)
    _show_outcome(request, job_type, problems, slots)


def _show_outcome(request: tuple, job_type: str, problems: dict, slots: dict) -> None:
    """Each problem beside its field, the count, and the job once created."""
    outcome = _outcome_for(request) or {}
    for key, message in {**outcome.get("problems", {}), **problems}.items():
        if key in slots:  # beside its field, which names it already
            messages.error(message.split(f"{key}: ", 1)[-1], where=slots[key])
        else:
            messages.error(message)
    if "count" in outcome:
        st.info(f"This job would process {plural(outcome['count'], 'item')}."
                + outcome.get("cost", ""))
    if outcome.get("empty"):
        hint = get_handler(job_type).empty_hint
        hint = f" {hint}" if hint else ""
        st.warning(f"This job would process no items: nothing matches these settings.{hint} "
                   "Create it anyway?")
        if st.button("Create the empty job", key="create_empty"):
            _count_or_create(request, create=True, confirmed_empty=True)
            st.rerun()
    if st.session_state.get("created_job", (None, 0, None))[2] == request:  # not once edited
        job_id, total, _ = st.session_state["created_job"]
        st.success(f"Created job {job_id}: {plural(total, 'item')} to process. It starts "
                   "when you press Run (or Process next chunk) on its page.")
        if st.button("Open job", key="open_created", type="primary"):
            del st.session_state["created_job"]
            st.switch_page(pages.JOB_DETAIL, query_params={"job": job_id})


# a key keeps the expander open across reruns (its own state, not a parameter that changes)
with st.expander("New job", icon=":material/add_circle:", key="new_job_open",
                 on_change="rerun"):
    new_job_form()

filters = list_filters()
job_filter, list_args = filters.job_filter, filters.list_args
status_filter = job_filter.status


def _plan(action: str) -> None:
    st.session_state.pop("bulk_result", None)
    try:
        st.session_state["bulk_plan"] = (filters.choices, bulk.plan(action, job_filter))
    except JobcoreError as exc:
        st.session_state["bulk_plan"] = None
        st.session_state["bulk_problem"] = str(exc)


def _apply(planned: bulk.BulkPlan) -> None:
    bar = st.progress(0.0, text=f"0 of {len(planned.job_ids):,} jobs")

    def advance(n: int) -> None:
        bar.progress(n / len(planned.job_ids), text=f"{n:,} of {len(planned.job_ids):,} jobs")

    st.session_state["bulk_result"] = bulk.apply(
        planned, by=pages.current_user(st.session_state), on_job=advance)
    st.session_state.pop("bulk_plan", None)
    st.rerun()


def bulk_actions() -> None:
    """Cancel, or retry the errors of, every job the filters match: a count and the
    reasons some would be refused first, then a confirmation, then what was done.
    """
    row = st.container(horizontal=True)
    if row.button("Cancel all matching...", icon=":material/cancel:", key="bulk_cancel",
                  help="Every pending or processing job the filters above match (not only "
                       "those listed); you confirm the count first"):
        _plan(bulk.CANCEL)
    if row.button("Retry errors of all matching...", icon=":material/replay:",
                  key="bulk_retry", help="A retry job for each finished job the filters "
                                         "match that has errors; you confirm the count first"):
        _plan(bulk.RETRY_ERRORS)
    if problem := st.session_state.pop("bulk_problem", None):
        messages.error(problem)
    choices, planned = st.session_state.get("bulk_plan") or (None, None)
    if planned is not None and choices != filters.choices:
        st.session_state.pop("bulk_plan")  # counted under other filters: count again
        st.info("The filters changed since the count: press the action again to count the "
                "jobs they match now.")
        planned = None
    if planned is not None:
        _confirmation(planned)
    if (result := st.session_state.get("bulk_result")) is not None:
        _outcome(result)


def _confirmation(planned: bulk.BulkPlan) -> None:
    refused = "".join(f"\n- {count:,} {'is' if count == 1 else 'are'} left out: "
                      f"{escape_markdown(reason)}" for reason, count in planned.reasons())
    matching = escape_markdown(planned.count())
    if not planned.job_ids:
        st.info(f"{matching} None of them can be taken:{refused}" if planned.matching
                else f"{matching} Nothing to do.")
        if st.button("Close", key="bulk_close"):
            st.session_state.pop("bulk_plan")
            st.rerun()
        return
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(planned.question())}**  \n{matching}{refused}")
        with st.expander(f"The {plural(len(planned.job_ids), 'job')}"):
            st.dataframe({"job": list(planned.job_ids)}, hide_index=True, height=200)
        buttons = st.container(horizontal=True)
        verb = "Cancel" if planned.action == bulk.CANCEL else "Retry the errors of"
        if buttons.button(f"{verb} {plural(len(planned.job_ids), 'job')}", type="primary",
                          key="bulk_confirm"):
            _apply(planned)
        if buttons.button("Back", key="bulk_back"):
            st.session_state.pop("bulk_plan")
            st.rerun()


def _outcome(result: bulk.BulkResult) -> None:
    (st.warning if result.refused else st.success)(escape_markdown(result.summary()))
    if result.action == bulk.RETRY_ERRORS and result.succeeded:
        st.dataframe({"job": [d.job_id for d in result.succeeded],
                      "retry job": [d.created for d in result.succeeded]}, hide_index=True,
                     height=min(400, 38 + 35 * len(result.succeeded)))
    if result.refused:
        st.dataframe({"job": [r.job_id for r in result.refused],
                      "refused because": [r.reason for r in result.refused]},
                     hide_index=True, width="stretch",
                     height=min(400, 38 + 35 * len(result.refused)))
    if st.button("Done", key="bulk_done"):
        st.session_state.pop("bulk_result")
        st.rerun()


if can("bulk"):  # admins only: the buttons are not shown to others (the server refuses too)
    bulk_actions()
# the list follows what others do: every 3 s while a listed job may still move (pending
# ones too: the command line or a worker may be driving them), else every 15 s (new jobs)
any_unfinished = any(not j.is_finished for j in runner.list_jobs(**list_args))


@st.fragment(run_every=timedelta(seconds=3 if any_unfinished else 15))
def job_list() -> None:
    jobs = runner.list_jobs(**list_args)
    if not jobs:
        st.caption("No jobs match these filters." if job_filter.describe() else
                   "No jobs yet. Create one above, or from the command line: "
                   "`python -m jobcore reclassify-global`.")
        return
    in_flight = supervision.chunks_in_flight([j.id for j in jobs if j.status == "processing"])
    frame = jobs_frame(jobs, in_flight=in_flight)
    if status_filter == "paused":  # one whose chunk started since the query is not
        frame = frame[frame["status"] == "paused"].reset_index(drop=True)
        if frame.empty:
            st.caption("No paused jobs.")
            return
    paused = int((frame["status"] == "paused").sum())
    st.caption("Click a row to open its job."
               + (f" {paused} paused: processing, but no chunk has finished for a while and "
                  "nobody seems to drive them; open one and press Run to go on."
                  if paused else ""))
    # widths that fit 1,400 px without sideways scrolling
    numbers = {name: st.column_config.NumberColumn(width=width, format="localized")
               for name, width in (("processed", 74), ("total", 58), ("errors", 58))}
    picked = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun",
                          selection_mode=ROW_CLICK, key="job_rows", column_config={
        "id": st.column_config.TextColumn(width=196),
        "type": st.column_config.TextColumn(width=115),
        "status": st.column_config.TextColumn(width=78),
        "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=1,
                                                    format="percent", width=78),
        **numbers,
        "created by": st.column_config.TextColumn(width=92),
        "created": st.column_config.DatetimeColumn(format="MM-DD HH:mm", width=85),
        "elapsed": st.column_config.TextColumn(width=62),
    })
    if (row := clicked_row(picked.selection)) is not None:
        st.switch_page(pages.JOB_DETAIL, query_params={"job": frame["id"].iloc[row]})


job_list()
st.caption(f":material/auto_delete: {retention.Policy.from_settings().describe()} "
           "(CHUNK_LOG_RETENTION_DAYS and JOB_RETENTION_DAYS; `python -m jobcore prune` and "
           "the workers apply them.)")
