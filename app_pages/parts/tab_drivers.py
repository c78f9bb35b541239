"""The tabs of this app process that drive a job now (a job page's Run), so that a page can
tell a job whose driving tab was closed or reloaded (Streamlit stops that tab's script run
wherever it is, with no chance to say so) from one another tab still drives: the first
reads as paused at once, not as "running elsewhere" until it has been quiet for 30 s.

Process-wide: every session of one app server shares it. A driver in another process (the
command line, a second app server) is not here; its release and sql_rules.PAUSED_AFTER
tell about it.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_tab_of_job: dict[str, str] = {}  # job id -> the session id of the tab that drives it


def this_tab() -> str | None:
    """The session id of the current script run's tab; None outside a script run."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return None if ctx is None else ctx.session_id


def is_open(session_id: str) -> bool:
    """Whether the tab of ``session_id`` is still connected (True outside a running app:
    an AppTest has no runtime and never closes).
    """
    from streamlit.runtime import Runtime

    return not Runtime.exists() or Runtime.instance().is_active_session(session_id)


def claim(job_id: str) -> None:
    """This tab drives ``job_id``."""
    tab = this_tab()
    if tab is not None:
        with _lock:
            _tab_of_job[job_id] = tab


def drop(job_id: str) -> None:
    """This tab no longer drives ``job_id`` (another tab's claim is left alone)."""
    tab = this_tab()
    with _lock:
        if _tab_of_job.get(job_id) == tab:
            del _tab_of_job[job_id]


def abandoned(job_id: str) -> bool:
    """True when a tab of this process drove ``job_id`` and has been closed or reloaded
    since (the claim is dropped: asked once).
    """
    with _lock:
        tab = _tab_of_job.get(job_id)
        if tab is None or is_open(tab):
            return False
        del _tab_of_job[job_id]
        return True


def still_here() -> bool:
    """Whether the current script run's tab is still connected (a drive loop stops when
    it is not).
    """
    tab = this_tab()
    return tab is None or is_open(tab)


def in_browser() -> bool:
    """Whether the page runs in a served app with a browser (not an AppTest)."""
    from streamlit.runtime import Runtime

    return Runtime.exists()
