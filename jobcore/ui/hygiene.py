"""The hygiene screen's data: an organisation's stale activations and its credentials."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Engine

from jobcore import activations, credentials
from jobcore.db import get_engine

STALE_LIMIT = 1000


def stale_frame(org_id: int, *, engine: Engine | None = None) -> pd.DataFrame:
    """Stale activations, what was pushed beside what is current (first 1,000)."""
    with (engine or get_engine()).connect() as conn:
        rows = conn.execute(activations.STALE_ROWS, {"org_id": org_id, "n": STALE_LIMIT})
        return pd.DataFrame(rows.mappings().all(), columns=list(rows.keys()))


def stale_by_platform(org_id: int, *, engine: Engine | None = None) -> dict[str, int]:
    with (engine or get_engine()).connect() as conn:
        return dict(conn.execute(activations.STALE_BY_PLATFORM, {"org_id": org_id}).tuples().all())


def credential_presence(org_id: int, *, engine: Engine | None = None) -> dict[str, bool]:
    """Per platform: are credentials stored (never the secrets themselves)."""
    with (engine or get_engine()).connect() as conn:
        return credentials.presence(conn, org_id)
