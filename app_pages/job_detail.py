"""Job detail: status, progress charts, one-chunk stepping, Run/Stop, cancel, the follow-ups
the job's type offers (rollback, retry, undo...), its own panels, and the job's errors with
search, grouped counts and CSV export. Nothing here names a job type: what differs by type
comes from its handler (follow-ups, detail panels, item kind).
"""

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import streamlit as st
from streamlit.errors import StreamlitAPIException

from app_pages.parts import job_frame, messages, tab_drivers
from app_pages.parts.job_sections import batches_panel, errors_section
from app_pages.parts.job_status import history, metrics, notes
from jobcore.access import can
from jobcore.config import get_settings
from jobcore.errors import JobBusy, JobcoreError, JobPruned
from jobcore.jobs import detail as job_detail
from jobcore.jobs import relations, runner, supervision
from jobcore.jobs.drive import drive
from jobcore.jobs.follow_ups import FollowUp
from jobcore.jobs.registry import get_handler
from jobcore.jobs.store import JobSummary
from jobcore.ui import actions as act
from jobcore.ui import pages
from jobcore.ui.charts import chunks_figure, progress_figure, throughput
from jobcore.ui.driving import driving
from jobcore.ui.llm import is_llm_job

running: set[str] = st.session_state.setdefault("running_jobs", set())
# jobs this tab runs whose message batches were still processing at the last poll, with its
# time: the next poll waits POLL_SECONDS (not one request after another)
polled_at: dict[str, float] = st.session_state.setdefault("polled_jobs", {})
POLL_SECONDS = 10.0
# jobs this tab stopped (or stepped once), with their chunk count then: paused at once, until
# somebody else's chunk moves the count on
stopped_here: dict[str, int] = st.session_state.setdefault("stopped_jobs", {})
# jobs this tab runs whose next chunk loads something first (a model): said in one run,
# with Stop, before the run that loads it (which shows nothing new until it has loaded);
# once a Run (a job whose later chunks load more, a sweep's indexes, says so in its chart)
loading_next: dict[str, list[str]] = st.session_state.setdefault("loading_jobs", {})
said_loading: set[str] = st.session_state.setdefault("said_loading", set())
# The browser keeps a hidden copy of each Plotly chart a run replaced until a run finishes
# without asking for another, and a driving tab's runs end in the rerun for its next slice:
# every REST_EVERY slices one run ends plainly (the panel's 3 s timer brings the next), so
# a long Run does not pile up charts in the tab (about 1.5 s in every 20 s of driving).
REST_EVERY = 20
slices_run: dict[str, int] = st.session_state.setdefault("slices_run", {})
_ELSEWHERE = "Another tab or process is driving this job; this page follows it."


def _chosen_job() -> str:
    """The job of the address (?job=), else one picked among the latest."""
    job_id = st.query_params.get("job")
    if job_id is None:
        recent = [j.id for j in runner.list_jobs(limit=100)]
        if not recent:
            st.title("Job detail")
            st.info("No jobs yet: create one on the Jobs page.")
            st.stop()
        job_id = st.selectbox("Job", recent)
    st.query_params["job"] = job_id  # the address follows the job shown (a link to another)
    return job_id


def _read_header(job_id: str) -> JobSummary:
    try:
        return runner.get_job_summary(job_id)
    except JobcoreError as exc:
        st.title("Job detail")
        # a job retention removed is not an error of the address: say what became of it
        (st.warning if isinstance(exc, JobPruned) else st.error)(str(exc))
        st.page_link(pages.JOBS, label="Back to the jobs", icon=":material/arrow_back:")
        st.stop()
        raise


job_id = _chosen_job()
header = _read_header(job_id)
handler_of_job = get_handler(header.job_type)
followed = not header.is_finished  # the job may still move


def _rerun_panel() -> None:
    """Rerun only the live panel when it is running as a fragment, else the page."""
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:  # a full-page run: fragment scope is not available
        st.rerun()


def _open(other_id: str) -> None:
    _stop_driving()
    st.query_params["job"] = other_id
    st.rerun()


def _offered_follow_ups(job: JobSummary) -> list[FollowUp]:
    if not job.is_finished:
        return []
    _, came_of = job_detail.related_jobs(job)
    return relations.follow_ups_offered(job, came_of)


def _buttons(job: JobSummary, state: str) -> None:
    if not can("process"):  # a viewer: every job action is an operator's (the server agrees)
        st.caption("Read-only: running, stopping, cancelling, rolling back and retrying jobs "
                   "need the operator role.")
        return
    follow_ups = _offered_follow_ups(job)
    offered = act.available_actions(job, running=job_id in running, follow_ups=follow_ups)
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
    if (act.RUN in offered or act.STOP in offered) and not job.background and bar.button(
            "Run in background", icon=":material/cloud_upload:", key="bar_background",
            help="Hand the job to the workers (python -m jobcore worker): it goes on when "
                 "this tab closes"):
        _stop_driving()
        _hand_over(runner.run_in_background)
    for follow_up in follow_ups:
        _follow_up_button(follow_up, bar)


def _hand_over(change) -> None:
    """Run in background or Take over (``change``); a chunk in flight may refuse it."""
    try:
        change(job_id, by=pages.current_user(st.session_state))
    except JobcoreError as exc:
        st.session_state["job_detail_problem"] = str(exc)
    st.rerun()


def _chunk_buttons(offered: list[str], bar, *, elsewhere: bool = False) -> None:
    """Process next chunk, Run / Stop, Cancel, Resume (no driving while another driver
    runs it).
    """
    driving_help = _ELSEWHERE if elsewhere else None
    here = act.STOP in offered  # this page runs it: one chunk more is for after a Stop
    # Keyed: a button keeps its place while its label or state changes (Run becomes Stop);
    # an unkeyed one would be a new button, the old one left on screen while the page
    # drives the job (Streamlit removes it only when a run finishes, and a driving page's
    # runs end in the rerun for the next slice).
    if act.PROCESS in offered and bar.button(
            "Process next chunk", icon=":material/skip_next:", disabled=elsewhere or here,
            help="This page is running the job: Stop first" if here else driving_help,
            key="bar_process"):
        _step(seconds=0.0)
        _note_stopped(drove=True)  # driven here one chunk, and no further
        st.rerun()
    # Run, Stop and Cancel act in their callbacks, which run before the rerun they cause:
    # a rerun of a running panel would otherwise process one more chunk first.
    if act.RUN in offered:
        bar.button("Run", type="primary", icon=":material/play_arrow:", disabled=elsewhere,
                   help=driving_help, on_click=_run, key="bar_run_stop")
    if act.STOP in offered:
        bar.button("Stop", icon=":material/pause:", on_click=_stop, key="bar_run_stop")
    if act.CANCEL in offered:
        with bar.popover("Cancel", icon=":material/cancel:", key="bar_cancel"):
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
            messages.error(exc)
        else:
            st.rerun()


def _stop_driving(*, drove: bool = False) -> None:
    """This tab no longer drives the job; if it did (a Run, or ``drove`` one chunk) it lets
    the job go, and other tabs read it as paused at once (another tab of the same user
    that drives it keeps it).
    """
    if job_id in running or drove:
        runner.release_driver(job_id, pages.current_user(st.session_state))
    running.discard(job_id)
    tab_drivers.drop(job_id)


def _note_stopped(*, drove: bool = False) -> None:
    _stop_driving(drove=drove)
    stopped_here[job_id] = runner.get_job_summary(job_id).chunk_count


def _run() -> None:
    running.add(job_id)
    said_loading.discard(job_id)  # a new Run says its loads again
    tab_drivers.claim(job_id)
    stopped_here.pop(job_id, None)


def _stop() -> None:
    _note_stopped()


def _cancel() -> None:
    _stop_driving()
    try:
        runner.cancel_job(job_id, by=pages.current_user(st.session_state))
    except JobcoreError as exc:
        st.session_state["job_detail_problem"] = str(exc)


def _create_and_open(follow_up: FollowUp, **options) -> None:
    """Create a follow-up job and open it; an error (the server's refusal) is shown."""
    try:
        created = follow_up.create(job_id, created_by=pages.current_user(st.session_state),
                                   **options)
    except JobcoreError as exc:
        messages.error(exc)
    else:
        _open(created.id)


def _follow_up_button(follow_up: FollowUp, bar) -> None:
    """A follow-up: a page it opens, a popover that asks first, or one click."""
    if follow_up.opens is not None:
        if bar.button(follow_up.label, icon=follow_up.icon, help=follow_up.help):
            _stop_driving()
            st.switch_page(pages.BY_NAME[follow_up.opens], query_params={"job": job_id})
    elif follow_up.confirm is not None:
        with bar.popover(follow_up.label, icon=follow_up.icon):
            st.write(follow_up.confirm)
            if st.button(follow_up.confirm_label, type="primary"):
                _create_and_open(follow_up)
    elif bar.button(follow_up.label, icon=follow_up.icon, help=follow_up.help):
        _create_and_open(follow_up)


def _step(seconds: float | None = None):
    """A slice of chunks (jobcore.jobs.drive): as many as fit in ``seconds`` (by default
    PAGE_SLICE_SECONDS; one chunk at least), resting when the batches are still running.
    """
    if seconds is None:
        seconds = get_settings().page_slice_seconds
    # said with a spinner when this tab has not said it (a Process next chunk)
    loads = [] if job_id in said_loading else handler_of_job.loads_first(job_id, header.config)

    def run():
        return drive(job_id, driven_by=pages.current_user(st.session_state), seconds=seconds,
                     poll_seconds=None, steps_aside=True, keeps_driving=True,
                     # a closed or reloaded tab stops at once (its script stops after)
                     go_on=lambda report: job_id in running and tab_drivers.still_here())

    try:
        if loads:  # said while it happens, and left out of the rate afterwards
            with st.spinner(f"Loading {' and '.join(loads)} (once in this app's process; the "
                            "next chunks start at once)..."):
                return run()
        return run()
    except JobBusy as exc:
        st.toast(str(exc), icon=":material/hourglass_top:")
    except JobcoreError as exc:
        _stop_driving()
        messages.error(exc)
    return None


def _stop_stuck() -> None:
    if not supervision.stop_stuck_chunk(job_id, created_by=pages.current_user(st.session_state)):
        st.session_state["job_detail_problem"] = ("That chunk had finished or ended by itself "
                                                   "meanwhile; nothing was stopped.")


def _show_driving(job: JobSummary, chunks) -> tuple[str, bool]:
    """Who drives the job (jobcore.ui.driving), shown; returns (state, live)."""
    flight = None
    if job.status == "processing" and job_id not in running and not job.background:
        flight = supervision.chunk_in_flight(job_id)
        if flight is None and job.driver is not None and tab_drivers.abandoned(job_id):
            # the tab that drove it here was closed or reloaded: nobody drives it now
            runner.release_driver(job_id, job.driver)
            job = replace(job, driver=None)
    said = driving(job, chunks, datetime.now(UTC), driven_here=job_id in running,
                   flight=flight, stuck=flight is not None and supervision.is_stuck(flight),
                   stopped_here=stopped_here.get(job_id) == job.chunk_count,
                   loading=loading_next.get(job_id))
    st.markdown(said.heading)
    # a slot each, filled or not: the panel keeps its layout while it reruns (see
    # jobcore.ui.actions.available_actions)
    message = st.empty()
    if said.message:
        (message.warning if said.level == "warning" else message.info)(said.message)
    if said.stuck:
        st.button("Stop the stuck chunk", icon=":material/stop_circle:", on_click=_stop_stuck)
    return said.state, said.live


def _drive(job: JobSummary):
    """This tab's next slice of chunks when it runs the job (not between two polls of its
    batches); returns (job after it, the slice's report, resting between polls).
    """
    report = None
    if job.background:  # handed to the workers (here or in another tab): this tab follows
        _stop_driving()
    resting = job_id in polled_at and time.monotonic() - polled_at[job_id] < POLL_SECONDS
    if job_id in running and job_id not in said_loading:
        said_loading.add(job_id)
        loads = handler_of_job.loads_first(job_id, header.config)
        if loads:  # say it (with Stop) in this run; the next run loads and drives
            loading_next[job_id] = loads
            return job, None, False
    loading_next.pop(job_id, None)
    if job_id in running and not resting:
        report = _step() if not job.is_finished else None
        job = runner.get_job_summary(job_id)
        polled_at.pop(job_id, None)
        if report is not None and runner.waiting_on_batches(report):
            polled_at[job_id] = time.monotonic()
            resting = True
        if job.is_finished or report is None:
            _stop_driving()
    if job_id not in running:
        polled_at.pop(job_id, None)
        resting = False
    return job, report, resting


def live_panel() -> None:
    """Progress, who drives, buttons, chunks: run as a fragment, one slice per rerun."""
    job, report, resting = _drive(runner.get_job_summary(job_id))
    if job.status != header.status and job_id not in running and report is None:
        st.rerun()  # started or finished elsewhere: the title, links, actions and errors too
    chunks = runner.job_chunks(job_id)
    state, live = _show_driving(job, chunks)
    notes(job)
    metrics(job, throughput(job, chunks), live=live, resting=resting)
    st.plotly_chart(progress_figure(job), width="stretch")
    _buttons(job, state)
    if chunks:
        st.plotly_chart(chunks_figure(chunks), width="stretch")
    history(job, runner.job_events(job_id))
    waiting = st.empty()
    if resting:
        # the fragment's timer (every 3 s) comes back; the next poll is due then or later
        waiting.caption(f":material/hourglass_top: Anthropic is still processing the message "
                   f"batches: the next poll is in about "
                   f"{max(POLL_SECONDS - (time.monotonic() - polled_at[job_id]), 0):.0f} s.")
    elif job_id in running:
        # One slice of chunks per rerun: the panel above shows the progress after every
        # slice (under a second), and a Stop or Cancel click lands between two chunks.
        slices_run[job_id] = slices_run.get(job_id, 0) + 1
        if slices_run[job_id] % REST_EVERY or not tab_drivers.in_browser():
            _rerun_panel()
    elif report is not None:
        st.rerun()  # the run has just ended: refresh the errors below


def _retry_group(job: JobSummary, group: str, topic_ids: list[int]) -> None:
    """Retry only one group of the job's errors (when its type offers Retry errors now)."""
    retry = relations.follow_up(job, "retry")
    if retry is not None and retry in _offered_follow_ups(job):
        _create_and_open(retry, group=group, topic_ids=topic_ids)


job_frame.title(header)
# the links follow a running job (a sweep's cluster count grows)
st.fragment(lambda: job_frame.links_row(header),
            run_every=timedelta(seconds=3) if followed else None)()
# Driven here: one slice of chunks per rerun of the fragment. Otherwise, while the job may
# still move, the fragment looks again every few seconds, to follow another tab or process.
st.fragment(live_panel, run_every=timedelta(seconds=3) if followed else None)()
job_frame.type_panels(header)
if is_llm_job(header.job_type, header.config):
    st.fragment(lambda: batches_panel(job_id, handler_of_job),
                run_every=timedelta(seconds=3) if followed else None)()
errors_section(job_id, handler_of_job, retry_group=_retry_group if can("process") else None)
