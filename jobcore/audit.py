"""The audit log: every action with who, when, what (job or topic ids, a bulk action's
filter), through what (page, api, cli, worker) and its outcome (done, refused, failed).

Operations wrap their work in ``action``: it checks the actor's role (jobcore.access),
records a refusal and raises Forbidden, and otherwise records the outcome once the work is
done or has failed. Rows are written in a short transaction of their own, so that a refused
or failed action is on record even though its own transaction rolled back. The table is
append-only for the application (migration 0021); retention prunes it by its own setting.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jobcore import access, text_checks
from jobcore.access import Actor
from jobcore.db import get_engine
from jobcore.errors import Forbidden
from jobcore.schema import audit_log

LIST_LIMIT = 1_000
log = logging.getLogger(__name__)
_MESSAGE_CHARS = 500


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log."""

    id: int
    at: datetime
    actor: str
    role: str
    via: str
    action: str
    target: str | None
    details: dict[str, Any]
    outcome: str
    message: str | None


def record(action: str, *, actor: Actor, outcome: str, target: str | None = None,
           details: dict[str, Any] | None = None, message: str | None = None,
           engine: Engine | None = None) -> None:
    """Append one row (its own transaction)."""
    with (engine or get_engine()).begin() as conn:
        conn.execute(_row(action, actor, outcome, target, details, message))


def _row(action: str, actor: Actor, outcome: str, target: str | None,
         details: dict[str, Any] | None, message: str | None) -> sa.Insert:
    return sa.insert(audit_log).values(
        actor=actor.name, role=str(actor.role), via=actor.via, action=action, target=target,
        details=details or {}, outcome=outcome,
        message=None if message is None else message[:_MESSAGE_CHARS])


def allowed(name: str, *, target: str | None = None, details: dict[str, Any] | None = None,
            engine: Engine | None = None) -> Actor:
    """The current actor if it may take action ``name``; else the refusal is recorded and
    Forbidden raised, naming the role needed.
    """
    actor = access.current_actor()
    if not access.can(name, actor):
        message = access.refusal(name, actor)
        record(name, actor=actor, outcome="refused", target=target, details=details,
               message=message, engine=engine)
        raise Forbidden(message)
    return actor


@contextmanager
def action(name: str, *, target: str | None = None, details: dict[str, Any] | None = None,
           engine: Engine | None = None) -> Iterator[dict[str, Any]]:
    """Check that the current actor may take action ``name`` (Forbidden, recorded, if not),
    run the block and record its outcome. The block may add to the yielded dict
    ("target": the id it created, or details).
    """
    actor = allowed(name, target=target, details=details, engine=engine)
    said: dict[str, Any] = {}
    try:
        yield said
    except BaseException as exc:  # a page's rerun interrupting the work included
        record_outcome(name, actor=actor, outcome="failed", target=said.get("target", target),
                       details={**(details or {}), **said.get("details", {})},
                       message=str(exc) or type(exc).__name__, engine=engine)
        raise
    record_outcome(name, actor=actor, outcome="done", target=said.get("target", target),
                   details={**(details or {}), **said.get("details", {})}, engine=engine)


def record_outcome(name: str, *, actor: Actor, outcome: str, target: str | None = None,
                   details: dict[str, Any] | None = None, message: str | None = None,
                   engine: Engine | None = None) -> None:
    """``record`` once an action's work is over: a failure to write the row (the database
    gone that moment) is logged, never raised, so that it neither turns a committed action
    into an error (a client would do it again) nor hides the real error.
    """
    try:
        record(name, actor=actor, outcome=outcome, target=target, details=details,
               message=message, engine=engine)
    except Exception:
        log.exception("audit row not written: %s %s by %s (%s)", name, outcome, actor.name,
                      target)


def within(conn: sa.Connection, name: str, *, target: str | None = None,
           details: dict[str, Any] | None = None) -> Actor:
    """``action`` for work done in the caller's transaction ``conn``: a refusal is recorded
    on its own and raised; the "done" row is written in ``conn``, so it stands or falls
    with the work.
    """
    actor = allowed(name, target=target, details=details, engine=conn.engine)
    conn.execute(_row(name, actor, "done", target, details, None))
    return actor


@dataclass(frozen=True)
class AuditFilter:
    """Which rows a list covers; None: any."""

    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    target: str | None = None


def entries(filters: AuditFilter = AuditFilter(), *, limit: int = LIST_LIMIT,
            engine: Engine | None = None) -> list[AuditEntry]:
    """The newest rows matching ``filters`` (the admin role reads them)."""
    allowed("audit_read", engine=engine)
    for text, what in ((filters.actor, "The actor filter"), (filters.target, "The target filter"),
                       (filters.action, "The action filter")):
        if text:
            text_checks.checked(text, what)
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if filters.actor:
        query = query.where(audit_log.c.actor == filters.actor)
    if filters.action:
        query = query.where(audit_log.c.action == filters.action)
    if filters.outcome:
        query = query.where(audit_log.c.outcome == filters.outcome)
    if filters.since is not None:
        query = query.where(audit_log.c.at >= filters.since)
    if filters.target:
        query = query.where(audit_log.c.target == filters.target)
    with (engine or get_engine()).connect() as conn:
        return [AuditEntry(**row._mapping) for row in conn.execute(query)]


def prune(conn: sa.Connection, older_than: timedelta) -> int:
    """Delete the rows older than ``older_than`` (retention's AUDIT_RETENTION_DAYS)."""
    conn.execute(sa.text("SET LOCAL jobcore.audit_prune = 'on'"))
    return conn.execute(sa.delete(audit_log).where(
        audit_log.c.at < sa.func.now() - older_than)).rowcount
