"""Stale activations: segments whose pushed name, description or topic version differs
from the topic's current values, and how to record a push.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore.activations import credentials
from jobcore.db import get_engine
from jobcore.sql_rules import live_topic

# An activation ``a`` of a topic ``t`` is stale when what was pushed is not the topic now.
STALE_CONDITION = f"""
    a.status <> 'removed' AND {live_topic('t')}
    AND (a.pushed_name IS DISTINCT FROM t.name
         OR a.pushed_description IS DISTINCT FROM t.description
         OR a.pushed_topic_version IS DISTINCT FROM t.version)
"""
_STALE = f"a.org_id = :org_id AND {STALE_CONDITION}"

COUNT_STALE = sa.text(
    f"SELECT count(*), coalesce(max(a.id), 0) FROM activations a "
    f"JOIN topics t ON t.id = a.topic_id WHERE {_STALE}")

STALE_CHUNK = sa.text(
    f"""
    SELECT a.id, a.platform, a.topic_id, a.external_segment_id, a.pushed_name,
           a.pushed_description, a.pushed_topic_version, t.name, t.description, t.version
    FROM activations a JOIN topics t ON t.id = a.topic_id
    WHERE {_STALE} AND a.id > :last_id AND a.id <= :max_id
    ORDER BY a.id LIMIT :n
    FOR UPDATE OF a
    """)

STALE_BY_PLATFORM = sa.text(
    f"SELECT a.platform, count(*) FROM activations a JOIN topics t ON t.id = a.topic_id "
    f"WHERE {_STALE} GROUP BY a.platform ORDER BY a.platform")

STALE_ROWS = sa.text(
    f"""
    SELECT a.id AS activation_id, a.platform, a.topic_id, a.external_segment_id,
           a.pushed_name, t.name AS current_name, a.pushed_description,
           t.description AS current_description, a.pushed_topic_version,
           t.version AS current_version, a.last_pushed_at, a.status, a.last_error
    FROM activations a JOIN topics t ON t.id = a.topic_id
    WHERE {_STALE} ORDER BY a.id LIMIT :n
    """)

_RECORD_PUSHES = sa.text(
    """
    UPDATE activations AS a SET
        external_segment_id = coalesce(v.external_id, a.external_segment_id),
        pushed_name = CASE WHEN v.ok THEN v.name ELSE a.pushed_name END,
        pushed_description = CASE WHEN v.ok THEN v.description ELSE a.pushed_description END,
        pushed_topic_version = CASE WHEN v.ok THEN v.version ELSE a.pushed_topic_version END,
        last_pushed_at = CASE WHEN v.ok THEN now() ELSE a.last_pushed_at END,
        status = CASE WHEN v.ok THEN 'active' ELSE 'failed' END,
        last_error = v.error,
        updated_at = now()
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
         AS v(id bigint, ok boolean, external_id text, name text, description text,
              version integer, error text)
    WHERE a.id = v.id
    """)


def record_pushes(conn: Connection, outcomes: list[dict[str, Any]]) -> None:
    """Write what each push did: the new pushed values, or the failure, in one statement."""
    if outcomes:
        conn.execute(_RECORD_PUSHES, {"rows": json.dumps(outcomes)})


_ORGS_WITH_STALE = sa.text(
    f"SELECT DISTINCT a.org_id FROM activations a JOIN topics t ON t.id = a.topic_id "
    f"WHERE {STALE_CONDITION} ORDER BY a.org_id")


def orgs_with_stale(conn: Connection) -> list[int]:
    """Organisations that have at least one stale activation."""
    return list(conn.execute(_ORGS_WITH_STALE).scalars())


LINKED_COUNT = sa.text(
    "SELECT count(*), coalesce(max(t.id), 0) FROM org_topics ot JOIN topics t "
    f"ON t.id = ot.topic_id WHERE ot.org_id = :org_id AND {live_topic('t')}")

LINKED_CHUNK = sa.text(
    f"""
    SELECT t.id, t.name, t.description, t.version FROM org_topics ot
    JOIN topics t ON t.id = ot.topic_id
    WHERE ot.org_id = :org_id AND {live_topic('t')}
      AND t.id > :last_id AND t.id <= :max_id
    ORDER BY t.id LIMIT :n
    """)

_UPSERT_ACTIVATIONS = sa.text(
    """
    INSERT INTO activations (org_id, topic_id, platform, external_segment_id, pushed_name,
                             pushed_description, pushed_topic_version, status, last_pushed_at)
    SELECT :org_id, v.topic_id, :platform, v.external_id, v.name, v.description, v.version,
           'active', now()
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
         AS v(topic_id bigint, external_id text, name text, description text, version integer)
    ON CONFLICT (org_id, topic_id, platform) DO UPDATE SET
        external_segment_id = excluded.external_segment_id,
        pushed_name = excluded.pushed_name, pushed_description = excluded.pushed_description,
        pushed_topic_version = excluded.pushed_topic_version, status = 'active',
        last_pushed_at = now(), last_error = NULL, updated_at = now()
    """)


def upsert_pushed(conn: Connection, org_id: int, platform: str,
                  pushed: list[dict[str, Any]]) -> None:
    """Record segments that are now on a platform as the topic has them."""
    if pushed:
        conn.execute(_UPSERT_ACTIVATIONS, {"org_id": org_id, "platform": platform,
                                           "rows": json.dumps(pushed)})


def without_credentials(by_platform: dict[str, int], present: dict[str, bool]
                        ) -> dict[str, int]:
    """The stale segments per platform that no stored credentials could push: all of them
    means a refresh can only fail (the hygiene screen disables it, the job refuses it).
    """
    return {p: n for p, n in by_platform.items() if n and not present.get(p, False)}


STALE_LISTED = 1000


@dataclass(frozen=True)
class StaleReport:
    """An organisation's stale segments as the hygiene screen shows them."""

    org_id: int
    rows: list[dict[str, Any]]  # the first STALE_LISTED, pushed beside current values
    columns: list[str]
    by_platform: dict[str, int]
    credentials: dict[str, bool]  # per platform: stored or not (never the secrets)


def stale_report(org_id: int, *, engine: Engine | None = None) -> StaleReport:
    """Stale activations of an organisation, counts per platform, credentials present."""
    with (engine or get_engine()).connect() as conn:
        result = conn.execute(STALE_ROWS, {"org_id": org_id, "n": STALE_LISTED})
        columns = list(result.keys())
        rows = [dict(r) for r in result.mappings()]
        by_platform = dict(conn.execute(STALE_BY_PLATFORM, {"org_id": org_id}).tuples().all())
        present = credentials.presence(conn, org_id)
    return StaleReport(org_id, rows, columns, by_platform, present)
