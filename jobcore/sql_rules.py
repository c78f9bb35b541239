"""The rules many queries share, each written once (as SQL text for ``sa.text`` queries and
as SQLAlchemy expressions): which topics are live, which job statuses are finished or not,
when a processing job reads as paused, and which topic a job's error names (also in Python,
for rows already read).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from jobcore.schema import FINISHED_STATUSES, UNFINISHED_STATUSES, admin_jobs, topics


def in_list(values: tuple[str, ...]) -> str:
    """SQL: ``('a', 'b')`` for a fixed tuple of plain words (never user input)."""
    assert all(v.replace("_", "").isalnum() for v in values)
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def live_topic(alias: str = "") -> str:
    """SQL: the topic (of table alias ``alias``) is live: neither deleted nor merged."""
    prefix = f"{alias}." if alias else ""
    return f"{prefix}deleted_at IS NULL AND {prefix}merged_into IS NULL"


LIVE_TOPIC_SQL = live_topic()
LIVE_TOPIC = sa.and_(topics.c.deleted_at.is_(None), topics.c.merged_into.is_(None))

FINISHED_SQL = in_list(FINISHED_STATUSES)  # ('completed', 'failed', 'cancelled')
UNFINISHED_SQL = in_list(UNFINISHED_STATUSES)  # ('pending', 'processing')
UNFINISHED_JOB = admin_jobs.c.status.in_(UNFINISHED_STATUSES)

# A processing job reads as paused when nobody drives it (its items/s and ETA would
# describe a run that is not happening): its driver let go (admin_jobs.driver is empty; a
# job handed to the workers is let go between their slices, so for it only time tells), or
# no chunk has finished for this long (a driver killed without letting go).
PAUSED_AFTER = timedelta(seconds=30)
_LAST_MOVED = sa.func.coalesce(admin_jobs.c.last_progress_at, admin_jobs.c.started_at,
                               admin_jobs.c.created_at)
PAUSED_JOB = sa.and_(admin_jobs.c.status == "processing", sa.or_(
    sa.and_(admin_jobs.c.driver.is_(None), ~admin_jobs.c.background),
    sa.func.now() - PAUSED_AFTER > _LAST_MOVED))


def is_paused(status: str, last_moved: datetime, now: datetime, *, driver: str | None,
              background: bool) -> bool:
    """PAUSED_JOB for a job already read (``last_moved``: its last progress, else its
    start, else its creation; ``driver`` None: nobody holds it).
    """
    if status != "processing":
        return False
    return (driver is None and not background) or now - last_moved > PAUSED_AFTER

# An LLM job waiting on its message batches (jobcore.llm.phases): its cursor's phase is
# POLL_PHASE until Anthropic has ended them and the answers are staged.
POLL_PHASE = "poll"
WAITING_ON_BATCHES_SQL = f"cursor ->> 'phase' = '{POLL_PHASE}'"
WAITING_ON_BATCHES = admin_jobs.c.cursor["phase"].astext == POLL_PHASE


def waiting_on_batches(cursor: dict[str, Any]) -> bool:
    """WAITING_ON_BATCHES for a cursor already read."""
    return cursor.get("phase") == POLL_PHASE


# The topic id an error names (``e.value``: the error): its topicId where it names an item
# of another kind (an activation) and the item's topic, else its id; NULL when neither is one.
TOPIC_OF_ERROR_SQL = (
    "CASE WHEN jsonb_typeof(coalesce(e.value -> 'topicId', e.value -> 'id')) = 'number' "
    "AND coalesce(e.value ->> 'topicId', e.value ->> 'id') ~ '^-?[0-9]{1,18}$' "
    "THEN coalesce(e.value ->> 'topicId', e.value ->> 'id')::bigint END")


def topic_of_error(error: dict[str, Any]) -> int | None:
    """The topic id an error names, as TOPIC_OF_ERROR_SQL reads it."""
    value = error.get("topicId", error.get("id"))
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if abs(value) < 10**18 else None


# A topic typed by its id: "123" or "#123" (ASCII digits, as ids are).
_TOPIC_ID = re.compile(r"^\s*#?\s*(\d{1,18})\s*$", re.ASCII)


def topic_id_of(text: str) -> int | None:
    """The topic id ``text`` names ('123', '#123'), or None when it names none."""
    found = _TOPIC_ID.match(text)
    return int(found.group(1)) if found else None


def like_pattern(text: str, *, fold: bool = False) -> str:
    """A LIKE pattern for the rows that hold ``text`` as typed (its %, _ and backslashes
    plain characters); ``fold``: in lower case, for ``lower(column) LIKE``.
    """
    if fold:
        text = text.casefold()
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
