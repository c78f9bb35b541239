"""Review Queue: topics flagged needs_review; accept a suggestion, fix the fields, resolve,
or retry them; the exemplars the analysts' classifications made.
"""

import pandas as pd
import streamlit as st

from app_pages.parts import messages
from app_pages.parts.topic_sections import TOPIC_PAGE, topic_url
from jobcore.access import can
from jobcore.catalog import review
from jobcore.classify import exemplars
from jobcore.classify.taxonomy import (
    ALLOWED_AUDIENCE_TYPES,
    ALLOWED_SEGMENT_TYPES,
    AUDIENCE_TYPES,
    CLASSIFICATION_FIELDS,
    SEGMENT_TYPES,
    TAXONOMY_TYPES,
    get_taxonomy,
)
from jobcore.errors import ConfigError, JobcoreError
from jobcore.ui import pages
from jobcore.ui.forms import plural
from jobcore.ui.tables import ROW_CLICK, clicked_row

user = pages.current_user(st.session_state)
EDITED = "clicked_topic"  # the topic last clicked in the table: "Edit one topic" shows it

def queue_table(everything: list) -> list:
    """The flagged topics, filtered by reason and parent category; returns those shown."""
    filters = st.columns(2)
    reasons = sorted({t.reason_pattern for t in everything})
    reason = filters[0].selectbox("Reason", ["(all)", *reasons])
    parents = sorted({t.classification.parent_category or "(none)" for t in everything})
    parent = filters[1].selectbox("In parent category", ["(all)", *parents])
    shown = [t for t in everything
             if (reason == "(all)" or t.reason_pattern == reason)
             and (parent == "(all)" or (t.classification.parent_category or "(none)") == parent)]
    total_flagged = (review.flagged_count() if len(everything) >= review.QUEUE_LIMIT
                     else len(everything))
    st.caption(f"{len(shown):,} of {len(everything):,} flagged topics"
               + (f" (the {review.QUEUE_LIMIT:,} flagged longest ago of {total_flagged:,}: resolve "
                  "or retry them and the next ones come up)"
                  if total_flagged > len(everything) else "") + ". Click one to edit it below.")
    # the classification as one path, so that the table fits 1,400 px without sideways
    # scrolling; a click on a row makes it the topic to edit below (a new key after each
    # click: the table comes back unselected)
    key = f"queue_rows_{st.session_state.setdefault('queue_clicks', 0)}"
    ids = [t.id for t in shown]
    st.dataframe(pd.DataFrame([{
        "id": t.id, "name": t.name, "reason": t.reason,
        "classification": " > ".join(v for v in (
            t.classification.segment_type, t.classification.taxonomy_type,
            t.classification.parent_category, t.classification.subcategory) if v) or "unclassified",
        "audience": t.classification.audience_type,
        "suggestions": " | ".join(x.path for x in t.suggestions), "flagged": t.flagged_at,
        "topic": topic_url(t.id)}
        for t in shown]),
        hide_index=True, width="stretch", key=key, selection_mode=ROW_CLICK,
        on_select=lambda: _edit_clicked(key, ids), column_config={
            "name": st.column_config.TextColumn(width="medium"),
            "reason": st.column_config.TextColumn(width="medium", help="Hover a cell to read it"),
            "classification": st.column_config.TextColumn(width="medium"),
            "audience": st.column_config.TextColumn(width="small"),
            "suggestions": st.column_config.TextColumn(
                width="medium", help="The classifier's two candidates; accept one below"),
            "flagged": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm", width="small"),
            "topic": TOPIC_PAGE})
    return shown


def _edit_clicked(key: str, ids: list[int]) -> None:
    row = clicked_row(st.session_state[key]["selection"])
    if row is not None:
        st.session_state[EDITED] = ids[row]
    st.session_state["queue_clicks"] += 1


def resolve_or_retry(by_id: dict) -> None:
    """Resolve the chosen topics as they are, or retry them with the rules or Claude."""
    st.subheader("Resolve or retry")
    chosen = st.multiselect("Topics", list(by_id), format_func=lambda i: f"#{i} {by_id[i].name}")
    cols = st.columns(3)
    if cols[0].button("Resolve selected", disabled=not chosen or not can("review_resolve"),
                      help="Mark them reviewed as they are"):
        st.toast(f"Resolved {plural(review.resolve(chosen, user=user), 'topic')}")
        st.rerun()
    for col, mode, label in ((cols[1], "local", "Retry with rules"),
                             (cols[2], "llm", "Retry with Claude")):
        if col.button(label, disabled=not chosen or not can("create")):
            try:
                created = review.retry(chosen, mode=mode, user=user)
            except JobcoreError as exc:
                messages.error(exc)
            else:
                st.switch_page(pages.JOB_DETAIL, query_params={"job": created.id})


def edit_one_topic(by_id: dict) -> None:
    """One topic's candidates (accept one), or its fields to fix by hand."""
    st.subheader("Edit one topic")
    # the topic last clicked in the table (unless resolved meanwhile or filtered out); each
    # click (a second one on the same row too) and each change of the list makes a new
    # selectbox, which starts on it (a kept one would show a topic no longer listed)
    options = list(by_id)
    clicked = st.session_state.get(EDITED)
    fresh = f"{st.session_state.get('queue_clicks', 0)}_{hash(tuple(options))}"
    topic_id = st.selectbox("Topic", options, format_func=lambda i: f"#{i} {by_id[i].name}",
                            index=options.index(clicked) if clicked in by_id else 0,
                            key=f"edit_topic_{fresh}", help="Or click its row in the table above")
    topic = by_id[topic_id]
    st.caption(f"Flagged: {topic.reason}")
    if topic.suggestions:
        st.markdown("**The classifier's candidates**: one click classifies the topic and keeps "
                    "it as an exemplar.")
        for column, suggestion in zip(st.columns(len(topic.suggestions)), topic.suggestions,
                                      strict=True):
            if column.button(f"Use {suggestion.path}", width="stretch",
                             key=f"accept_{topic_id}_{suggestion.node_id}"):
                try:
                    review.accept(topic_id, suggestion.node_id, user=user)
                except JobcoreError as exc:
                    messages.error(f"Not saved: {exc}")
                else:
                    st.toast(f"Classified #{topic_id} as {suggestion.path}")
                    st.rerun()
    classification_editor(topic_id, topic.classification)


def _choice(column, topic_id: int, label: str, options: list[str] | tuple[str, ...],
            value: str | None, field: str, **kwargs) -> str | None:
    """A choice that starts at the topic's value, or empty (an unclassified topic)."""
    options = list(options)
    return column.selectbox(label, options, index=options.index(value) if value in options
                            else None, placeholder="Choose", key=f"edit_{topic_id}_{field}",
                            **kwargs)


def classification_editor(topic_id: int, current) -> None:
    """The five fields, each narrowing the next, then Save and resolve."""
    taxonomy = get_taxonomy()
    # Outside a form, so that each choice narrows the next: the parent categories of the chosen
    # taxonomy type, the subcategories under the chosen parent.
    fields = st.columns(5)
    taxonomy_type = _choice(fields[1], topic_id, "Taxonomy type", TAXONOMY_TYPES,
                            current.taxonomy_type, "taxonomy_type")
    segment_type = _choice(fields[0], topic_id, "Segment type",
                           ALLOWED_SEGMENT_TYPES[taxonomy_type] if taxonomy_type else SEGMENT_TYPES,
                           current.segment_type, "segment_type")
    parent_category = _choice(fields[2], topic_id, "Parent category",
                              taxonomy.parent_categories(taxonomy_type) if taxonomy_type else [],
                              current.parent_category, "parent_category",
                              disabled=taxonomy_type is None)
    subcategories = taxonomy.subcategories(taxonomy_type, parent_category) \
        if taxonomy_type and parent_category else []
    subcategory = _choice(fields[3], topic_id, "Subcategory", ["(none)", *subcategories],
                          current.subcategory or "(none)", "subcategory",
                          disabled=not subcategories,
                          help="The subcategories the taxonomy has under the parent category")
    audience_type = _choice(fields[4], topic_id, "Audience type",
                            ALLOWED_AUDIENCE_TYPES[taxonomy_type] if taxonomy_type
                            else AUDIENCE_TYPES, current.audience_type, "audience_type")
    values = {"segment_type": segment_type, "taxonomy_type": taxonomy_type,
              "parent_category": parent_category,
              "subcategory": None if subcategory in (None, "(none)") else subcategory,
              "audience_type": audience_type}
    missing = [label for label, value in (("segment type", segment_type),
                                          ("taxonomy type", taxonomy_type),
                                          ("parent category", parent_category),
                                          ("audience type", audience_type)) if value is None]
    if missing:
        st.caption(f"Choose the {', '.join(missing)} to save.")
    if st.button("Save and resolve", type="primary", disabled=bool(missing)):
        try:
            review.edit(topic_id, {f: values[f] for f in CLASSIFICATION_FIELDS}, user=user)
        except (ConfigError, JobcoreError) as exc:
            messages.error(f"Not saved: {exc}")
        else:
            st.toast(f"Saved #{topic_id}")
            st.rerun()


st.title("Review queue")


def exemplar_panel() -> None:
    """The exemplars: what each decided, and removing them."""
    live = exemplars.listed()
    with st.expander(f"Exemplars ({len(live):,})", expanded=False):
        st.caption("A classification saved or accepted here becomes an exemplar: names with "
                   "the same leaf and framing follow it in later local reclassify runs "
                   "(forced, or when they are new or outdated).")
        if not live:
            st.info("No exemplars yet: accept a suggestion or save a classification below.")
            return
        st.dataframe(pd.DataFrame([{
            "id": e.id, "name": e.name, "classification": e.describe(),
            "topics decided": e.decided, "by": e.created_by, "created": e.created_at}
            for e in live]), hide_index=True, width="stretch", column_config={
            "name": st.column_config.TextColumn(width="medium"),
            "classification": st.column_config.TextColumn(width="large"),
            "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
        by_id = {e.id: e for e in live}
        chosen = st.multiselect("Exemplars to remove", list(by_id),
                                format_func=lambda i: f"#{i} {by_id[i].name}")
        if st.button("Remove selected exemplars", disabled=not chosen or not can("exemplar_remove"),
                     help="The topics they decided are taken again by the next local run"):
            st.toast(f"Removed {exemplars.remove(chosen, user=user)} exemplars")
            st.rerun()


exemplar_panel()
everything = review.flagged()
if not everything:
    st.success("Nothing needs review.")
    st.stop()

by_id = {t.id: t for t in queue_table(everything)}
resolve_or_retry(by_id)
edit_one_topic(by_id)
