"""The Taxonomy screen's tree jobs: choose one, its options (a tree, a limit), see what it
would do before it runs (the count, and for realign and fix the changes it would make: a
dry run), then create it.
"""

from typing import Any

import pandas as pd
import streamlit as st

from app_pages.parts import messages
from jobcore.access import can
from jobcore.classify.taxonomy import TAXONOMY_TYPES
from jobcore.errors import JobcoreError
from jobcore.jobs import runner
from jobcore.jobs.registry import get_handler
from jobcore.trees.placement import preview_job
from jobcore.ui import pages
from jobcore.ui.forms import plural, whole_number
from jobcore.ui.llm import llm_cost_line

TREE_JOBS = ("realign_subcategories", "fix_subcategory_level0", "backfill_taxonomy_nodes")
PREVIEW_ROWS = 50


def tree_jobs() -> None:
    """Pick a tree job and its options; Preview (a dry run), then Create job."""
    st.subheader("Tree jobs")
    st.caption("Each runs as a job with history, so that it can be rolled back from its detail.")
    row = st.columns([2, 2, 1])
    job_type = row[0].selectbox("Tree job", TREE_JOBS, key="tree_job",
                                format_func=lambda t: get_handler(t).label)
    tree = row[1].selectbox("Only topics of", ["(any)", *TAXONOMY_TYPES], key="tree_filter")
    limit = whole_number(row[2].text_input("Limit", key="tree_limit", placeholder="no limit"))
    config: dict[str, Any] = {**({"taxonomyFilter": tree} if tree != "(any)" else {}),
                              **({"limit": limit} if limit is not None else {})}
    st.caption(get_handler(job_type).description)
    buttons = st.container(horizontal=True)
    if buttons.button("Preview", icon=":material/visibility:",
                      help="What it would do, without writing anything (a dry run)"):
        _preview(job_type, config)
    if buttons.button("Create job", type="primary", disabled=not can("create"),
                      help=None if can("create") else "Creating jobs needs the operator role"):
        try:
            created = runner.create_job(job_type, config,
                                        created_by=pages.current_user(st.session_state))
        except JobcoreError as exc:
            messages.error(exc)
        else:
            st.switch_page(pages.JOB_DETAIL, query_params={"job": created.id})


def _preview(job_type: str, config: dict[str, Any]) -> None:
    """The count (and the cost for the LLM backfill), or every eligible topic's change."""
    try:
        if get_handler(job_type).uses_llm_batches(config):  # the backfill asks Claude
            total = runner.count_items(job_type, config)
            st.info(f"{plural(total, 'topic')} without a node would go to Claude. "
                    + llm_cost_line(job_type, config, total))
            return
        placements = preview_job(job_type, config)
    except JobcoreError as exc:
        messages.error(exc)
        return
    changed = [p for p in placements if p.changed]
    failed = [p for p in placements if p.error]
    st.info(f"{plural(len(placements), 'eligible topic')}: {len(changed):,} would change, "
            f"{len(failed):,} cannot be placed, {len(placements) - len(changed) - len(failed):,} "
            "already right (the job counts them as skipped). Nothing was written.")
    shown = (changed + failed)[:PREVIEW_ROWS]
    if shown:
        st.dataframe(pd.DataFrame([{
            "topic": p.topic.id, "name": p.topic.name,
            "subcategory now": p.topic.subcategory, "would be": p.subcategory,
            "node would be": p.node_id, "how / why not": p.error or p.how} for p in shown]),
            hide_index=True, width="stretch")
