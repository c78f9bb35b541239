"""Read-only summaries of the catalogue for the app and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore.activations.stale import STALE_CONDITION
from jobcore.classify.segment_classifier import current_version
from jobcore.db import get_engine
from jobcore.errors import UnknownOrganization
from jobcore.sql_rules import LIVE_TOPIC_SQL

_SUMMARY = sa.text(
    f"""
    SELECT
        count(*) FILTER (WHERE {LIVE_TOPIC_SQL}) AS live,
        count(*) FILTER (WHERE {LIVE_TOPIC_SQL}
                         AND classification_version IS NULL) AS unclassified,
        count(*) FILTER (WHERE {LIVE_TOPIC_SQL}
                         AND classification_source IN ('rules', 'exemplar')
                         AND classification_version <> :rules_version) AS outdated,
        count(*) FILTER (WHERE {LIVE_TOPIC_SQL}
                         AND review_status = 'needs_review') AS needs_review,
        (SELECT count(*) FROM organizations) AS organizations,
        (SELECT count(*) FROM activations) AS activations
    FROM topics
    """
)


@dataclass(frozen=True)
class CatalogueSummary:
    live_topics: int
    unclassified: int
    outdated: int
    needs_review: int
    organizations: int
    activations: int
    rules_version: str

    @property
    def is_empty(self) -> bool:
        return self.live_topics == 0 and self.organizations == 0


def catalogue_summary(*, engine: Engine | None = None) -> CatalogueSummary:
    """Counts of live, unclassified, outdated and flagged topics, orgs and activations."""
    version = current_version()
    with (engine or get_engine()).connect() as conn:
        row = conn.execute(_SUMMARY, {"rules_version": version}).one()
    return CatalogueSummary(row.live, row.unclassified, row.outdated, row.needs_review,
                            row.organizations, row.activations, version)


@dataclass(frozen=True)
class Organization:
    id: int
    name: str
    stale_activations: int


_ORGANIZATIONS = sa.text(
    f"""
    SELECT o.id, o.name, count(a.id) FILTER (WHERE {STALE_CONDITION}) AS stale
    FROM organizations o
    LEFT JOIN activations a ON a.org_id = o.id
    LEFT JOIN topics t ON t.id = a.topic_id
    GROUP BY o.id ORDER BY stale DESC, o.name
    """
)


def organization_name(conn: Connection, org_id: int) -> str:
    """'GoDaddy (organisation 18)': how messages name an organisation; UnknownOrganization
    when there is none with this id.
    """
    name = conn.execute(sa.text("SELECT name FROM organizations WHERE id = :id"),
                        {"id": org_id}).scalar()
    if name is None:
        raise UnknownOrganization(f"No organisation with id {org_id}.")
    return f"{name} (organisation {org_id})"


def organizations(*, engine: Engine | None = None) -> list[Organization]:
    """Every organisation with its number of stale activations, most stale first."""
    with (engine or get_engine()).connect() as conn:
        return [Organization(r.id, r.name, r.stale) for r in conn.execute(_ORGANIZATIONS)]
