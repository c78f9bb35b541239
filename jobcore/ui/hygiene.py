"""The hygiene screen's table of stale activations (pure)."""

from __future__ import annotations

import pandas as pd

from jobcore.activations.stale import StaleReport

_HEADINGS = {"pushed_name": "pushed name", "current_name": "current name",
             "pushed_description": "pushed description",
             "current_description": "current description",
             "pushed_topic_version": "pushed version", "current_version": "current version"}


def stale_frame(report: StaleReport) -> pd.DataFrame:
    """Stale activations, what was pushed beside what is current (first 1,000)."""
    frame = pd.DataFrame(report.rows, columns=report.columns)
    return frame.rename(columns=_HEADINGS)
