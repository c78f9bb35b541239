"""Job detail: status, progress charts, one-chunk stepping, Run/Stop, cancel, rollback,
retry, and the job's errors with search, grouped counts and CSV export."""

import time
from datetime import UTC, datetime, timedelta

import streamlit as st
from streamlit.errors import StreamlitAPIException

from jobcore.access import can
from jobcore.catalog.topic_store import error_categories, topic_names
from jobcore.classify import recovery
from jobcore.config import get_settings
from jobcore.dedup import undo
from jobcore.errors import JobBusy, JobcoreError, JobPruned
from jobcore.jobs import retention, runner
from jobcore.jobs.registry import get_handler
from jobcore.llm.progress import batch_progress
from jobcore.ui import actions as act
from jobcore.ui import pages
from jobcore.ui.charts import (
    chunks_figure,
    is_paused,
    progress_figure,
    throughput,
)
from jobcore.ui.dedup import merged_clusters_frame
from jobcore.ui.errors import (
    category_counts,
    error_groups,
    errors_csv,
    errors_frame,
    filter_errors,
    pattern_counts,
)
from jobcore.ui.forms import plural
from jobcore.ui.llm import batches_frame, cost_frame, is_llm_job, verification_caption
from jobcore.ui.slices import run_slice
from jobcore.ui.tables import format_duration, job_kind

STATUS_ICONS = {"pending": ":material/schedule:", "processing": ":material/sync:",
                "completed": ":material/check_circle:", "failed": ":material/error:",
                "cancelled": ":material/cancel:"}

running: set[str] = st.session_state.setdefault("running_jobs", set())
# jobs this tab runs whose message batches were still processing at the last poll, with its
# time: the next poll waits POLL_SECONDS (not one request after another)
polled_at: dict[str, float] = st.session_state.setdefault("polled_jobs", {})
POLL_SECONDS = 10.0
# a background job a worker advanced within this is being driven (a worker polls an LLM
# job's batches every 30 s, and several jobs share a worker)
WORKER_WINDOW = timedelta(minutes=2)
# jobs this tab stopped (or stepped once), with their chunk count then: paused at once, until
# somebody else's chunk moves the count on
stopped_here: dict[str, int] = st.session_state.setdefault("stopped_jobs", {})

recent = [j.id for j in runner.list_jobs(limit=100)]
job_id = st.query_params.get("job")
if job_id is None:
    if not recent:
        st.title("Job detail")
        st.info("No jobs yet: create one on the Jobs page.")
        st.stop()
    job_id = st.selectbox("Job", recent)
st.query_params["job"] = job_id  # the address follows the job shown (a link to another job)
try:
    header = runner.get_job_summary(job_id)
except JobcoreError as exc:
    st.title("Job detail")
    # a job retention removed is not an error of the address: say what became of it
    (st.warning if isinstance(exc, JobPruned) else st.error)(str(exc))
    st.page_link(pages.JOBS, label="Back to the jobs", icon=":material/arrow_back:")
    st.stop()

came_from, came_of = runner.related_jobs(header)
handler_of_job = get_handler(header.job_type)
kind = job_kind(header)
st.title(f"{kind} · {job_id}")
# a rollback, retry or undo reads as what it is (the title); its type's description would not
about = (f"{handler_of_job.label}: {handler_of_job.description} "
         if kind == handler_of_job.label else "")
st.caption(f"{about}Created by {header.created_by} at "
           f"{header.created_at:%Y-%m-%d %H:%M:%S} UTC.")
followed = header.status in ("pending", "processing")  # the job may still move


def links_row() -> None:
    """Links to the sweep's clusters (their count followed live) and related jobs."""
    links = st.container(horizontal=True, vertical_alignment="center")
    if header.job_type == "dedup_sweep":
        found = runner.get_job(job_id, with_errors=False, full_result=False).result
        waiting = (found.get("verification") or {}).get("pairs", 0) - sum(
            (found.get("verification") or {}).get(k, 0)
            for k in ("same", "different", "failed", "gone"))
        links.page_link(pages.DEDUP, icon=":material/join:", query_params={"job": job_id},
                        label=f"Review its {found.get('clusterCount', 0):,} clusters "
                              f"({found.get('duplicateCount', 0):,} duplicates proposed"
                              + (f"; {waiting:,} pairs waiting for Claude" if waiting > 0
                                 else "") + ")")
    for related, prefix in [*((r, "From:") for r in came_from),
                            *((r, "Then:") for r in came_of)]:
        other = related.job
        label = f"{prefix} {related.relation} {other.id} ({other.status})"
        links.page_link(pages.JOB_DETAIL, label=label, query_params={"job": other.id},
                        icon=":material/link:")


if came_from or came_of or header.job_type == "dedup_sweep":
    st.fragment(links_row, run_every=timedelta(seconds=3)
                if followed and header.job_type == "dedup_sweep" else None)()


def _rerun_panel() -> None:
    """Rerun only the live panel when it is running as a fragment, else the page."""
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:  # a full-page run: fragment scope is not available
        st.rerun()


def _open(other_id: str) -> None:
    running.discard(job_id)
    st.query_params["job"] = other_id
    st.rerun()


def _buttons(job, state: str) -> None:
    if not can("process"):  # a viewer: every job action is an operator's (the server agrees)
        st.caption("Read-only: running, stopping, cancelling, rolling back and retrying jobs "
                   "need the operator role.")
        return
    offered = act.available_actions(
        job, running=job_id in running, rollback_id=recovery.find_rollback(job_id),
        undo_id=undo.find_merge_undo(job_id)
        if act.UNDO_MERGE in get_handler(job.job_type).follow_ups else None)
    # one row, each button as wide as its label (columns cut 'Process next chunk' short)
    bar = st.container(horizontal=True)
    if job.background and not job.is_finished:  # the workers drive it: Take over, Cancel
        offered = [a for a in offered if a not in (act.PROCESS, act.RUN, act.STOP)]
        if bar.button("Take over", icon=":material/back_hand:",
                      help="Take the job back from the workers: this page (Run) drives it "
                           "from its next chunk; a worker's chunk in flight still commits"):
            _hand_over(runner.take_over)
    # a chunk open elsewhere: certainly driven there (between two chunks of another driver
    # the page cannot tell whether that driver goes on, so Run stays offered)
    _chunk_buttons(offered, bar, elsewhere=state == "in flight")
    if act.RUN in offered and not job.background and bar.button(
            "Run in background", icon=":material/cloud_upload:",
            help="Hand the job to the workers (python -m jobcore worker): it goes on when "
                 "this tab closes"):
        running.discard(job_id)
        _hand_over(runner.run_in_background)
    _follow_up_buttons(offered, bar)


def _hand_over(change) -> None:
    """Run in background or Take over (``change``); a chunk in flight may refuse it."""
    try:
        change(job_id, by=pages.current_user(st.session_state))
    except JobcoreError as exc:
        st.session_state["job_detail_problem"] = str(exc)
    st.rerun()


_ELSEWHERE = "Another tab or process is driving this job; this page follows it."


def _chunk_buttons(offered: list[str], bar, *, elsewhere: bool = False) -> None:
    """Process next chunk, Run / Stop, Cancel (no driving while another driver runs it)."""
    if act.PROCESS in offered and bar.button("Process next chunk", icon=":material/skip_next:",
                                             disabled=elsewhere,
                                             help=_ELSEWHERE if elsewhere else None):
        _step(seconds=0.0)
        _note_stopped()  # driven here one chunk, and no further
        st.rerun()
    if act.RUN in offered and bar.button("Run", type="primary", icon=":material/play_arrow:",
                                         disabled=elsewhere,
                                         help=_ELSEWHERE if elsewhere else None):
        running.add(job_id)
        stopped_here.pop(job_id, None)
        _rerun_panel()
    # Stop and Cancel act in their callbacks, which run before the rerun they cause: a
    # rerun of a running panel would otherwise process one more chunk first.
    if act.STOP in offered:
        bar.button("Stop", icon=":material/pause:", on_click=_stop)
    if act.CANCEL in offered:
        with bar.popover("Cancel", icon=":material/cancel:"):
            st.write("Stop this job for good: what its chunks did is kept, nothing more is "
                     "processed, and it cannot be resumed."
                     + (" Its message batches at Anthropic are cancelled too; what they "
                        "already answered is paid for and kept."
                        if is_llm_job(header.job_type, header.config) else ""))
            st.button("Cancel the job", type="primary", on_click=_cancel)
    if act.RESUME in offered and bar.button(
            "Resume", type="primary", icon=":material/restart_alt:",
            help="Back to processing from where the failed chunk rolled back; what the "
                 "earlier chunks did is kept"):
        try:
            runner.resume_job(job_id, created_by=pages.current_user(st.session_state))
        except JobcoreError as exc:
            st.error(str(exc))
        else:
            st.rerun()


def _note_stopped() -> None:
    stopped_here[job_id] = runner.get_job_summary(job_id).chunk_count


def _stop() -> None:
    running.discard(job_id)
    _note_stopped()


def _cancel() -> None:
    running.discard(job_id)
    try:
        runner.cancel_job(job_id, by=pages.current_user(st.session_state))
    except JobcoreError as exc:
        st.session_state["job_detail_problem"] = str(exc)


def _create_and_open(create) -> None:
    """Create a follow-up job (``create(created_by)``) and open it; an error is shown."""
    try:
        created = create(pages.current_user(st.session_state))
    except JobcoreError as exc:
        st.error(str(exc))
    else:
        _open(created.id)


def _confirmed_follow_up(bar, label: str, explanation: str, confirm: str, create) -> None:
    """A follow-up that asks first: a popover saying what it does, and its create button."""
    with bar.popover(label, icon=":material/undo:"):
        st.write(explanation)
        if st.button(confirm, type="primary"):
            _create_and_open(create)


def _follow_up_buttons(offered: list[str], bar) -> None:
    """Rollback, Retry errors, Dedup sweep these topics, Review clusters, Undo merge."""
    if act.ROLLBACK in offered:
        _confirmed_follow_up(
            bar, "Rollback", "Restore every topic this job changed to its previous values. "
            "Topics changed since by another job are reported, not overwritten.",
            "Create rollback job",
            lambda user: recovery.create_rollback(job_id, created_by=user))
    if act.RETRY in offered and bar.button("Retry errors", icon=":material/replay:"):
        _create_and_open(lambda user: recovery.create_retry(job_id, created_by=user))
    if act.DEDUP_SWEEP in offered and bar.button(
            "Dedup sweep these topics", icon=":material/join:",
            help="Look for near-duplicates among the topics this job changed"):
        _create_and_open(lambda user: runner.create_job(
            "dedup_sweep", {"sourceBatchId": job_id}, created_by=user))
    if act.REVIEW_CLUSTERS in offered and bar.button("Review clusters", icon=":material/join:"):
        running.discard(job_id)
        st.switch_page(pages.DEDUP, query_params={"job": job_id})
    if act.UNDO_MERGE in offered:
        _confirmed_follow_up(
            bar, "Undo merge", "Restore every merged topic with its org links, activations "
            "and history. Clusters changed since the merge are reported, not undone.",
            "Create undo job", lambda user: undo.create_merge_undo(job_id, created_by=user))


def _chunk():
    return runner.process_chunk(job_id, driven_by=pages.current_user(st.session_state))


def _step(seconds: float | None = None):
    """A slice of chunks (jobcore.ui.slices): as many as fit in ``seconds`` (by default
    PAGE_SLICE_SECONDS; one chunk at least).
    """
    if seconds is None:
        seconds = get_settings().page_slice_seconds
    loads = handler_of_job.loads_first(job_id, header.config)
    try:
        if loads:  # said while it happens, and left out of the rate afterwards
            with st.spinner(f"Loading {' and '.join(loads)} (once in this app's process; the "
                            "next chunks start at once)..."):
                return run_slice(_chunk, seconds=seconds, go_on=lambda: job_id in running)
        return run_slice(_chunk, seconds=seconds, go_on=lambda: job_id in running)
    except JobBusy as exc:
        st.toast(str(exc), icon=":material/hourglass_top:")
    except JobcoreError as exc:
        running.discard(job_id)
        st.error(str(exc))
    return None


def _stop_stuck() -> None:
    if not runner.stop_stuck_chunk(job_id, created_by=pages.current_user(st.session_state)):
        st.session_state["job_detail_problem"] = ("That chunk had finished or ended by itself "
                                                   "meanwhile; nothing was stopped.")


def _who(driver: str | None) -> str:
    return f" by **{driver}**" if driver else ""


def _driving_state(job, chunks, now: datetime) -> tuple[str, bool]:
    """Show who drives a processing job: this page, another tab or process (a chunk in
    flight, stuck when open too long), or nobody (paused). Returns (state, live): live
    when items/s and ETA describe a run that is happening.
    """
    if job.background and not job.is_finished:
        last = chunks[-1] if chunks else None
        st.markdown("### :material/cloud_sync: In the background")
        if last is not None and last.finished_at >= now - WORKER_WINDOW:
            st.info(f"The workers drive this job: its last chunk{_who(last.driven_by)} "
                    f"finished at {last.finished_at:%H:%M:%S} UTC. This page follows it; "
                    "**Take over** brings it back here.")
            return "background", True
        if now - job.updated_at < WORKER_WINDOW:  # just handed over
            st.info("Handed to the workers: the next free worker takes it. This page "
                    "follows it; **Take over** brings it back here.")
            return "background", False
        st.warning("Handed to the workers, but no worker has advanced it for 2 minutes: is "
                   "`python -m jobcore worker` running? (**Take over** runs it here.)")
        return "background", False
    if job.status != "processing" or job_id in running:
        st.markdown(f"### {STATUS_ICONS[job.status]} {job.status.title()}")
        return job.status, job.status == "processing"
    flight = runner.chunk_in_flight(job_id)
    if flight is not None and runner.is_stuck(flight):
        st.markdown("### :material/running_with_errors: Stuck")
        st.warning(f"A chunk started at {flight.started_at:%H:%M:%S} UTC{_who(flight.driven_by)} "
                   f"has been open for {format_duration(timedelta(seconds=flight.open_seconds))}"
                   f" and waiting on its driver for "
                   f"{format_duration(timedelta(seconds=flight.idle_seconds))}: its driver "
                   "hangs or cannot reach the database. Stopping it rolls the chunk back whole "
                   "(nothing is half-done); if its driver is alive after all, it does the chunk "
                   "again (a platform push in it too).")
        st.button("Stop the stuck chunk", icon=":material/stop_circle:", on_click=_stop_stuck)
        return "stuck", False
    if flight is not None:
        st.markdown(f"### {STATUS_ICONS['processing']} Running elsewhere")
        st.info(f"Another tab or process is running a chunk{_who(flight.driven_by)} (started "
                f"{flight.started_at:%H:%M:%S} UTC); this page follows its progress.")
        return "in flight", True
    stopped = stopped_here.get(job_id) == job.chunk_count  # nobody has driven it since
    if stopped or is_paused(job, now, driven_here=False):
        last = job.last_progress_at or job.created_at
        driver = chunks[-1].driven_by if chunks else None
        st.markdown("### :material/pause_circle: Paused")
        st.info(f"Nobody is driving this job: its last chunk finished at "
                f"{last:%Y-%m-%d %H:%M:%S} UTC{_who(driver)} ({job.processed_items:,} of "
                f"{job.total_items:,} done). Press **Run** to go on from there.")
        return "paused", False
    # between two chunks of a driver that is not this tab
    last = chunks[-1] if chunks else None
    st.markdown(f"### {STATUS_ICONS['processing']} Running elsewhere")
    st.info("Another tab or process is driving this job"
            + (f": its last chunk{_who(last.driven_by)} finished at "
               f"{last.finished_at:%H:%M:%S} UTC" if last else "")
            + "; this page follows its progress.")
    return "elsewhere", True


def live_panel() -> None:
    job = runner.get_job_summary(job_id)
    report = None
    if job.background:  # handed to the workers (here or in another tab): this tab follows
        running.discard(job_id)
    waited = time.monotonic() - polled_at.get(job_id, 0.0)
    resting = job_id in polled_at and waited < POLL_SECONDS  # between two polls
    if job_id in running and not resting:
        report = _step() if not job.is_finished else None
        job = runner.get_job_summary(job_id)
        polled_at.pop(job_id, None)
        if report is not None and runner.waiting_on_batches(report):
            polled_at[job_id] = time.monotonic()
            resting = True
        if job.is_finished or report is None:
            running.discard(job_id)
    if job_id not in running:
        polled_at.pop(job_id, None)
        resting = False
    if job.status != header.status and job_id not in running and report is None:
        st.rerun()  # started or finished elsewhere: the title, links, actions and errors too
    chunks = runner.job_chunks(job_id)
    rate = throughput(job, chunks)
    state, live = _driving_state(job, chunks, datetime.now(UTC))
    if job.failure_message:
        st.error(f"Failed: {job.failure_message}")
    if problem := st.session_state.pop("job_detail_problem", None):
        st.error(problem)
    if job.status == "completed" and job.processed_items < job.total_items:
        st.info(f"{job.total_items - job.processed_items:,} of the {job.total_items:,} "
                "planned items were not processed: another job or an edit changed them (or "
                "they were deleted or merged) after this job was planned, so they were left "
                "as they are.")
    cols = st.columns(6)
    cols[0].metric("Processed", f"{job.processed_items:,}", help=f"of {job.total_items:,}")
    cols[1].metric("Success", f"{job.success_count:,}")
    cols[2].metric("Errors", f"{job.error_count:,}")
    cols[3].metric("Skipped", f"{job.skip_count:,}")
    cols[4].metric("Items/s", f"{rate.items_per_second:,.0f}"
                   if rate.items_per_second and live and not resting else "–")
    cols[5].metric("ETA", "waiting" if resting else format_duration(rate.eta) if live else "–",
                   help="Anthropic is still processing the message batches: it cannot say "
                        "when they end (at most 24 hours)" if resting else None)
    st.plotly_chart(progress_figure(job), width="stretch")
    _buttons(job, state)
    if chunks:
        st.plotly_chart(chunks_figure(chunks), width="stretch")
    if job.log_pruned_at:
        staged = (f" and {plural(job.staged_pruned, 'staged LLM result')} (so it cannot be "
                  "resumed)" if job.staged_pruned else "")
        policy = retention.Policy.from_settings().describe()
        st.caption(f":material/auto_delete: Retention removed this job's chunk log{staged} "
                   f"on {job.log_pruned_at:%Y-%m-%d}: {policy} Its counts, errors and "
                   "history stay.")
    ended = {"completed": "completed", "cancelled": "cancelled", "failed": "failed"}.get(
        job.status, "ended")
    times = {"created": job.created_at, "started": job.started_at,
             ended: job.completed_at, "last progress": job.last_progress_at}
    st.caption(" · ".join(f"{k} {v:%Y-%m-%d %H:%M:%S}" for k, v in times.items() if v))
    events = runner.job_events(job_id)
    if events:
        with st.expander(f"History ({len(events)} event{'s' if len(events) != 1 else ''})"):
            for event in events:
                who = f" by {event.created_by}" if event.created_by else ""
                st.text(f"{event.created_at:%Y-%m-%d %H:%M:%S}  {event.kind}{who}"
                        + (f": {event.message}" if event.message else ""))
    if resting:
        # the fragment's timer (every 3 s) comes back; the next poll is due then or later
        st.caption(f":material/hourglass_top: Anthropic is still processing the message "
                   f"batches: the next poll is in about "
                   f"{max(POLL_SECONDS - (time.monotonic() - polled_at[job_id]), 0):.0f} s.")
    elif job_id in running:
        # One slice of chunks per rerun: the panel above shows the progress after every
        # slice (under a second), and a Stop or Cancel click lands between two chunks.
        _rerun_panel()
    elif report is not None:
        st.rerun()  # the run has just ended: refresh the errors below


# Driven here: one slice of chunks per rerun of the fragment (below). Otherwise, while the
# job may still move, the fragment looks again every few seconds, to follow another tab or
# process.
st.fragment(live_panel, run_every=timedelta(seconds=3) if followed else None)()

if header.job_type == "merge" and header.config.get("clusters"):
    given = header.config["clusters"]
    ids = [i for c in given for i in (c["winner"], *(m["id"] for m in c.get("losers", [])))]
    merged_label = "Clusters merged" if header.status == "completed" else "Clusters to merge"
    with st.expander(f"{merged_label} ({len(given):,})", expanded=len(given) <= 20):
        st.dataframe(merged_clusters_frame(header.config, topic_names(ids)), hide_index=True,
                     width="stretch", column_config={
                         "Weakest score": st.column_config.NumberColumn(format="%.3f")})

with st.expander("Config"):
    st.json(header.config)

def batches_panel() -> None:
    """An LLM job's message batches and cost, followed like the live panel."""
    job = runner.get_job(job_id, with_errors=False, full_result=False)
    progress = batch_progress(job)
    st.subheader(f"Message batches · phase: {progress.phase}")
    verifying = "verification" in job.result or job.cursor.get("phase") == "sweep"
    waiting = (f" {progress.staged:,} results staged, waiting for post-processing."
               if progress.staged else "")
    if verifying:  # a sweep's pairs (several a request)
        st.caption(verification_caption(job.result, progress.submitted,
                                        finished=job.is_finished) + waiting)
    else:
        st.caption(f"{progress.submitted:,} of {job.total_items:,} topics submitted."
                   + waiting)
    st.dataframe(batches_frame(progress.batches), hide_index=True, width="stretch")
    if verifying and "costEstimate" not in job.result:
        st.caption("Cost: estimated once the sweep has found the pairs it sends (Count items "
                   "on the Jobs page estimates it before a sweep).")
        return
    st.caption("Cost: the estimate made once the sweep had found the pairs it sends, beside "
               "the actual usage of the answers so far" if verifying else
               "Cost: estimate before the start beside the actual usage of the results so far")
    st.dataframe(cost_frame(job.total_items, job.config, job.result.get("usage"),
                            job_type=job.job_type,
                            estimate_of_job=job.result.get("costEstimate")),
                 hide_index=True, width="stretch")


if is_llm_job(header.job_type, header.config):
    st.fragment(batches_panel, run_every=timedelta(seconds=3) if followed else None)()

job = runner.get_job(job_id, full_result=False)  # errors; not a sweep's clusters
st.subheader(f"Errors ({len(job.errors):,})")
if not job.errors:
    st.caption("No errors.")
else:
    item_kind = get_handler(job.job_type).item_kind
    frame = errors_frame(job.errors, error_categories(job.errors, item_kind=item_kind),
                         item_kind=item_kind)
    search = st.text_input("Search errors", placeholder="id, name, message or category")
    shown = filter_errors(frame, search)
    st.dataframe(shown, hide_index=True, width="stretch")
    st.download_button("Export CSV", errors_csv(shown), file_name=f"{job_id}_errors.csv",
                       mime="text/csv", icon=":material/download:")
    groups = st.columns(2)
    groups[0].caption("By message pattern")
    groups[0].dataframe(pattern_counts(shown), hide_index=True, width="stretch")
    groups[1].caption("By parent category")
    groups[1].dataframe(category_counts(shown), hide_index=True, width="stretch")
    retry_offered = job.is_finished and act.RETRY in act.available_actions(
        job, running=False, rollback_id=None, undo_id=None)
    if retry_offered:
        by_group = error_groups(frame)
        pick = st.columns([4, 1], vertical_alignment="bottom")
        group = pick[0].selectbox(
            "Retry a group", list(by_group), key="retry_group",
            format_func=lambda g: f"{g} ({plural(len(by_group[g]), 'topic')})",
            help="Only the topics of one message pattern or one parent category, in a new "
                 "job with the same mode (Retry errors takes them all)")
        if group is not None and pick[1].button("Retry this group", icon=":material/replay:"):
            _create_and_open(lambda user: recovery.create_retry(
                job_id, created_by=user, group=group, topic_ids=by_group[group]))
