"""Dedup Clusters: review what a sweep proposed (weakest link first), compare members side
by side, change a winner, remove a member, mark "not duplicates", and start a merge."""

import streamlit as st

from jobcore.access import can
from jobcore.dedup import cluster_review, explain
from jobcore.dedup.sweep_result import SweepCursor, SweepResult, verification_caption
from jobcore.errors import JobcoreError
from jobcore.jobs import runner
from jobcore.ui import dedup as dedup_ui
from jobcore.ui import pages
from jobcore.ui.dedup import (
    agreement_frame,
    bands_frame,
    claude_text,
    cluster_label,
    clusters_frame,
    comparison_frame,
    differing_fields,
    explanation_lines,
    highlight_differences,
    histogram_figure,
    score_caption,
)
from jobcore.ui.forms import plural

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
labels = {j.id: f"{j.id} · {j.status} · {j.processed_items:,}/{j.total_items:,} "
                + ("swept and verified" if j.config.get("verify") == "claude" else "swept")
          for j in sweeps}
sweep_id = st.selectbox("Sweep", ids, index=ids.index(wanted) if wanted in ids else 0,
                        format_func=labels.get)
st.query_params["job"] = sweep_id

all_edits: dict[str, dict[int, cluster_review.ClusterEdit]] = st.session_state.setdefault(
    "dedup_edits", {})
edits = all_edits.setdefault(sweep_id, {})
try:
    job, reviewed = cluster_review.load_review(sweep_id, edits)
except JobcoreError as exc:
    st.error(str(exc))
    st.stop()

result = SweepResult.of(job.result)
threshold = result.threshold or 0.0
matching_mode = result.matching or "semantic"
cols = st.columns(5)
cols[0].metric("Clusters", f"{len(reviewed):,}")
cols[1].metric("Duplicates", f"{sum(len(r.cluster.losers) for r in reviewed):,}",
               help="Losers: topics that a merge folds (or folded) into a winner, with your "
                    "edits and not-duplicates marks applied")
cols[2].metric("Open", f"{sum(r.mergeable for r in reviewed):,}",
               help="Clusters not merged yet with a loser left")
cols[3].metric("Threshold", f"{threshold:.3f}")
cols[4].metric("Search", result.search or "–",
               help="How candidates were found. lexical (hybrid matching): every name of the "
                    "same market and subject alike enough to reach the threshold; exact "
                    "(semantic, small catalogues): every vector compared; hnsw (semantic): "
                    "pgvector's index")
if result.verification is not None:
    submitted = SweepCursor.of(job.cursor).submitted
    st.caption(verification_caption(result.verification, submitted, finished=job.is_finished))
if job.status != "completed":
    what = ("topics swept and pairs verified" if job.config.get("verify") == "claude"
            else "topics swept")
    st.warning(f"This sweep is {job.status} ({job.processed_items:,} of {job.total_items:,} "
               f"{what}): the list grows as it runs.")

figure = histogram_figure(result)
if figure is not None:
    st.plotly_chart(figure, width="stretch")

bands = bands_frame(cluster_review.decisions_by_band(matching_mode), result.threshold)
with st.expander(f"Analysts' decisions by score band (all {matching_mode} sweeps)",
                 expanded=not bands.empty):
    if bands.empty:
        st.caption("No proposed pairs yet.")
    else:
        st.caption("Every pair a sweep proposed (a loser and its winner) becomes a label when "
                   "it is merged or marked not duplicates. The precision in a band is the "
                   "share of its decided pairs that were merged: choose the threshold where "
                   "it is still high enough.")
        st.dataframe(bands, hide_index=True, width="stretch")

agreement = agreement_frame(cluster_review.claude_agreement_by_band(matching_mode))
if not agreement.empty or job.config.get("verify") == "claude":
    with st.expander(f"Claude's verdicts against analysts' decisions (all {matching_mode} "
                     "sweeps)"):
        if agreement.empty:
            st.caption("Claude has not verified a pair yet.")
        else:
            st.caption("Pairs a sweep was unsure of (scoring below its threshold) that Claude "
                       "was asked about. Agreement: of the pairs analysts later merged or "
                       "marked not duplicates, the share decided as Claude said (a pair it "
                       "called different is not proposed, so only a merge by hand decides "
                       "it).")
            st.dataframe(agreement, hide_index=True, width="stretch")

if not reviewed:
    st.success("No near-duplicates at this threshold.")
    st.stop()

st.subheader("Clusters, weakest link first")
verified_sweep = job.config.get("verify") == "claude"
by_number = {r.number: r for r in reviewed}
open_numbers = [r.number for r in reviewed if r.mergeable]
numbers = [r.number for r in reviewed]
place = f"cluster_{sweep_id}"  # the cluster under review stays put across edits and reruns
if st.session_state.get(place) not in numbers:
    st.session_state[place] = numbers[0]
# the table shows the page of the cluster under review (a sweep of a large catalogue
# proposes tens of thousands: the screen reads and shows one page of them in full)
chosen_key = f"chosen_{sweep_id}"  # the clusters ticked for the merge
accepted_key = f"accepted_{sweep_id}"  # accepted one by one (not by Select all open)
page_key = f"clusters_page_{sweep_id}"
per_page = dedup_ui.CLUSTERS_PER_PAGE
page = numbers.index(st.session_state[place]) // per_page
page_rows = reviewed[page * per_page:(page + 1) * per_page]
page_count = (len(reviewed) - 1) // per_page + 1
# names of what the screen lists: this page's clusters and those ticked for the merge
names = cluster_review.load_names(
    {m for r in page_rows for m in (*r.cluster.members, r.proposed_winner)}
    | {by_number[n].proposed_winner for n in st.session_state.get(chosen_key, [])
       if n in by_number})


def _to_page() -> None:
    st.session_state[place] = numbers[(st.session_state[page_key] - 1) * per_page]


if page_count > 1:
    st.session_state[page_key] = page + 1
    pager = st.columns([1, 4])
    pager[0].number_input("Page", min_value=1, max_value=page_count, step=1, key=page_key,
                          on_change=_to_page)
    pager[1].caption(f"Clusters {page * per_page + 1:,}-"
                     f"{page * per_page + len(page_rows):,} of {len(reviewed):,} "
                     f"(page {page + 1:,} of {page_count:,}; the page follows the cluster "
                     "under review)")
st.dataframe(clusters_frame(page_rows, names, verified=verified_sweep), hide_index=True,
             width="stretch", column_config={  # narrow figures: the names get the width
                 "#": st.column_config.NumberColumn(width=45),
                 "Members": st.column_config.NumberColumn(width=70),
                 "Weakest link": st.column_config.NumberColumn(format="%.4f", width=95),
                 "Claude": st.column_config.TextColumn(width=80),
                 "State": st.column_config.TextColumn(width=110)})

st.subheader("Review a cluster")


def _step(offset: int) -> None:
    at = numbers.index(st.session_state[place])
    st.session_state[place] = numbers[(at + offset) % len(numbers)]


def _next_open() -> None:
    at = numbers.index(st.session_state[place])
    later = numbers[at + 1:] + numbers[:at]
    accepted_ones = st.session_state.get(accepted_key, set())
    st.session_state[place] = next(
        (n for n in later if by_number[n].mergeable and not by_number[n].edited
         and n not in accepted_ones), st.session_state[place])


def _accept() -> None:
    st.session_state.setdefault(accepted_key, set()).add(st.session_state[place])
    ticked = list(st.session_state.get(chosen_key, []))
    if st.session_state[place] not in ticked and by_number[st.session_state[place]].mergeable:
        ticked.append(st.session_state[place])
    st.session_state[chosen_key] = ticked
    _next_open()


# reviewed: looked at and decided; Select all open ticks clusters nobody has looked at yet
accepted = st.session_state.get(accepted_key, set())
decided = sum(r.state != cluster_review.OPEN or r.edited or r.number in accepted for r in reviewed)
nav = st.columns([1, 1, 1.3, 1, 2.7])
nav[0].button("Previous", icon=":material/arrow_back:", on_click=_step, args=(-1,),
              width="stretch", shortcut="P")
nav[1].button("Next", icon=":material/arrow_forward:", on_click=_step, args=(1,),
              width="stretch", shortcut="N")
nav[2].button("Next open", icon=":material/skip_next:", on_click=_next_open,
              width="stretch", shortcut="O",
              help="The next open cluster nobody has edited or accepted yet")
nav[3].button("Accept", icon=":material/check:", on_click=_accept, type="primary",
              width="stretch", shortcut="A",
              disabled=not by_number[st.session_state[place]].mergeable,
              help="Tick this cluster for the merge below and go to the next open one")
nav[4].progress(decided / len(reviewed),
                text=f"{decided:,} of {len(reviewed):,} clusters reviewed (accepted, edited, "
                     "merged, or with a pair marked not duplicates)")
number = st.selectbox("Cluster", [r.number for r in page_rows], key=place,
                      format_func=lambda n: cluster_label(by_number[n], names),
                      help="The clusters of this page; Previous and Next go on to the others")
current = by_number[number]
details = cluster_review.load_members({*current.cluster.members, current.proposed_winner,
                               *(m for pair in current.marked_apart for m in pair)})
edit = edits.setdefault(number, cluster_review.ClusterEdit())
if current.state != cluster_review.OPEN:
    st.info("This cluster is already merged." if current.state == cluster_review.MERGED else
            "A member of this cluster has since been merged or deleted; it cannot be merged "
            "as proposed.")
comparison = comparison_frame(current, details, verified=verified_sweep,
                              threshold=result.threshold)
st.caption(score_caption(matching_mode, threshold))
different = differing_fields(comparison)
st.caption("Highlighted: differs from the winner"
           + (f" ({', '.join(different)})." if different else " (nothing does)."))
# member columns share the width, so up to four members fit 1,400 px without sideways
# scrolling (a long description shows whole on hover)
member_width = max(150, 760 // max(len(comparison.columns), 1))
st.dataframe(highlight_differences(comparison), width="stretch", column_config={
    "_index": st.column_config.Column(width=115),
    **{name: st.column_config.Column(width=member_width) for name in comparison.columns}})
verdicts = [(i, current.cluster.evidence[i].claude) for i, _ in current.cluster.losers
            if i in current.cluster.evidence and current.cluster.evidence[i].claude]
for topic_id, verdict in verdicts:  # whole (the table's cell cuts a long reason short)
    st.caption(f"**#{topic_id} · {details[topic_id].name}**: {claude_text(verdict)}")
unverified_below = [i for i, score in current.cluster.losers
                    if score < threshold and not (
                        i in current.cluster.evidence
                        and current.cluster.evidence[i].claude is not None)]
if unverified_below:
    st.warning("With this winner, a member is below the sweep's threshold: check that it "
               "really is a duplicate.")

if current.state == cluster_review.OPEN:
    actions = st.columns(3)
    members = list(current.cluster.members)
    with actions[0]:
        new_winner = st.selectbox("Winner", members, key=f"winner_{sweep_id}_{number}",
                                  format_func=lambda i: f"#{i} · {details[i].name}")
        if st.button("Make winner", disabled=new_winner == current.cluster.winner,
                     shortcut="W"):
            edit.winner = new_winner
            st.rerun()
    losers = [i for i, _ in current.cluster.losers]
    with actions[1]:
        member = st.selectbox("Member", losers, key=f"member_{sweep_id}_{number}",
                              format_func=lambda i: f"#{i} · {details[i].name}")
        if st.button("Remove from cluster", disabled=member is None):
            edit.removed.add(member)
            st.rerun()
        asking = f"confirm_not_duplicates_{sweep_id}"
        if st.button("Not duplicates", disabled=member is None or not can("mark_not_duplicates"),
                     shortcut="X",
                     help="Remember that this topic and the winner are different segments; "
                          "later sweeps will not propose them again (asks first; undo below)"):
            st.session_state[asking] = (number, member)
            st.rerun()
    if member is not None and st.session_state.get(asking) == (number, member):
        st.warning(f"Mark **{details[member].name}** and **{details[current.cluster.winner].name}"
                   "** as different segments? Later sweeps will not propose them again; you "
                   "can undo it here.")
        confirm = st.columns([1, 1, 4])
        if confirm[0].button("Mark not duplicates", type="primary", shortcut="Y"):
            cluster_review.mark_not_duplicates(
                member, current.cluster.winner,
                created_by=pages.current_user(st.session_state), sweep_id=sweep_id)
            st.session_state.pop(asking, None)
            st.rerun()
        if confirm[1].button("Keep them", shortcut="Esc"):
            st.session_state.pop(asking, None)
            st.rerun()
    with actions[2]:
        if current.edited and edit != cluster_review.ClusterEdit() and st.button(
                "Reset edits", icon=":material/restart_alt:",
                help="Back to the winner and members the sweep proposed"):
            edits.pop(number, None)
            st.rerun()
if current.marked_apart:
    st.caption("Marked not duplicates (left out of this cluster):")
    for a, b in current.marked_apart:
        row = st.columns([4, 1])
        row[0].write(f"{details[a].name} · #{a}  ≠  {details[b].name} · #{b}")
        if row[1].button("Undo", key=f"unrefuse_{sweep_id}_{a}_{b}",
                         disabled=not can("unmark_not_duplicates"),
                         icon=":material/undo:"):
            cluster_review.unmark_not_duplicates(a, b)
            st.rerun()

with st.expander("Why not? Ask about two topics", icon=":material/help:"):
    with st.form(f"why_not_{sweep_id}", border=False):
        asked = st.columns(2)
        first = asked[0].text_input("First topic", placeholder="#123 or its exact name",
                                    value=f"#{current.cluster.winner}")
        second = asked[1].text_input("Second topic", placeholder="#456 or its exact name")
        submitted = st.form_submit_button("Explain", icon=":material/search:")
    if submitted:
        try:
            found = explain.why_not(sweep_id, first, second)
        except JobcoreError as exc:
            st.error(str(exc))
        else:
            for line in explanation_lines(found):
                st.markdown(line)

st.subheader("Merge")
open_set = set(open_numbers)
all_open_key = f"all_open_{sweep_id}"  # Select all open: every open cluster, on any page
if any(n not in open_set for n in st.session_state.get(chosen_key, [])):
    st.session_state[chosen_key] = [n for n in st.session_state[chosen_key] if n in open_set]
if st.session_state.get(all_open_key) and open_numbers:
    chosen = open_numbers
    # the clusters ticked one by one stay for "Choose instead" (a widget's state goes with a
    # run that does not show it, unless set again)
    st.session_state[chosen_key] = st.session_state.get(chosen_key, [])
    selected = st.columns([4, 1])
    selected[0].info(f"All {plural(len(open_numbers), 'open cluster')} are selected, on every "
                     "page.")
    selected[1].button("Choose instead", icon=":material/checklist:",
                       on_click=lambda: st.session_state.pop(all_open_key, None))
else:
    ticked = st.session_state.get(chosen_key, [])
    choices = sorted({*ticked, *(r.number for r in page_rows if r.mergeable)},
                     key=numbers.index)
    chosen = st.multiselect(
        "Clusters to merge", choices, key=chosen_key,
        format_func=lambda n: cluster_label(by_number[n], names),
        help="The open clusters of this page and those ticked on other pages. Each loser's "
             "org links, activations and history move to the winner; the loser is "
             "soft-deleted. A completed merge can be undone.")
pick = st.columns([1, 1, 2])
pick[0].button("Select all open", disabled=not open_numbers,
               on_click=lambda: st.session_state.update({all_open_key: True}))
if pick[1].button(f"Merge {plural(len(chosen), 'cluster')}", type="primary",
                  disabled=not chosen or not can("create"), icon=":material/merge:",
                  help=None if can("create") else "Merging needs the operator role"):
    try:
        created = cluster_review.start_merge([by_number[n] for n in chosen], sweep_id,
                                     created_by=pages.current_user(st.session_state))
    except JobcoreError as exc:
        st.error(str(exc))
    else:
        all_edits.pop(sweep_id, None)
        st.session_state.pop(chosen_key, None)
        st.session_state.pop(all_open_key, None)
        st.switch_page(pages.JOB_DETAIL, query_params={"job": created.id})
