"""Taxonomy trees: browse by level, search labels, topics per node and topics without one;
start the tree jobs (realign, fix level-0 subcategories, LLM node backfill).
"""

import pandas as pd
import streamlit as st

from app_pages.parts.tree_jobs import tree_jobs
from jobcore.access import can
from jobcore.trees import browse
from jobcore.trees.tree_index import TREE_TITLES
from jobcore.ui.taxonomy import topics_treemap, tree_frame


def topics_on_a_node(frame: pd.DataFrame) -> None:
    """The topics on the node picked among those shown."""
    if not len(frame):
        return
    by_id = {row["id"]: row["node"].strip() for row in frame.to_dict("records")}
    node_id = st.selectbox("Topics on node", list(by_id), format_func=by_id.get)
    on_node = browse.topics_on(node_id)
    if on_node:
        st.dataframe(pd.DataFrame(on_node), hide_index=True, width="stretch")
    else:
        st.caption("No topics on this node.")


st.title("Taxonomy trees")
if not browse.trees_loaded():
    st.info("The taxonomy trees are not loaded yet: the IAB Audience Taxonomy 1.1, the IAB "
            "Content Taxonomy 3.1 and the Business Technology tree.")
    if st.button("Load the trees", type="primary", disabled=not can("seed_trees"),
                 help=None if can("seed_trees") else "Loading the trees needs the operator role"):
        report = browse.load_trees()
        st.toast(f"Loaded {report.inserted:,} nodes")
        st.rerun()
    st.stop()

taxonomy = st.selectbox("Tree", list(TREE_TITLES), format_func=TREE_TITLES.get)
overview = browse.tree_overview(taxonomy)
nodes, without, unplaced = overview.nodes, overview.topics_without_node, overview.unplaced

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

topics_on_a_node(frame)

st.subheader("Topics without a node")
if unplaced:
    st.dataframe(pd.DataFrame(unplaced), hide_index=True, width="stretch",
                 placeholder="—")  # a topic without a category: a dash, not "None"
else:
    st.caption("Every live topic sits on a node.")

tree_jobs()
