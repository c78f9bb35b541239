"""Taxonomy trees: browse by level, search labels, topics per node and topics without one;
start the tree jobs (realign, fix level-0 subcategories, LLM node backfill).
"""

import pandas as pd
import streamlit as st

from jobcore import runner, trees
from jobcore.config import get_settings
from jobcore.db import get_engine
from jobcore.errors import JobcoreError
from jobcore.ui.taxonomy import topics_treemap, tree_frame

DETAIL = "pages/job_detail.py"
user = st.session_state.get("user") or get_settings().admin_user

st.title("Taxonomy trees")
engine = get_engine()
with engine.connect() as conn:
    seeded = trees.has_trees(conn)
if not seeded:
    st.info("The taxonomy trees are not loaded yet: the IAB Audience Taxonomy 1.1, the IAB "
            "Content Taxonomy 3.1 and the Business Technology tree.")
    if st.button("Load the trees", type="primary"):
        with engine.begin() as conn:
            report = trees.seed_trees(conn)
        st.toast(f"Loaded {report.inserted:,} nodes")
        st.rerun()
    st.stop()

taxonomy = st.selectbox("Tree", list(trees.TREE_TITLES), format_func=trees.TREE_TITLES.get)
with engine.connect() as conn:
    nodes = trees.tree_counts(conn, taxonomy)
    without = trees.topics_without_node(conn)
    unplaced = trees.unplaced_by_category(conn)

metrics = st.columns(3)
metrics[0].metric("Nodes", f"{len(nodes):,}")
metrics[1].metric("Topics on this tree", f"{sum(n['topics'] for n in nodes):,}")
metrics[2].metric("Topics without a node", f"{without:,}")

deepest = max((n["level"] for n in nodes), default=1)
controls = st.columns([1, 2])
max_level = controls[0].slider("Expand to level", 1, deepest, min(2, deepest),
                               disabled=deepest == 1)
search = controls[1].text_input("Search labels", placeholder="e.g. golf")
treemap = topics_treemap(nodes, max_level=max_level)
if treemap is not None:
    st.plotly_chart(treemap, width="stretch")
frame = tree_frame(nodes, max_level=max_level, search=search)
st.caption(f"{len(frame):,} nodes shown" + (" matching the search" if search.strip() else ""))
st.dataframe(frame, hide_index=True, width="stretch",
             column_config={"id": st.column_config.TextColumn("id", width="small")})

if len(frame):
    by_id = {row["id"]: row["node"].strip() for row in frame.to_dict("records")}
    node_id = st.selectbox("Topics on node", list(by_id), format_func=by_id.get)
    with engine.connect() as conn:
        on_node = trees.topics_on_node(conn, node_id)
    if on_node:
        st.dataframe(pd.DataFrame(on_node), hide_index=True, width="stretch")
    else:
        st.caption("No topics on this node.")

st.subheader("Topics without a node")
if unplaced:
    st.dataframe(pd.DataFrame(unplaced), hide_index=True, width="stretch")
else:
    st.caption("Every live topic sits on a node.")

st.subheader("Tree jobs")
st.caption("Each runs as a job with history, so that it can be rolled back from its detail.")
cols = st.columns(3)
for col, job_type, label, help_text in (
        (cols[0], "realign_subcategories", "Realign subcategories",
         "Set each topic's subcategory to its node's label (finding the node by exact path, "
         "then by nearest label)"),
        (cols[1], "fix_subcategory_level0", "Fix level-0 subcategories",
         "Replace subcategories that hold a Tier 1/Tier 2 label or a whole path"),
        (cols[2], "backfill_taxonomy_nodes", "Backfill nodes with Claude",
         "Let Claude choose a node for topics without one (Message Batches)")):
    if col.button(label, help=help_text, width="stretch"):
        try:
            created = runner.create_job(job_type, {}, created_by=user)
        except JobcoreError as exc:
            st.error(str(exc))
        else:
            st.switch_page(DETAIL, query_params={"job": created.id})
