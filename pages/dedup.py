"""Dedup Clusters: review what a sweep proposed (weakest link first), compare members side
by side, change a winner, remove a member, mark "not duplicates", and start a merge."""

import streamlit as st

from jobcore.dedup import review
from jobcore.errors import JobcoreError
from jobcore.jobs import runner
from jobcore.ui import pages
from jobcore.ui.dedup import (
    bands_frame,
    cluster_label,
    clusters_frame,
    comparison_frame,
    differing_fields,
    highlight_differences,
    histogram_figure,
)

st.title("Dedup clusters")

sweeps = [j for j in runner.list_jobs(job_type="dedup_sweep", limit=100)
          if j.processed_items > 0]
if not sweeps:
    st.info("No dedup sweep has run yet. Create a **dedup_sweep** job on the Jobs page (or "
            "from a completed reclassify job's detail: *Dedup sweep these topics*), run it, "
            "and review its clusters here.")
    st.stop()

ids = [j.id for j in sweeps]
wanted = st.query_params.get("job")
labels = {j.id: f"{j.id} · {j.status} · {j.processed_items:,}/{j.total_items:,} swept"
          for j in sweeps}
sweep_id = st.selectbox("Sweep", ids, index=ids.index(wanted) if wanted in ids else 0,
                        format_func=labels.get)
st.query_params["job"] = sweep_id

all_edits: dict[str, dict[int, review.ClusterEdit]] = st.session_state.setdefault(
    "dedup_edits", {})
edits = all_edits.setdefault(sweep_id, {})
try:
    job, reviewed, details = review.load_review(sweep_id, edits)
except JobcoreError as exc:
    st.error(str(exc))
    st.stop()

result = job.result
cols = st.columns(5)
cols[0].metric("Clusters", f"{len(reviewed):,}")
cols[1].metric("Duplicates", f"{result.get('duplicateCount', 0):,}",
               help="Losers: topics that a merge would fold into a winner")
cols[2].metric("Open", f"{sum(r.state == review.OPEN for r in reviewed):,}")
cols[3].metric("Threshold", f"{result.get('threshold', 0):.3f}")
cols[4].metric("Search", result.get("search", "–"),
               help="exact: every vector compared (small catalogues); hnsw: pgvector's index")
if job.status != "completed":
    st.warning(f"This sweep is {job.status} ({job.processed_items:,} of {job.total_items:,} "
               "topics swept): the list grows as it runs.")

figure = histogram_figure(result)
if figure is not None:
    st.plotly_chart(figure, width="stretch")

matching_mode = result.get("matching", "semantic")
bands = bands_frame(review.decisions_by_band(matching_mode), result.get("threshold"))
with st.expander(f"Analysts' decisions by score band ({matching_mode} sweeps)",
                 expanded=not bands.empty):
    if bands.empty:
        st.caption("No proposed pairs yet.")
    else:
        st.caption("Every pair a sweep proposed (a loser and its winner) becomes a label when "
                   "it is merged or marked not duplicates. The precision in a band is the "
                   "share of its decided pairs that were merged: choose the threshold where "
                   "it is still high enough.")
        st.dataframe(bands, hide_index=True, width="stretch")

if not reviewed:
    st.success("No near-duplicates at this threshold.")
    st.stop()

st.subheader("Clusters, weakest link first")
st.dataframe(clusters_frame(reviewed, details), hide_index=True, width="stretch",
             column_config={"Weakest link": st.column_config.NumberColumn(format="%.4f")})

by_number = {r.number: r for r in reviewed}
open_numbers = [r.number for r in reviewed if r.mergeable]

st.subheader("Review a cluster")
number = st.selectbox("Cluster", [r.number for r in reviewed],
                      format_func=lambda n: cluster_label(by_number[n], details))
current = by_number[number]
edit = edits.setdefault(number, review.ClusterEdit())
if current.state != review.OPEN:
    st.info("This cluster is already merged." if current.state == review.MERGED else
            "A member of this cluster has since been merged or deleted; it cannot be merged "
            "as proposed.")
comparison = comparison_frame(current, details)
different = differing_fields(comparison)
st.caption("Highlighted: differs from the winner"
           + (f" ({', '.join(different)})." if different else " (nothing does)."))
st.dataframe(highlight_differences(comparison), width="stretch")
if current.weakest is not None and current.weakest < result.get("threshold", 0):
    st.warning("With this winner, a member is below the sweep's threshold: check that it "
               "really is a duplicate.")

if current.state == review.OPEN:
    actions = st.columns(3)
    members = list(current.cluster.members)
    with actions[0]:
        new_winner = st.selectbox("Winner", members, format_func=lambda i: details[i].name
                                  + f" · #{i}", key=f"winner_{sweep_id}_{number}")
        if st.button("Make winner", disabled=new_winner == current.cluster.winner):
            edit.winner = new_winner
            st.rerun()
    losers = [i for i, _ in current.cluster.losers]
    with actions[1]:
        member = st.selectbox("Member", losers, format_func=lambda i: details[i].name
                              + f" · #{i}", key=f"member_{sweep_id}_{number}")
        if st.button("Remove from cluster", disabled=member is None):
            edit.removed.add(member)
            st.rerun()
        if st.button("Not duplicates", disabled=member is None,
                     help="Remember that this topic and the winner are different segments; "
                          "later sweeps will not propose them again."):
            review.mark_not_duplicates(
                member, current.cluster.winner,
                created_by=pages.current_user(st.session_state),
                sweep_id=sweep_id)
            st.rerun()
    with actions[2]:
        if current.edited and st.button("Reset edits", icon=":material/restart_alt:"):
            edits.pop(number, None)
            st.rerun()

st.subheader("Merge")
chosen = st.multiselect(
    "Clusters to merge", open_numbers, key=f"chosen_{sweep_id}",
    format_func=lambda n: cluster_label(by_number[n], details),
    help="Open clusters only. Each loser's org links, activations and history move to the "
         "winner; the loser is soft-deleted. A completed merge can be undone.")
pick = st.columns([1, 1, 2])
if pick[0].button("Select all open", disabled=not open_numbers):
    st.session_state[f"chosen_{sweep_id}"] = open_numbers
    st.rerun()
if pick[1].button(f"Merge {len(chosen)} clusters", type="primary", disabled=not chosen,
                  icon=":material/merge:"):
    try:
        created = review.start_merge([by_number[n] for n in chosen], sweep_id,
                                     created_by=pages.current_user(st.session_state))
    except JobcoreError as exc:
        st.error(str(exc))
    else:
        all_edits.pop(sweep_id, None)
        st.session_state.pop(f"chosen_{sweep_id}", None)
        st.switch_page(pages.JOB_DETAIL, query_params={"job": created.id})
