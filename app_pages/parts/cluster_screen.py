"""The clusters of one sweep on the Dedup Clusters screen: what the list, the review and
the merge share in a run of the page (the cluster under review, the page of the list;
analysts' decisions, read from and written to the server as they are made), the list itself
and the review's navigation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app_pages.parts import messages
from jobcore.dedup import cluster_decisions, cluster_review
from jobcore.dedup.cluster_review import ReviewedCluster
from jobcore.dedup.review_figures import figures_of
from jobcore.dedup.sweep_result import SweepResult
from jobcore.errors import JobcoreError
from jobcore.jobs.store import Job
from jobcore.ui import dedup as dedup_ui
from jobcore.ui import pages
from jobcore.ui.dedup import cluster_label, clusters_frame, review_text
from jobcore.ui.tables import ROW_CLICK, clicked_row


class _ByNumber(Mapping[int, ReviewedCluster]):
    """The listed clusters by number (looked up through the figures' positions)."""

    def __init__(self, listed: Sequence[ReviewedCluster], position: dict[int, int]) -> None:
        self._listed, self._position = listed, position

    def __getitem__(self, number: int) -> ReviewedCluster:
        return self._listed[self._position[number]]

    def __contains__(self, number: object) -> bool:
        return number in self._position

    def __iter__(self) -> Iterator[int]:
        return iter(self._position)

    def __len__(self) -> int:
        return len(self._position)


@dataclass
class ClusterScreen:
    """One sweep's reviewed clusters and where the analyst is among them (the cluster under
    review stays put across edits and reruns; the list shows its page).
    """

    sweep_id: str
    job: Job
    reviewed: Sequence[ReviewedCluster]

    @classmethod
    def load(cls, sweep_id: str) -> ClusterScreen:
        """The sweep's clusters with analysts' decisions applied (stops on an error)."""
        try:
            job, reviewed = cluster_review.load_review(sweep_id)
        except JobcoreError as exc:
            messages.error(exc)
            st.stop()
        return cls(sweep_id, job, reviewed)

    def __post_init__(self) -> None:
        sort = st.session_state.get(SORT_KEY, next(iter(SORTS)))
        figures = figures_of(self.reviewed)
        if SORTS[sort] is not cluster_review.weakest_first:  # the review's order already
            self.reviewed, figures = figures.sorted_by(sort, SORTS[sort])
        self.result = SweepResult.of(self.job.result)
        # counted once per review (a million-topic sweep lists 280,000 clusters); a decision
        # made during a rerun shows from the next one
        self.figures = figures
        self.numbers = figures.numbers
        self.open_numbers = figures.open_numbers
        self.by_number = _ByNumber(self.reviewed, figures.position)
        self.verified = self.job.config.get("verify") == "claude"
        self.user = pages.current_user(st.session_state)
        self.place = f"cluster_{self.sweep_id}"  # the cluster under review
        self.chosen_key = f"chosen_{self.sweep_id}"  # the merge's multiselect
        self.page_key = f"clusters_page_{self.sweep_id}"
        self.list_clicks_key = f"cluster_list_clicks_{self.sweep_id}"  # the list's key
        self.url_key = f"cluster_in_url_{self.sweep_id}"  # the cluster the URL last named
        self.all_open_key = f"all_open_{self.sweep_id}"  # Select all open, on every page
        if self.reviewed and st.session_state.get(self.place) not in self.by_number:
            st.session_state[self.place] = self.numbers[0]
        if self.reviewed:
            self._follow_link()

    def _follow_link(self) -> None:
        """A link to one cluster (``?cluster=N``, from a topic's page or a copied URL)
        opens it; the URL then follows the cluster under review.
        """
        wanted = st.query_params.get("cluster")
        if wanted is None or wanted == st.session_state.get(self.url_key):
            return
        st.session_state[self.url_key] = wanted
        if wanted.isdigit() and int(wanted) in self.by_number:
            st.session_state[self.place] = int(wanted)
        else:
            st.warning(f"This sweep has no cluster {wanted[:20]!r}: showing cluster "
                       f"#{self.current}.")

    def keep_in_url(self, number: int) -> None:
        st.query_params["cluster"] = str(number)
        st.session_state[self.url_key] = str(number)

    @property
    def current(self) -> int:
        return st.session_state[self.place]

    @property
    def page(self) -> int:
        return self.figures.position[self.current] // dedup_ui.CLUSTERS_PER_PAGE

    @property
    def page_rows(self) -> list[ReviewedCluster]:
        per_page = dedup_ui.CLUSTERS_PER_PAGE
        return list(self.reviewed[self.page * per_page:(self.page + 1) * per_page])

    def accepted(self) -> tuple[int, ...]:
        """The open clusters analysts accepted for the merge, in the list's order."""
        return self.figures.accepted_numbers

    def load_names(self) -> dict[int, str]:
        """Names of what the screen lists: this page's clusters and those accepted."""
        return cluster_review.load_names(
            {m for r in self.page_rows for m in (*r.cluster.members, r.proposed_winner)}
            | {self.by_number[n].proposed_winner for n in self.accepted()})

    def decide(self, action: str, cluster: int | None = None,
               topic_id: int | None = None) -> None:
        """Record the analyst's decision on a cluster (by default the one under review)."""
        cluster_review.record_decision(self.sweep_id, cluster or self.current, action,
                                       topic_id, by=self.user)

    def undo_last(self) -> None:
        """Undo the analyst's last decision on this sweep and show its cluster."""
        undone = cluster_review.undo_last_decision(self.sweep_id, by=self.user)
        st.session_state["undone_decision"] = undone
        if undone is not None and undone.cluster in self.by_number:
            st.session_state[self.place] = undone.cluster

    def open_clicked(self, key: str, rows: list[ReviewedCluster]) -> None:
        """A click on a row of the list (``rows``, shown under ``key``) reviews that cluster."""
        row = clicked_row(st.session_state[key]["selection"])
        if row is not None:
            st.session_state[self.place] = rows[row].number
        st.session_state[self.list_clicks_key] += 1

    def to_page(self) -> None:
        st.session_state[self.place] = self.numbers[
            (st.session_state[self.page_key] - 1) * dedup_ui.CLUSTERS_PER_PAGE]

    def step(self, offset: int) -> None:
        at = self.figures.position[self.current]
        st.session_state[self.place] = self.numbers[(at + offset) % len(self.numbers)]

    def next_open(self) -> None:
        """To the next open cluster nobody has edited or accepted yet (else stay)."""
        at = self.figures.position[self.current]
        later = self.numbers[at + 1:] + self.numbers[:at]
        st.session_state[self.place] = next(
            (n for n in later if self.by_number[n].mergeable
             and not self.by_number[n].decided), self.current)

    def accept(self) -> None:
        """Accept the cluster under review for the merge and go to the next open one that
        nobody has decided on (another analyst may be working through the same sweep).
        """
        self.decide(cluster_decisions.ACCEPT)
        self.next_open()

    def decided(self) -> int:
        """Clusters looked at and decided, by anyone (Select all open decides none)."""
        return self.figures.decided


# the list's orders (Previous and Next follow it): weakest link first, the sweep's own
SORT_KEY = "cluster_sort"
SORTS: dict[str, Any] = {
    "weakest link first": cluster_review.weakest_first,  # the review's own order
    "largest first": lambda r: (-len(r.cluster.members), r.number),
    "strongest first": lambda r: (-(r.weakest or 0.0), r.number),
    "cluster number": lambda r: r.number,
}

_LIST_COLUMNS: dict[str, Any] = {  # every column within 1,400 px; hover a name to read it
    "": st.column_config.TextColumn(width=28, help="The cluster under review"),
    "#": st.column_config.NumberColumn(width=45),
    "Winner": st.column_config.TextColumn(width=215),
    "Losers": st.column_config.TextColumn(width=215),
    "Members": st.column_config.NumberColumn(width=70),
    "Weakest link": st.column_config.NumberColumn(format="%.4f", width=95),
    "Claude": st.column_config.TextColumn(width=80),
    "State": st.column_config.TextColumn(width=100),
    "Review": st.column_config.TextColumn(width=120)}


def cluster_list(screen: ClusterScreen, names: dict[int, str]) -> None:
    """The page of clusters holding the one under review (a sweep of a large catalogue
    proposes tens of thousands: the screen reads and shows one page of them in full).
    """
    heading = st.columns([3, 1], vertical_alignment="bottom")
    heading[0].subheader(f"Clusters, {st.session_state.get(SORT_KEY, next(iter(SORTS)))}")
    heading[1].selectbox("Order", list(SORTS), key=SORT_KEY,
                         help="The list's order; Previous and Next follow it")
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
    st.caption("Click a cluster to review it.")
    # a new key after each click: the table comes back unselected, so Previous and Next
    # are not pulled back to the clicked cluster
    clicks = st.session_state.setdefault(screen.list_clicks_key, 0)
    key = f"cluster_rows_{screen.sweep_id}_{clicks}"
    st.dataframe(clusters_frame(rows, names, verified=screen.verified,
                                current=screen.current), hide_index=True,
                 width="stretch", column_config=_LIST_COLUMNS, key=key, on_select=lambda:
                 screen.open_clicked(key, rows), selection_mode=ROW_CLICK)


SHORTCUTS = (("P / N", "previous / next cluster"), ("O", "next open cluster nobody decided"),
             ("A", "accept for the merge, then next open"), ("U", "undo your last decision"),
             ("W", "make the chosen member the winner"), ("X", "not duplicates (asks first)"),
             ("Y / Esc", "confirm / keep them"), ("H", "this list"))


@st.dialog("Keyboard shortcuts")
def _shortcuts() -> None:
    st.table({"Key": [k for k, _ in SHORTCUTS], "Does": [d for _, d in SHORTCUTS]})
    st.caption("Streamlit takes single letters and keys like Esc, not punctuation: H for help.")


def _buttons(screen: ClusterScreen) -> None:
    current = screen.by_number[screen.current]
    nav = st.columns([1, 1, 1.3, 1, 1.2, 1])
    nav[0].button("Previous", icon=":material/arrow_back:", on_click=screen.step, args=(-1,),
                  width="stretch", shortcut="P")
    nav[1].button("Next", icon=":material/arrow_forward:", on_click=screen.step, args=(1,),
                  width="stretch", shortcut="N")
    nav[2].button("Next open", icon=":material/skip_next:", on_click=screen.next_open,
                  width="stretch", shortcut="O",
                  help="The next open cluster nobody has accepted or edited yet")
    nav[3].button("Accept", icon=":material/check:", on_click=screen.accept, type="primary",
                  width="stretch", shortcut="A",
                  disabled=not current.mergeable or current.accepted,
                  help="Accepted already" if current.accepted else
                  "Accept this cluster for the merge below and go to the next open one "
                  "(saved at once: a reload or another analyst sees it)")
    nav[4].button("Undo mine", icon=":material/undo:", on_click=screen.undo_last,
                  width="stretch", shortcut="U",
                  help="Undo your last decision on this sweep (accept, winner, removal, reset)")
    if nav[5].button("Keys", icon=":material/keyboard:", width="stretch", shortcut="H",
                     help="The keyboard shortcuts"):
        _shortcuts()


def navigation(screen: ClusterScreen, names: dict[int, str]) -> ReviewedCluster:
    """Previous, Next, Next open, Accept, Undo, the progress of the review (everyone's
    decisions) and the cluster picker; returns the cluster under review.
    """
    st.subheader("Review a cluster")
    _buttons(screen)
    undone = st.session_state.pop("undone_decision", False)
    if undone is None:
        st.info("You have no decision on this sweep left to undo.")
    elif undone:
        st.success(f"Undone: your {undone.action} on cluster #{undone.cluster}.")
    total = len(screen.reviewed)
    st.progress(screen.decided() / total,
                text=f"{screen.decided():,} of {total:,} clusters reviewed (accepted, edited, "
                     "merged, or with a pair marked not duplicates; by anyone, saved as made)")
    number = st.selectbox("Cluster", [r.number for r in screen.page_rows], key=screen.place,
                          format_func=lambda n: cluster_label(screen.by_number[n], names),
                          help="The clusters of this page; Previous and Next go on to the "
                               "others")
    current = screen.by_number[number]
    screen.keep_in_url(number)
    if current.decision.decided_by is not None:
        st.caption(review_text(current, when=True) + ".")
    return current
