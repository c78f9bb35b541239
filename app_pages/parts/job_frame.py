"""The job detail's frame around its live panel: the title (what the job is, who created
it), the links to what it made and the jobs related to it, and the tables its type adds
with its config.
"""

import pandas as pd
import streamlit as st

from jobcore.jobs import detail as job_detail
from jobcore.jobs import relations
from jobcore.jobs.registry import get_handler
from jobcore.jobs.store import JobSummary
from jobcore.ui import pages


def title(header: JobSummary) -> None:
    """The job as what it is (a rollback, a retry...), who created it and when."""
    kind, handler = relations.job_kind(header), get_handler(header.job_type)
    st.title(f"{kind} · {header.id}")
    # a rollback, retry or undo reads as what it is (the title); its type's description would not
    about = (f"{handler.label}: {handler.description} "
             if kind == handler.label else "")
    st.caption(f"{about}Created by {header.created_by} at "
               f"{header.created_at:%Y-%m-%d %H:%M:%S} UTC.")


def links_row(header: JobSummary) -> None:
    """The type's links (a sweep's clusters, their count followed live) and related jobs."""
    came_from, came_of = job_detail.related_jobs(header)
    links = job_detail.detail_links(header)
    if not (came_from or came_of or links):
        return
    row = st.container(horizontal=True, vertical_alignment="center")
    for link in links:
        row.page_link(pages.BY_NAME[link.page], icon=link.icon, query_params=link.query,
                      label=link.label)
    for related, prefix in [*((r, "From:") for r in came_from),
                            *((r, "Then:") for r in came_of)]:
        other = related.job
        row.page_link(pages.JOB_DETAIL, label=f"{prefix} {related.relation} {other.id} "
                                              f"({other.status})",
                      query_params={"job": other.id}, icon=":material/link:")


def type_panels(header: JobSummary) -> None:
    """The tables the job's type adds (a merge's clusters) and the config."""
    for panel in job_detail.detail_tables(header):
        with st.expander(panel.title, expanded=panel.expanded):
            st.dataframe(pd.DataFrame(panel.rows), hide_index=True, width="stretch",
                         column_config={column: st.column_config.NumberColumn(format=f)
                                        for column, f in panel.number_formats.items()})
    with st.expander("Config"):
        st.json(header.config)
