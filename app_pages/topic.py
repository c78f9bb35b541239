"""Topic: find a topic by id or name and see everything that happened to it (changes with
their jobs, merges, clusters, not-duplicates marks, errors, activations, exemplar role)."""

import pandas as pd
import streamlit as st

from app_pages.parts import messages, topic_sections
from jobcore.catalog import topic_story
from jobcore.errors import JobcoreError
from jobcore.ui.tables import ROW_CLICK, clicked_row


def search() -> None:
    """The search box (kept in the URL as ``q``) and the topics it finds; picking one opens
    it here.
    """
    if "topic_query" not in st.session_state:  # a link's search, once; then the box's own
        st.session_state["topic_query"] = st.query_params.get("q", "")[:200]
    query = st.text_input("Find a topic", key="topic_query", max_chars=200,
                          placeholder="#123, 123 or part of its name")
    if query:
        st.query_params["q"] = query
    else:
        st.query_params.pop("q", None)
        return
    try:
        found = topic_story.load_found(query)
    except JobcoreError as exc:
        messages.error(exc)
        return
    if not found:
        st.info(f"No topic has {query!r} in its name or as its id.")
        return
    st.caption(f"{len(found):,} found" + (" (the first shown)" if len(found) ==
                                          topic_story.MAX_FOUND else "")
               + ": click a row to open it.")
    frame = pd.DataFrame([{"Id": t.id, "Name": t.name, "Classification": t.classification,
                           "State": t.state} for t in found])
    picked = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun",
                          selection_mode=ROW_CLICK, key=f"found_{query}")
    if (row := clicked_row(picked.selection)) is not None:
        st.query_params["topic"] = str(frame["Id"].iloc[row])


def wanted_topic() -> int | None:
    """The topic the URL names (``topic``), or None; a bad value is said."""
    raw = st.query_params.get("topic")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        st.error(f"The link names no topic: 'topic' must be a topic id (digits), got "
                 f"{raw[:40]!r}.")
        return None
    return int(raw)


st.title("Topic")
search()
topic_id = wanted_topic()
story = topic_story.load_story(topic_id) if topic_id is not None else None
if topic_id is not None and story is None:
    st.warning(f"There is no topic #{topic_id}.")
if story is not None:
    topic_sections.header(story)
    topic_sections.history(story)
    topic_sections.dedup(story)
    topic_sections.platforms(story)
    topic_sections.errors_and_exemplars(story)
