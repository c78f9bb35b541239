"""Dedup Clusters: review what a sweep proposed (weakest link first), compare members side
by side, change a winner, remove a member, mark "not duplicates", and start a merge."""

import streamlit as st

from app_pages.parts import cluster_edits, sweep_overview
from app_pages.parts.cluster_merge import merge_panel
from app_pages.parts.cluster_screen import ClusterScreen, cluster_list, navigation
from jobcore.dedup import cluster_review

st.title("Dedup clusters")
screen = ClusterScreen.load(sweep_overview.pick_sweep())
matching_mode = screen.result.matching or "semantic"
sweep_overview.figures(screen.job, screen.result, screen.figures)
sweep_overview.decisions_by_band(screen.job, screen.result, matching_mode)
if not screen.reviewed:
    st.success("No near-duplicates at this threshold.")
    st.stop()

names = screen.load_names()
cluster_list(screen, names)
current = navigation(screen, names)
details = cluster_review.load_members({*current.cluster.members, current.proposed_winner,
                                       *(m for pair in current.marked_apart for m in pair)})
cluster_edits.comparison(screen, current, details)
if current.state == cluster_review.OPEN:
    cluster_edits.edit_actions(screen, current, details)
cluster_edits.marked_apart(screen, current, details)
cluster_edits.why_not(screen.sweep_id, current.cluster.winner)
merge_panel(screen, names)
