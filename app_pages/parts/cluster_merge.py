"""The merge at the foot of the Dedup Clusters screen: the clusters accepted (by anyone,
saved on the server) or every open one on every page, and the button that starts the merge
job.
"""

import streamlit as st

from app_pages.parts import messages
from app_pages.parts.cluster_screen import ClusterScreen
from jobcore.access import can
from jobcore.dedup import cluster_decisions, cluster_review
from jobcore.errors import JobcoreError
from jobcore.ui import pages
from jobcore.ui.dedup import cluster_label
from jobcore.ui.forms import plural


def merge_panel(screen: ClusterScreen, names: dict[int, str]) -> None:
    """Choose the clusters and start their merge (then open the merge job)."""
    st.subheader("Merge")
    chosen = _chosen(screen, names)
    pick = st.columns([1, 1, 2])
    pick[0].button("Select all open", disabled=not screen.open_numbers,
                   on_click=lambda: st.session_state.update({screen.all_open_key: True}))
    if not pick[1].button(f"Merge {plural(len(chosen), 'cluster')}", type="primary",
                          disabled=not chosen or not can("create"), icon=":material/merge:",
                          help=None if can("create") else "Merging needs the operator role"):
        return
    try:
        created = cluster_review.start_merge([screen.by_number[n] for n in chosen],
                                             screen.sweep_id,
                                             created_by=pages.current_user(st.session_state))
    except JobcoreError as exc:
        messages.error(exc)
        return
    st.session_state.pop(screen.all_open_key, None)
    st.switch_page(pages.JOB_DETAIL, query_params={"job": created.id})


def _sync_accepted(screen: ClusterScreen) -> None:
    """The multiselect changed: accept the clusters added, unaccept those taken out."""
    wanted, accepted = set(st.session_state[screen.chosen_key]), set(screen.accepted())
    for number in sorted(wanted - accepted):
        screen.decide(cluster_decisions.ACCEPT, number)
    for number in sorted(accepted - wanted):
        screen.decide(cluster_decisions.UNACCEPT, number)


def _chosen(screen: ClusterScreen, names: dict[int, str]) -> list[int]:
    """Every open cluster after Select all open; else the accepted ones (this page's open
    clusters offered besides: ticking one accepts it, taking one out unaccepts it).
    """
    if st.session_state.get(screen.all_open_key) and screen.open_numbers:
        selected = st.columns([4, 1])
        selected[0].info(f"All {plural(len(screen.open_numbers), 'open cluster')} are "
                         "selected, on every page.")
        selected[1].button("Choose instead", icon=":material/checklist:",
                           on_click=lambda: st.session_state.pop(screen.all_open_key, None))
        return list(screen.open_numbers)
    accepted = list(screen.accepted())  # a copy: the figures are shared by every session
    st.session_state[screen.chosen_key] = accepted  # the server's, whoever accepted them
    choices = sorted({*accepted, *(r.number for r in screen.page_rows if r.mergeable)},
                     key=screen.figures.position.__getitem__)
    return st.multiselect(
        "Clusters to merge", choices, key=screen.chosen_key, on_change=_sync_accepted,
        args=(screen,), format_func=lambda n: cluster_label(screen.by_number[n], names),
        help="The accepted clusters (by anyone) and this page's open ones. Each loser's "
             "org links, activations and history move to the winner; the loser is "
             "soft-deleted. A completed merge can be undone.")
