"""The hygiene screen's table of stale activations and whether a refresh can push them
(pure).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from jobcore.activations.platforms.base import PLATFORM_NAMES
from jobcore.activations.stale import StaleReport, without_credentials

STALE_COLUMNS = ["activation", "platform", "topic", "pushed name", "current name", "changed",
                 "last pushed"]


def _changed(row: dict) -> str:
    parts = [label for label, pushed, current in (
        ("name", "pushed_name", "current_name"),
        ("description", "pushed_description", "current_description"),
        ("version", "pushed_topic_version", "current_version")) if row[pushed] != row[current]]
    return ", ".join(parts)


def stale_frame(report: StaleReport) -> pd.DataFrame:
    """Stale activations (first 1,000): what was pushed beside what the topic is now, what
    changed (name, description, version), narrow enough for the screen.
    """
    rows = [{
        "activation": row["activation_id"],
        "platform": PLATFORM_NAMES.get(row["platform"], row["platform"]),
        "topic": row["topic_id"],
        "pushed name": row["pushed_name"],
        "current name": row["current_name"],
        "changed": _changed(row),
        "last pushed": row["last_pushed_at"],
    } for row in report.rows]
    return pd.DataFrame(rows, columns=STALE_COLUMNS)


@dataclass(frozen=True)
class RefreshReadiness:
    """Whether Refresh All Stale can push anything, and what it cannot push, in words."""

    blocked: str | None  # why the button is disabled (nothing could be pushed)
    warning: str | None  # what would fail although some segments can be pushed


def refresh_readiness(report: StaleReport, org_name: str) -> RefreshReadiness:
    """A platform without credentials cannot take its stale segments: say so before the
    click (every stale segment on such platforms: blocked; some: a warning with the count).
    """
    missing = without_credentials(report.by_platform, report.credentials)
    if not missing:
        return RefreshReadiness(None, None)
    names = " or ".join(PLATFORM_NAMES.get(p, p) for p in sorted(missing))
    how = ("Store them with `python -m jobcore set-credentials --org "
           f"{report.org_id} --platform PLATFORM --account-id ID` (the secret is read from "
           "the terminal, encrypted with CREDENTIALS_KEY).")
    stuck = sum(missing.values())
    if stuck == sum(report.by_platform.values()):
        return RefreshReadiness(
            f"{org_name} has no {names} credentials, so none of its stale segments can be "
            f"pushed. {how}", None)
    return RefreshReadiness(None, (
        f"{org_name} has no {names} credentials: {stuck:,} of its stale segments would be "
        f"errors (the rest are pushed). {how}"))
