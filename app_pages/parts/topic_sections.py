"""The sections of a topic's page: the topic as it stands, its history, its life in dedup
(clusters, merges, not-duplicates marks), its org links and activations, the job errors
that name it, and its exemplar role.
"""

import re
from typing import Any

import pandas as pd
import streamlit as st

from jobcore.activations.platforms.base import PLATFORM_NAMES
from jobcore.catalog.topic_story import Change, TopicStory
from jobcore.ui import pages
from jobcore.ui.forms import plural

JOB_LINK = st.column_config.LinkColumn("Job", display_text=r"job=(.*)$", width=210)
TOPIC_LINK = st.column_config.LinkColumn("Topic", display_text=r"topic=(\d+)$", width=80)
# a table's link to the topic of its row (from job errors and the review queue)
TOPIC_PAGE = st.column_config.LinkColumn("topic", display_text="Open", width="small",
                                         help="The topic's page (everything that happened to "
                                              "it), in a new tab")
_WHEN = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")
_TIMES = ("When", "Proposed", "Undone", "Linked", "Last push", "Job created", "Saved", "Removed")
_FIELDS = ("description", "segment_type", "audience_type", "node_path", "review_status",
           "review_reason", "classification_source", "classified_at", "created_at",
           "updated_at")


def job_url(job_id: str | None) -> str | None:
    return None if job_id is None else f"/job_detail?job={job_id}"


def topic_url(topic_id: int) -> str:
    return f"/topic?topic={topic_id}"


def header(story: TopicStory) -> None:
    """Name, state (with the topic it was merged into), classification and its fields."""
    topic = story.topic
    st.subheader(f"#{topic['id']} · {topic['name']}")
    if topic["merged_into"] is not None:
        st.warning(f"Merged into #{topic['merged_into']}.")
        st.page_link(pages.TOPIC, label=f"Open #{topic['merged_into']}",
                     query_params={"topic": str(topic["merged_into"])},
                     icon=":material/arrow_forward:")
    elif topic["deleted_at"] is not None:
        st.warning(f"Deleted {topic['deleted_at']:%Y-%m-%d %H:%M}.")
    st.markdown(f"**{topic['classification'] or 'Not classified'}**")
    shown = {field.replace("_", " ").capitalize(): _text(topic[field]) for field in _FIELDS
             if topic[field] not in (None, "")}
    st.dataframe(pd.DataFrame({"Field": list(shown), "Value": list(shown.values())}),
                 hide_index=True, width="stretch")


def history(story: TopicStory) -> None:
    """Every change, newest first: when, what, the job (or person), before and after."""
    st.subheader(f"History ({plural(len(story.changes), 'change')})")
    if not story.changes:
        st.caption("No change recorded since the topic was created.")
        return
    st.dataframe(pd.DataFrame([_change_row(c) for c in story.changes]), hide_index=True,
                 width="stretch", column_config={"Job": JOB_LINK, "When": _WHEN})


def _change_row(change: Change) -> dict[str, Any]:
    return {"When": change.at, "What": change.action.replace("_", " "),
            "Job": job_url(change.job_id), "By": change.by or "",
            "Changes": "; ".join(f"{_words(field)}: {_text(before)} → {_text(after)}"
                                 for field, before, after in change.fields) or "–"}


def _words(key: str) -> str:
    """'parent_category' and 'absorbedTopicId' as 'parent category', 'absorbed topic id'."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key).replace("_", " ").lower()


def dedup(story: TopicStory) -> None:
    """The sweeps' clusters that hold it, the merges into and out of it, and the pairs
    analysts marked not duplicates.
    """
    st.subheader("Duplicates")
    clusters = story.rows["clusters"]
    _table("Clusters that hold it", clusters, [{
        "Proposed": r["at"], "Sweep": r["job_id"], "Cluster": f"#{r['cluster']}",
        "Role": r["role"], "Members": r["members"]} for r in clusters])
    for r in clusters[:5]:
        st.page_link(pages.DEDUP, label=f"Review cluster #{r['cluster']} of {r['job_id']}",
                     query_params={"job": r["job_id"], "cluster": str(r["cluster"])},
                     icon=":material/join:")
    _table("Merges", story.rows["merges"], [{
        "When": r["at"], "Job": job_url(r["job_id"]), "Merged": r["direction"],
        "Topic": topic_url(r["other_id"]), "Name": r["other_name"], "Score": r["score"],
        "Undone": r["undone_at"]} for r in story.rows["merges"]])
    _table("Marked not duplicates", story.rows["marks"], [{
        "When": r["at"], "By": r["by"], "Topic": topic_url(r["other_id"]),
        "Name": r["other_name"], "Sweep": r["job_id"]} for r in story.rows["marks"]])


def platforms(story: TopicStory) -> None:
    """Organisations linked to it and its activations with their last push."""
    st.subheader("Organisations and activations")
    _table("Linked organisations", story.rows["links"], [{
        "Organisation": r["organisation"], "Linked": r["at"]} for r in story.rows["links"]])
    _table("Activations", story.rows["activations"], [{
        "Organisation": r["organisation"],
        "Platform": PLATFORM_NAMES.get(r["platform"], r["platform"]),
        "Status": r["status"], "Segment id": r["external_segment_id"],
        "Pushed as": r["pushed_name"], "Last push": r["last_pushed_at"],
        "Last error": r["last_error"]} for r in story.rows["activations"]])


def errors_and_exemplars(story: TopicStory) -> None:
    """The job errors that name it, and its classification as an exemplar."""
    _table("Job errors about it", story.rows["errors"], [{
        "Job created": r["at"], "Job": job_url(r["job_id"]), "Type": r["job_type"],
        "Error": r["message"]} for r in story.rows["errors"]])
    _table("Exemplar (close names follow its classification)", story.rows["exemplars"], [{
        "Saved": r["at"], "By": r["by"], "Classification": r["classification"],
        "Match key": r["match_key"], "Removed": r["removed_at"],
        "Removed by": r["removed_by"]} for r in story.rows["exemplars"]])


def _table(title: str, rows: list[dict[str, Any]], shown: list[dict[str, Any]]) -> None:
    st.markdown(f"**{title}** ({len(rows):,})")
    if not shown:
        st.caption("None.")
        return
    st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch",
                 column_config={"Job": JOB_LINK, "Topic": TOPIC_LINK,
                                **dict.fromkeys(_TIMES, _WHEN)})


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if hasattr(value, "strftime"):
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value)
