"""Exemplars: classifications the analysts saved or accepted in the review queue, which
close names follow in later local runs.

A name's key is its parsed leaf as the classifier reads it (words stemmed and mapped to
their synonyms, role words such as "fans" or "intenders" left out), its framing (intent,
interest, demographic, B2B or none) and its numeric bands: "Luxury SUV Intenders - UK" and
"Luxury SUVs Intenders" share a key; "Luxury SUV Fans" and "Age 25-34" / "Age 35-44" do
not. One exemplar is live per key (a newer one replaces the older); an analyst may remove
one, and the topics it decided are taken again by the next local run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore import audit
from jobcore.catalog import topic_store
from jobcore.classify.segment_classifier import SegmentClassifier, get_classifier
from jobcore.classify.taxonomy import Classification
from jobcore.db import get_engine
from jobcore.errors import UsageError
from jobcore.schema import classification_exemplars as exemplars_table
from jobcore.schema import topics


@dataclass(frozen=True)
class Exemplar:
    """A live exemplar: the classification close names follow."""

    id: int
    name: str
    match_key: str
    classification: Classification
    node_id: str | None
    created_by: str
    created_at: datetime
    decided: int = 0  # live topics it classified

    def describe(self) -> str:
        c = self.classification
        return " > ".join(v for v in (c.taxonomy_type, c.parent_category, c.subcategory) if v)


_COLUMNS = (exemplars_table.c.id, exemplars_table.c.name, exemplars_table.c.match_key,
            exemplars_table.c.segment_type, exemplars_table.c.taxonomy_type,
            exemplars_table.c.parent_category, exemplars_table.c.subcategory,
            exemplars_table.c.audience_type, exemplars_table.c.taxonomy_node_id,
            exemplars_table.c.created_by, exemplars_table.c.created_at)
_LIVE = exemplars_table.c.removed_at.is_(None)
# The exemplar a topic's classification came from (classification_detail.exemplar.id).
DECIDED_BY = sa.cast(topics.c.classification_detail["exemplar"]["id"].astext, sa.BigInteger)


def _exemplar(row: sa.Row, decided: int = 0) -> Exemplar:
    return Exemplar(row.id, row.name, row.match_key, Classification(*row[3:8]),
                    row.taxonomy_node_id, row.created_by, row.created_at, decided)


def live_by_key(conn: Connection) -> dict[str, Exemplar]:
    """Every live exemplar by its key (read once per chunk)."""
    return {row.match_key: _exemplar(row)
            for row in conn.execute(sa.select(*_COLUMNS).where(_LIVE))}


def record(conn: Connection, *, topic_id: int, name: str, classification: Classification,
           node_id: str | None, user: str,
           classifier: SegmentClassifier | None = None) -> int | None:
    """Make a saved or accepted classification an exemplar for its name's key (replacing
    the live one of that key); None when the name has no key (nothing to match on).
    """
    key = (classifier or get_classifier()).exemplar_key(name)
    if not key or classification.taxonomy_type is None or classification.parent_category is None:
        return None
    conn.execute(sa.update(exemplars_table).where(exemplars_table.c.match_key == key, _LIVE)
                 .values(removed_at=sa.func.now(), removed_by=f"{user} (replaced)"))
    return conn.execute(sa.insert(exemplars_table).values(
        topic_id=topic_id, name=name, match_key=key, taxonomy_node_id=node_id,
        created_by=user, **classification.as_dict()).returning(exemplars_table.c.id)
    ).scalar_one()


def listed(*, engine: Engine | None = None) -> list[Exemplar]:
    """Live exemplars, newest first, each with how many live topics it decided."""
    decided = (sa.select(sa.func.count()).select_from(topics)
               .where(topic_store.LIVE, topics.c.classification_source == "exemplar",
                      exemplars_table.c.id == DECIDED_BY)
               .scalar_subquery())
    stmt = (sa.select(*_COLUMNS, decided.label("decided")).where(_LIVE)
            .order_by(exemplars_table.c.created_at.desc(), exemplars_table.c.id.desc()))
    with (engine or get_engine()).connect() as conn:
        return [_exemplar(row, row.decided) for row in conn.execute(stmt)]


def remove(exemplar_ids: list[int], *, user: str, engine: Engine | None = None) -> int:
    """Remove exemplars (the topics they decided are taken again by the next local run);
    returns how many were live.
    """
    if not exemplar_ids:
        raise UsageError("Select at least one exemplar to remove.")
    engine = engine or get_engine()
    with audit.action("exemplar_remove", target=", ".join(map(str, sorted(exemplar_ids))),
                      engine=engine), engine.begin() as conn:
        return len(conn.execute(
            sa.update(exemplars_table)
            .where(exemplars_table.c.id.in_(exemplar_ids), _LIVE)
            .values(removed_at=sa.func.now(), removed_by=user)
            .returning(exemplars_table.c.id)).all())


def orphaned() -> sa.ColumnElement[bool]:
    """Topics an exemplar decided that is no longer live (for a local run to take again)."""
    return sa.and_(topics.c.classification_source == "exemplar", ~sa.exists().where(
        exemplars_table.c.id == DECIDED_BY, _LIVE))
