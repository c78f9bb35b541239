"""Analysts' decisions on a sweep's clusters, kept on the server as they are made: accept
(ticked for the merge), unaccept, another winner, a member removed, reset (back to what the
sweep proposed). Each carries who and when; a reload, a second tab or a second analyst
reads the same review. An analyst's last decision on a sweep can be undone. The edits of a
cluster are its decisions replayed in order (see ``edits_of``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.errors import UsageError
from jobcore.schema import cluster_decisions

ACCEPT, UNACCEPT, WINNER, REMOVE, RESET = "accept", "unaccept", "winner", "remove", "reset"
ACTIONS = (ACCEPT, UNACCEPT, WINNER, REMOVE, RESET)
WITH_TOPIC = (WINNER, REMOVE)  # the decisions that name a topic


@dataclass
class ClusterEdit:
    """A cluster's decisions so far: another winner, members removed, accepted for the
    merge, and who decided last and when.
    """

    winner: int | None = None
    removed: set[int] = field(default_factory=set)
    accepted: bool = False
    decided_by: str | None = None
    decided_at: datetime | None = None

    @property
    def changes(self) -> bool:
        """Whether it changes the cluster (another winner or a member removed)."""
        return self.winner is not None or bool(self.removed)


@dataclass(frozen=True)
class Decision:
    """One recorded decision."""

    id: int
    cluster: int
    action: str
    topic_id: int | None
    decided_by: str
    decided_at: datetime


def decide(conn: Connection, sweep_id: str, cluster: int, action: str,
           topic_id: int | None = None, *, by: str) -> Decision:
    """Record one decision on cluster number ``cluster`` of the sweep."""
    if action not in ACTIONS:
        raise UsageError(f"Unknown decision {action!r} (one of: {', '.join(ACTIONS)}).")
    if (action in WITH_TOPIC) != (topic_id is not None):
        raise UsageError(f"A {action!r} decision "
                         + ("names the topic it is about." if action in WITH_TOPIC
                            else "names no topic."))
    row = conn.execute(sa.insert(cluster_decisions).values(
        job_id=sweep_id, cluster=cluster, action=action, topic_id=topic_id, decided_by=by
    ).returning(*_COLUMNS)).one()
    return Decision(*row)


def undo_last(conn: Connection, sweep_id: str, *, by: str) -> Decision | None:
    """Undo ``by``'s last decision on the sweep still in force; None when there is none."""
    row = conn.execute(sa.update(cluster_decisions).where(
        cluster_decisions.c.id == sa.select(sa.func.max(cluster_decisions.c.id)).where(
            cluster_decisions.c.job_id == sweep_id, cluster_decisions.c.decided_by == by,
            cluster_decisions.c.undone_at.is_(None)).scalar_subquery()
    ).values(undone_at=sa.func.now()).returning(*_COLUMNS)).one_or_none()
    return None if row is None else Decision(*row)


def edits_of(conn: Connection, sweep_id: str) -> dict[int, ClusterEdit]:
    """Each decided cluster's edit, by cluster number: its decisions in force, in order."""
    edits: dict[int, ClusterEdit] = {}
    for d in _in_force(conn, sweep_id):
        edit = edits.setdefault(d.cluster, ClusterEdit())
        if d.action == RESET:
            edit = edits[d.cluster] = ClusterEdit()
        elif d.action in (ACCEPT, UNACCEPT):
            edit.accepted = d.action == ACCEPT
        elif d.action == WINNER:
            edit.winner = d.topic_id
        else:
            edit.removed.add(d.topic_id)  # type: ignore[arg-type]  # a REMOVE names one
        edit.decided_by, edit.decided_at = d.decided_by, d.decided_at
    return edits


_COLUMNS = (cluster_decisions.c.id, cluster_decisions.c.cluster, cluster_decisions.c.action,
            cluster_decisions.c.topic_id, cluster_decisions.c.decided_by,
            cluster_decisions.c.decided_at)


def _in_force(conn: Connection, sweep_id: str) -> list[Decision]:
    return [Decision(*row) for row in conn.execute(
        sa.select(*_COLUMNS).where(cluster_decisions.c.job_id == sweep_id,
                                   cluster_decisions.c.undone_at.is_(None))
        .order_by(cluster_decisions.c.id))]
