"""The clusters of one sweep on the Dedup Clusters screen: what the list, the review and
the merge share in a run of the page (the cluster under review, the page of the list, the
clusters ticked and accepted), the list itself and the review's navigation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from jobcore.dedup import cluster_review
from jobcore.dedup.cluster_review import ClusterEdit, ReviewedCluster
from jobcore.dedup.sweep_result import SweepResult
from jobcore.errors import JobcoreError
from jobcore.jobs.store import Job
from jobcore.ui import dedup as dedup_ui
from jobcore.ui.dedup import cluster_label, clusters_frame


@dataclass
class ClusterScreen:
    """One sweep's reviewed clusters and where the analyst is among them (the cluster under
    review stays put across edits and reruns; the list shows its page).
    """

    sweep_id: str
    job: Job
    reviewed: list[ReviewedCluster]
    edits: dict[int, ClusterEdit]  # this sweep's edits, kept in the session

    @classmethod
    def load(cls, sweep_id: str) -> ClusterScreen:
        """The sweep's clusters with the session's edits applied (stops on an error)."""
        all_edits = st.session_state.setdefault("dedup_edits", {})
        edits = all_edits.setdefault(sweep_id, {})
        try:
            job, reviewed = cluster_review.load_review(sweep_id, edits)
        except JobcoreError as exc:
            st.error(str(exc))
            st.stop()
        return cls(sweep_id, job, reviewed, edits)

    def __post_init__(self) -> None:
        self.result = SweepResult.of(self.job.result)
        self.by_number = {r.number: r for r in self.reviewed}
        self.numbers = [r.number for r in self.reviewed]
        self.open_numbers = [r.number for r in self.reviewed if r.mergeable]
        self.verified = self.job.config.get("verify") == "claude"
        self.place = f"cluster_{self.sweep_id}"  # the cluster under review
        self.chosen_key = f"chosen_{self.sweep_id}"  # the clusters ticked for the merge
        self.accepted_key = f"accepted_{self.sweep_id}"  # accepted one by one
        self.page_key = f"clusters_page_{self.sweep_id}"
        self.all_open_key = f"all_open_{self.sweep_id}"  # Select all open, on every page
        if self.reviewed and st.session_state.get(self.place) not in self.numbers:
            st.session_state[self.place] = self.numbers[0]

    @property
    def current(self) -> int:
        return st.session_state[self.place]

    @property
    def page(self) -> int:
        return self.numbers.index(self.current) // dedup_ui.CLUSTERS_PER_PAGE

    @property
    def page_rows(self) -> list[ReviewedCluster]:
        per_page = dedup_ui.CLUSTERS_PER_PAGE
        return self.reviewed[self.page * per_page:(self.page + 1) * per_page]

    def ticked(self) -> list[int]:
        return st.session_state.get(self.chosen_key, [])

    def accepted(self) -> set[int]:
        return st.session_state.get(self.accepted_key, set())

    def load_names(self) -> dict[int, str]:
        """Names of what the screen lists: this page's clusters and those ticked."""
        return cluster_review.load_names(
            {m for r in self.page_rows for m in (*r.cluster.members, r.proposed_winner)}
            | {self.by_number[n].proposed_winner for n in self.ticked() if n in self.by_number})

    def to_page(self) -> None:
        st.session_state[self.place] = self.numbers[
            (st.session_state[self.page_key] - 1) * dedup_ui.CLUSTERS_PER_PAGE]

    def step(self, offset: int) -> None:
        at = self.numbers.index(self.current)
        st.session_state[self.place] = self.numbers[(at + offset) % len(self.numbers)]

    def next_open(self) -> None:
        """To the next open cluster nobody has edited or accepted yet (else stay)."""
        at = self.numbers.index(self.current)
        later = self.numbers[at + 1:] + self.numbers[:at]
        st.session_state[self.place] = next(
            (n for n in later if self.by_number[n].mergeable and not self.by_number[n].edited
             and n not in self.accepted()), self.current)

    def accept(self) -> None:
        """Tick the cluster under review for the merge and go to the next open one."""
        st.session_state.setdefault(self.accepted_key, set()).add(self.current)
        ticked = list(self.ticked())
        if self.current not in ticked and self.by_number[self.current].mergeable:
            ticked.append(self.current)
        st.session_state[self.chosen_key] = ticked
        self.next_open()

    def decided(self) -> int:
        """Clusters looked at and decided (Select all open ticks ones nobody looked at)."""
        accepted = self.accepted()
        return sum(r.state != cluster_review.OPEN or r.edited or r.number in accepted
                   for r in self.reviewed)


_LIST_COLUMNS: dict[str, Any] = {  # narrow figures: the names get the width
    "#": st.column_config.NumberColumn(width=45),
    "Members": st.column_config.NumberColumn(width=70),
    "Weakest link": st.column_config.NumberColumn(format="%.4f", width=95),
    "Claude": st.column_config.TextColumn(width=80),
    "State": st.column_config.TextColumn(width=110)}


def cluster_list(screen: ClusterScreen, names: dict[int, str]) -> None:
    """The page of clusters holding the one under review (a sweep of a large catalogue
    proposes tens of thousands: the screen reads and shows one page of them in full).
    """
    st.subheader("Clusters, weakest link first")
    per_page, page, rows = dedup_ui.CLUSTERS_PER_PAGE, screen.page, screen.page_rows
    page_count = (len(screen.reviewed) - 1) // per_page + 1
    if page_count > 1:
        st.session_state[screen.page_key] = page + 1
        pager = st.columns([1, 4])
        pager[0].number_input("Page", min_value=1, max_value=page_count, step=1,
                              key=screen.page_key, on_change=screen.to_page)
        pager[1].caption(f"Clusters {page * per_page + 1:,}-{page * per_page + len(rows):,} "
                         f"of {len(screen.reviewed):,} (page {page + 1:,} of {page_count:,}; "
                         "the page follows the cluster under review)")
    st.dataframe(clusters_frame(rows, names, verified=screen.verified), hide_index=True,
                 width="stretch", column_config=_LIST_COLUMNS)


def navigation(screen: ClusterScreen, names: dict[int, str]) -> ReviewedCluster:
    """Previous, Next, Next open, Accept, the progress of the review and the cluster
    picker; returns the cluster under review.
    """
    st.subheader("Review a cluster")
    nav = st.columns([1, 1, 1.3, 1, 2.7])
    nav[0].button("Previous", icon=":material/arrow_back:", on_click=screen.step, args=(-1,),
                  width="stretch", shortcut="P")
    nav[1].button("Next", icon=":material/arrow_forward:", on_click=screen.step, args=(1,),
                  width="stretch", shortcut="N")
    nav[2].button("Next open", icon=":material/skip_next:", on_click=screen.next_open,
                  width="stretch", shortcut="O",
                  help="The next open cluster nobody has edited or accepted yet")
    nav[3].button("Accept", icon=":material/check:", on_click=screen.accept, type="primary",
                  width="stretch", shortcut="A",
                  disabled=not screen.by_number[screen.current].mergeable,
                  help="Tick this cluster for the merge below and go to the next open one")
    total = len(screen.reviewed)
    nav[4].progress(screen.decided() / total,
                    text=f"{screen.decided():,} of {total:,} clusters reviewed (accepted, "
                         "edited, merged, or with a pair marked not duplicates)")
    number = st.selectbox("Cluster", [r.number for r in screen.page_rows], key=screen.place,
                          format_func=lambda n: cluster_label(screen.by_number[n], names),
                          help="The clusters of this page; Previous and Next go on to the "
                               "others")
    return screen.by_number[number]
