"""The audit log as a table and a spreadsheet-safe CSV (the Audit screen)."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd

from jobcore.access import ACTIONS
from jobcore.audit import AuditEntry
from jobcore.ui.errors import errors_csv

COLUMNS = ["at", "actor", "role", "via", "action", "target", "outcome", "message", "details"]
WITHIN = {"last 24 hours": timedelta(days=1), "last 7 days": timedelta(days=7),
          "last 30 days": timedelta(days=30), "any time": None}


def action_label(action: str) -> str:
    """An action as people say it ("cancel a job"), or its name when unknown."""
    return ACTIONS[action][1] if action in ACTIONS else action


def audit_frame(entries: list[AuditEntry]) -> pd.DataFrame:
    """One row per action, newest first, details as compact JSON."""
    return pd.DataFrame([{
        "at": e.at, "actor": e.actor, "role": e.role, "via": e.via, "action": e.action,
        "target": e.target or "", "outcome": e.outcome, "message": e.message or "",
        "details": json.dumps(e.details, sort_keys=True, separators=(",", ":"))
        if e.details else ""} for e in entries], columns=COLUMNS)


def audit_csv(frame: pd.DataFrame) -> bytes:
    """The rows as CSV, formula-like cells neutralised (as the errors export)."""
    return errors_csv(frame)
