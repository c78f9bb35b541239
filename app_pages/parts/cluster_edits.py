"""The cluster under review on the Dedup Clusters screen: its members side by side, the
decisions an analyst makes on it (winner, removal, reset: saved on the server as made;
not-duplicates marks) and "Why not?".
"""

import streamlit as st

from app_pages.parts import messages
from app_pages.parts.cluster_screen import ClusterScreen
from app_pages.parts.topic_sections import topic_url
from jobcore.access import can
from jobcore.dedup import cluster_decisions, cluster_review, explain
from jobcore.dedup.cluster_review import Member, ReviewedCluster
from jobcore.errors import JobcoreError
from jobcore.ui import pages
from jobcore.ui.dedup import (
    claude_text,
    comparison_frame,
    differing_fields,
    explanation_lines,
    highlight_differences,
    score_caption,
)

_ROW_HEIGHT = 35  # a st.dataframe row, in pixels


def comparison(screen: ClusterScreen, current: ReviewedCluster,
               details: dict[int, Member]) -> None:
    """The members side by side (what differs from the winner highlighted), Claude's
    verdicts whole, and a warning for a member below the threshold with this winner.
    """
    if current.state != cluster_review.OPEN:
        st.info("This cluster is already merged." if current.state == cluster_review.MERGED
                else "A member of this cluster has since been merged or deleted; it cannot "
                     "be merged as proposed.")
    threshold = screen.result.threshold
    frame = comparison_frame(current, details, verified=screen.verified, threshold=threshold)
    st.caption(score_caption(screen.result.matching or "semantic", threshold or 0.0))
    different = differing_fields(frame)
    st.caption("Highlighted: differs from the winner"
               + (f" ({', '.join(different)})." if different else " (nothing does)."))
    # member columns share the width, so up to four members fit 1,400 px without sideways
    # scrolling (a long description shows whole on hover)
    member_width = max(150, 760 // max(len(frame.columns), 1))
    # every row shown (the caption above names fields that a scrolled table hid)
    st.dataframe(highlight_differences(frame), width="stretch",
                 height=_ROW_HEIGHT * (len(frame) + 1) + 3, column_config={
        "_index": st.column_config.Column(width=115),
        **{name: st.column_config.Column(width=member_width) for name in frame.columns}})
    st.markdown("Topic pages (new tab): " + " · ".join(
        f"[#{i}]({topic_url(i)})" for i in current.cluster.members))
    evidence = current.cluster.evidence
    for topic_id, _ in current.cluster.losers:  # whole (the table's cell cuts a reason short)
        if topic_id in evidence and evidence[topic_id].claude:
            st.caption(f"**#{topic_id} · {details[topic_id].name}**: "
                       f"{claude_text(evidence[topic_id].claude)}")
    if any(score < (threshold or 0.0) and not (i in evidence and evidence[i].claude is not None)
           for i, score in current.cluster.losers):
        st.warning("With this winner, a member is below the sweep's threshold: check that it "
                   "really is a duplicate.")


def edit_actions(screen: ClusterScreen, current: ReviewedCluster,
                 details: dict[int, Member]) -> None:
    """Make winner, Remove from cluster, Not duplicates (asked first) and Reset edits."""
    number, sweep_id = current.number, screen.sweep_id
    actions = st.columns(3)
    with actions[0]:
        new_winner = st.selectbox("Winner", list(current.cluster.members),
                                  key=f"winner_{sweep_id}_{number}",
                                  format_func=lambda i: f"#{i} · {details[i].name}")
        if st.button("Make winner", disabled=new_winner == current.cluster.winner,
                     shortcut="W"):
            screen.decide(cluster_decisions.WINNER, number, new_winner)
            st.rerun()
    with actions[1]:
        member = st.selectbox("Member", [i for i, _ in current.cluster.losers],
                              key=f"member_{sweep_id}_{number}",
                              format_func=lambda i: f"#{i} · {details[i].name}")
        if st.button("Remove from cluster", disabled=member is None):
            screen.decide(cluster_decisions.REMOVE, number, member)
            st.rerun()
        if st.button("Not duplicates", disabled=member is None or not can("mark_not_duplicates"),
                     shortcut="X",
                     help="Remember that this topic and the winner are different segments; "
                          "later sweeps will not propose them again (asks first; undo below)"):
            st.session_state[_asking(sweep_id)] = (number, member)
            st.rerun()
    if member is not None and st.session_state.get(_asking(sweep_id)) == (number, member):
        _confirm_not_duplicates(sweep_id, member, current.cluster.winner, details)
    with actions[2]:
        if current.decision.changes and st.button(
                "Reset edits", icon=":material/restart_alt:",
                help="Back to the winner and members the sweep proposed (and not accepted)"):
            screen.decide(cluster_decisions.RESET, number)
            st.rerun()


def _asking(sweep_id: str) -> str:
    return f"confirm_not_duplicates_{sweep_id}"


def _confirm_not_duplicates(sweep_id: str, member: int, winner: int,
                            details: dict[int, Member]) -> None:
    st.warning(f"Mark **{details[member].name}** and **{details[winner].name}** as different "
               "segments? Later sweeps will not propose them again; you can undo it here.")
    confirm = st.columns([1, 1, 4])
    if confirm[0].button("Mark not duplicates", type="primary", shortcut="Y"):
        cluster_review.mark_not_duplicates(
            member, winner, created_by=pages.current_user(st.session_state), sweep_id=sweep_id)
        st.session_state.pop(_asking(sweep_id), None)
        st.rerun()
    if confirm[1].button("Keep them", shortcut="Esc"):
        st.session_state.pop(_asking(sweep_id), None)
        st.rerun()


def marked_apart(screen: ClusterScreen, current: ReviewedCluster,
                 details: dict[int, Member]) -> None:
    """The pairs of this cluster marked not duplicates, each with Undo."""
    if not current.marked_apart:
        return
    st.caption("Marked not duplicates (left out of this cluster):")
    for a, b in current.marked_apart:
        row = st.columns([4, 1])
        row[0].write(f"{details[a].name} · #{a}  ≠  {details[b].name} · #{b}")
        if row[1].button("Undo", key=f"unrefuse_{screen.sweep_id}_{a}_{b}",
                         disabled=not can("unmark_not_duplicates"), icon=":material/undo:"):
            cluster_review.unmark_not_duplicates(a, b)
            st.rerun()


def why_not(sweep_id: str, winner: int) -> None:
    """Ask why two topics are (not) in a cluster together."""
    with st.expander("Why not? Ask about two topics", icon=":material/help:"):
        with st.form(f"why_not_{sweep_id}", border=False):
            asked = st.columns(2)
            first = asked[0].text_input("First topic", placeholder="#123 or its exact name",
                                        value=f"#{winner}")
            second = asked[1].text_input("Second topic", placeholder="#456 or its exact name")
            submitted = st.form_submit_button("Explain", icon=":material/search:")
        if not submitted:
            return
        try:
            found = explain.why_not(sweep_id, first, second)
        except JobcoreError as exc:
            messages.error(exc)
        else:
            for line in explanation_lines(found):
                st.markdown(line)
