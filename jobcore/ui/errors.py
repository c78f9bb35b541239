"""A job's errors as a table: search, grouped counts, and a spreadsheet-safe CSV export."""

from __future__ import annotations

import csv
import re
from typing import Any

import numpy as np
import pandas as pd

from jobcore.activations.platforms.base import PLATFORM_NAMES
from jobcore.patterns import message_pattern

ERROR_COLUMNS = ["id", "name", "message", "parent_category"]
# An error about an item that is not a topic (an activation) names the item and its topic.
ITEM_ERROR_COLUMNS = ["id", "platform", "topic id", "topic name", "message", "parent_category"]
NO_CATEGORY = "(none)"
# OWASP CSV injection: a cell starting with one of these is run as a formula by spreadsheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_AFTER_BREAK = re.compile(r"(\r\n|\r|\n)(?=[=+\-@\t])")


def errors_frame(errors: list[dict[str, Any]], categories: dict[int, str | None], *,
                 item_kind: str = "topic") -> pd.DataFrame:
    """A job's errors with the current parent category of each topic they name
    (``categories``: topic id -> parent category, see topic_store.error_categories). For
    items that are not topics (activations) the columns are the item's id, its platform,
    its topic's id and name, the message and the category.
    """
    if item_kind == "topic":
        frame = pd.DataFrame(errors, columns=["id", "name", "message"])
        topic_ids = frame["id"]
    else:
        frame = pd.DataFrame(errors, columns=["id", "platform", "topicId", "name", "message"])
        frame = frame.rename(columns={"topicId": "topic id", "name": "topic name"})
        frame["topic id"] = frame["topic id"].astype("Int64")  # older errors have none
        frame["platform"] = frame["platform"].map(lambda p: PLATFORM_NAMES.get(p, p))
        topic_ids = [int(i) if pd.notna(i) else None for i in frame["topic id"]]
    frame["parent_category"] = [
        categories.get(i) or NO_CATEGORY if isinstance(i, int) else NO_CATEGORY
        for i in topic_ids
    ]
    return frame[ERROR_COLUMNS if item_kind == "topic" else ITEM_ERROR_COLUMNS]


def filter_errors(frame: pd.DataFrame, search: str) -> pd.DataFrame:
    """Rows where any column contains ``search`` (case-insensitive); all rows when empty."""
    needle = search.strip().casefold()
    if not needle:
        return frame
    text = frame.astype(str).apply(lambda col: col.str.casefold())
    mask = text.apply(lambda col: col.str.contains(needle, regex=False)).any(axis=1)
    return frame[mask]


def pattern_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Errors per message pattern, most frequent first."""
    patterns = frame["message"].map(message_pattern)
    counts = patterns.value_counts().rename_axis("pattern").reset_index(name="errors")
    return counts.sort_values(["errors", "pattern"], ascending=[False, True], ignore_index=True)


def category_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Errors per parent category of the topics, most frequent first."""
    counts = frame["parent_category"].value_counts().rename_axis("parent_category")
    counts = counts.reset_index(name="errors")
    return counts.sort_values(["errors", "parent_category"], ascending=[False, True],
                              ignore_index=True)


def error_groups(frame: pd.DataFrame) -> dict[str, list[int]]:
    """The groups a retry may take, label -> topic ids: each message pattern
    ("pattern: ...") and each parent category ("parent category: ...") with topics, biggest
    first.
    """
    groups: dict[str, list[int]] = {}
    # the ids a retry can take: numbers (as the job's errors name topics), not strings
    topics = frame[frame["id"].map(lambda i: isinstance(i, int | np.integer)
                                   and not isinstance(i, bool))]
    for kind, keys in (("pattern", topics["message"].map(message_pattern)),
                       ("parent category", topics["parent_category"])):
        ids_by_key: dict[str, list[int]] = {}
        for key, topic_id in zip(keys, topics["id"], strict=True):
            ids_by_key.setdefault(key, []).append(int(topic_id))
        for key, ids in sorted(ids_by_key.items(), key=lambda item: (-len(item[1]), item[0])):
            groups[f"{kind}: {key}"] = sorted(set(ids))
    return groups


def neutralize_cell(value: object) -> object:
    """Prefix with a quote every line of a text cell that a spreadsheet would run as a
    formula: the cell's start, and the start of each line after a CR or LF inside it (a
    reader that splits rows at a bare CR would otherwise start a row with it).
    """
    if not isinstance(value, str):
        return value
    value = _FORMULA_AFTER_BREAK.sub(r"\1'", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def errors_csv(frame: pd.DataFrame) -> bytes:
    """The rows as UTF-8 CSV with a byte-order mark (Excel then reads accents right), CRLF
    rows (so that every cell holding a CR or LF is quoted), formula-like lines neutralised;
    a topic without a category is an empty cell, not the screen's "(none)".
    """
    safe = frame.apply(lambda col: col.map(neutralize_cell))
    if "parent_category" in safe:
        safe["parent_category"] = safe["parent_category"].replace(NO_CATEGORY, "")
    return safe.to_csv(index=False, lineterminator="\r\n",
                       quoting=csv.QUOTE_MINIMAL).encode("utf-8-sig")
