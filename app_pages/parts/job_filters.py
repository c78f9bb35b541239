"""The Jobs list's filters: type, status, creator, creation time, a search of what the jobs
were given or touched, and the limit. They live in the URL (``type``, ``status``, ``by``,
``created``, ``q``, ``limit``), so a filtered list survives a reload and can be shared.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import streamlit as st

from jobcore.jobs.registry import get_handler, job_types
from jobcore.jobs.store import FILTER_STATUSES, JobFilter
from jobcore.text_checks import unstorable_reason

CREATED_WITHIN = {"any time": None, "last hour": timedelta(hours=1),
                  "last 24 hours": timedelta(days=1), "last 7 days": timedelta(days=7),
                  "last 30 days": timedelta(days=30)}
LIMIT_DEFAULT = 20


@dataclass(frozen=True)
class ListFilters:
    """The filters as the list and the bulk actions use them."""

    job_filter: JobFilter
    limit: int
    choices: tuple[Any, ...]  # as chosen: a bulk plan counted under them stays while they do

    @property
    def list_args(self) -> dict[str, Any]:
        f = self.job_filter
        return {"job_type": f.job_type, "status": f.status, "created_by": f.created_by,
                "created_since": f.created_since, "mentioning": f.mentioning,
                "limit": self.limit}


# widget key -> (URL parameter, default, whether a URL value is one the widget takes)
_FROM_URL: dict[str, tuple[str, Any, Callable[[str], bool]]] = {
    "filter_type": ("type", "all", lambda v: v in job_types()),
    "filter_status": ("status", "all", lambda v: v in FILTER_STATUSES),
    "filter_by": ("by", "", lambda v: len(v) <= 200),
    "filter_created": ("created", "any time", lambda v: v in CREATED_WITHIN),
    "filter_q": ("q", "", lambda v: len(v) <= 200),
    "filter_limit": ("limit", LIMIT_DEFAULT, lambda v: v.isdigit() and 1 <= int(v) <= 100),
}


def _adopt_url() -> None:
    """Each filter starts from the URL's value once a session (a link, a reload)."""
    for key, (param, default, takes) in _FROM_URL.items():
        if key not in st.session_state:
            value = st.query_params.get(param)
            taken = value is not None and takes(value)
            st.session_state[key] = (int(value) if key == "filter_limit" else value) \
                if taken else default


def _keep_in_url() -> None:
    for key, (param, default, _takes) in _FROM_URL.items():
        value = st.session_state[key]
        if value == default or value in ("", None):
            st.query_params.pop(param, None)
        else:
            st.query_params[param] = str(value)


def list_filters() -> ListFilters:
    """The filter row (and the search under it); an unusable creator name is said."""
    _adopt_url()
    row = st.columns([2, 2, 2, 2, 1])
    type_filter = row[0].selectbox(
        "Job type filter", ["all", *job_types()], key="filter_type",
        format_func=lambda t: "all" if t == "all" else get_handler(t).label)
    status_filter = row[1].selectbox("Status", ["all", *FILTER_STATUSES], key="filter_status",
                                     help="paused: processing, but nobody is driving it")
    creator = row[2].text_input("Created by", placeholder="anyone", max_chars=200,
                                key="filter_by", help="Exactly as the list's 'created by' "
                                                      "shows it (capitals count)").strip()
    if creator and (unstorable := unstorable_reason(creator)) is not None:
        row[2].error(f"Left out: the name {unstorable}.", icon=":material/error:")
        creator = ""
    within = row[3].selectbox("Created", list(CREATED_WITHIN), key="filter_created")
    limit = row[4].number_input("Limit", min_value=1, max_value=100, step=1, key="filter_limit")
    search = st.text_input(
        "Search what jobs were given", key="filter_q", max_chars=200,
        placeholder="a config value (Sports, llm), a source job, a job id or a topic id",
        help="Jobs whose config holds this text, or whose id does; a topic id (123 or #123) "
             "also finds the jobs that changed that topic or have an error about it").strip()
    if search and (unstorable := unstorable_reason(search)) is not None:
        st.error(f"Left out: the search {unstorable}.", icon=":material/error:")
        search = ""
    _keep_in_url()
    since = CREATED_WITHIN[within]
    return ListFilters(JobFilter(
        job_type=None if type_filter == "all" else type_filter,
        status=None if status_filter == "all" else status_filter, created_by=creator or None,
        # to the minute, so that the filter (and a bulk plan made under it) stays the same
        # across the reruns of one minute
        created_since=(datetime.now(UTC) - since).replace(second=0, microsecond=0)
        if since else None, mentioning=search or None),
        int(limit), (type_filter, status_filter, creator, within, search))
