"""Review Queue: topics flagged needs_review; fix the fields, resolve, or retry them."""

import pandas as pd
import streamlit as st

from jobcore.catalog import review
from jobcore.classify.taxonomy import (
    AUDIENCE_TYPES,
    CLASSIFICATION_FIELDS,
    SEGMENT_TYPES,
    TAXONOMY_TYPES,
    get_taxonomy,
)
from jobcore.errors import ConfigError, JobcoreError
from jobcore.ui import pages

user = pages.current_user(st.session_state)

st.title("Review queue")
everything = review.flagged()
if not everything:
    st.success("Nothing needs review.")
    st.stop()

filters = st.columns(2)
reasons = sorted({t.reason_pattern for t in everything})
reason = filters[0].selectbox("Reason", ["(all)", *reasons])
parents = sorted({t.classification.parent_category or "(none)" for t in everything})
parent = filters[1].selectbox("In parent category", ["(all)", *parents])
shown = [t for t in everything
         if (reason == "(all)" or t.reason_pattern == reason)
         and (parent == "(all)" or (t.classification.parent_category or "(none)") == parent)]
st.caption(f"{len(shown):,} of {len(everything):,} flagged topics")
st.dataframe(pd.DataFrame([{"id": t.id, "name": t.name, "reason": t.reason,
                            **t.classification.as_dict(), "flagged": t.flagged_at}
                           for t in shown]), hide_index=True, width="stretch")

by_id = {t.id: t for t in shown}
st.subheader("Resolve or retry")
chosen = st.multiselect("Topics", list(by_id), format_func=lambda i: f"#{i} {by_id[i].name}")
cols = st.columns(3)
if cols[0].button("Resolve selected", disabled=not chosen,
                  help="Mark them reviewed as they are"):
    st.toast(f"Resolved {review.resolve(chosen, user=user)} topics")
    st.rerun()
for col, mode, label in ((cols[1], "local", "Retry with rules"),
                         (cols[2], "llm", "Retry with Claude")):
    if col.button(label, disabled=not chosen):
        try:
            created = review.retry(chosen, mode=mode, user=user)
        except JobcoreError as exc:
            st.error(str(exc))
        else:
            st.switch_page(pages.JOB_DETAIL, query_params={"job": created.id})

st.subheader("Edit one topic")
topic_id = st.selectbox("Topic", list(by_id), format_func=lambda i: f"#{i} {by_id[i].name}")
topic = by_id[topic_id]
st.caption(f"Flagged: {topic.reason}")
taxonomy = get_taxonomy()
current = topic.classification
with st.form(f"edit_{topic_id}"):
    fields = st.columns(5)
    taxonomy_type = fields[1].selectbox(
        "Taxonomy type", TAXONOMY_TYPES,
        index=TAXONOMY_TYPES.index(current.taxonomy_type)
        if current.taxonomy_type in TAXONOMY_TYPES else 1)
    parent_choices = taxonomy.parent_categories()
    values = {
        "segment_type": fields[0].selectbox(
            "Segment type", SEGMENT_TYPES,
            index=SEGMENT_TYPES.index(current.segment_type)
            if current.segment_type in SEGMENT_TYPES else 0),
        "taxonomy_type": taxonomy_type,
        "parent_category": fields[2].selectbox(
            "Parent category", parent_choices,
            index=parent_choices.index(current.parent_category)
            if current.parent_category in parent_choices else 0),
        "subcategory": fields[3].text_input("Subcategory", current.subcategory or "") or None,
        "audience_type": fields[4].selectbox(
            "Audience type", AUDIENCE_TYPES,
            index=AUDIENCE_TYPES.index(current.audience_type)
            if current.audience_type in AUDIENCE_TYPES else 1),
    }
    if st.form_submit_button("Save and resolve", type="primary"):
        try:
            review.edit(topic_id, {f: values[f] for f in CLASSIFICATION_FIELDS}, user=user)
        except ConfigError as exc:
            st.error(f"Not saved: {exc}")
        else:
            st.toast(f"Saved #{topic_id}")
            st.rerun()
