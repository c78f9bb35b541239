"""A realistic demo catalogue, deterministic for a given seed.

Topics are made from the IAB Audience Taxonomy 1.1 labels, the Business Technology tree,
S&P 500 company names, Chrome Topics labels, job functions and firmographic bands, phrased
the way real provider catalogues write segments: "Luxury SUV Intenders", "Salesforce
Users", a provider's path on any separator ("Eyeota » In-Market » Automotive Ownership »
SUV Intenders", "/Lotame/Interest/Cooking Fans"), markets in several notations (" - UK",
" (DE)", "US: "), bands in several notations ("Household Income $50K-$75K", "HHI: $50,000 -
$74,999", "Adults 25 to 29"), B2B names ("Marketing Decision Makers", "Company Size: 51-200
Employees"). Each seed has one wording, told apart by audience qualifiers ("Affluent",
"Senior") and markets. A share is unclassified or classified by an older version;
organisations, org links and activations (some stale) complete it. Rows are loaded with
COPY, so 10,000 topics take seconds.

Planted on purpose, for dedup to find or refuse:

- **Duplicates** (``demo_planted_duplicates``, by variant): the kinds a catalogue gathers
  from several importers and providers: case, plural, "&"/"and", hyphen and spacing
  variants; a data provider's path ("Acme Data > Automotive > SUV Intenders"); reordered
  words ("Cooking Fans, Affluent"); abbreviations ("Tech", "Mgmt"); another wording of the
  same audience ("In-Market for X" for "X Intenders"); the same name with a longer
  description.
- **Near misses** (``demo_near_misses``, by kind): twins that differ only where the
  segments differ: income bands, age bands, markets, product versions ("Windows 10 Users"
  against "Windows 11 Users"), audience qualifiers ("Affluent X" against "X").
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore import audit
from jobcore.catalog.demo_names import (
    NEAR_MISSES,
    PLANT_TRIES,
    VARIANTS,
    Name,
    Seed,
    description_of,
    near_miss,
    suffix_variant,
    topic_names,
    variant,
)
from jobcore.classify.companies import clean_company_name, load_companies
from jobcore.classify.segment_classifier import (
    SegmentClassifier,
    classification_of,
    get_classifier,
)
from jobcore.db import get_engine
from jobcore.errors import UsageError
from jobcore.schema import topics
from jobcore.trees import seeding

OLD_RULES_VERSION = "rules-2025.06.2"
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)



class _TopicRecord(NamedTuple):
    """One topics row as COPY writes it."""

    id: int
    name: str
    description: str
    segment_type: str | None
    taxonomy_type: str | None
    parent_category: str | None
    subcategory: str | None
    audience_type: str | None
    classification_version: str | None
    classification_source: str | None
    classified_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


_CLASSIFIED_FIELDS = ("segment_type", "taxonomy_type", "parent_category", "subcategory",
                      "audience_type", "classification_version", "classification_source",
                      "classified_at")


@dataclass(frozen=True)
class DemoSummary:
    topics: int
    planted_duplicates: int
    near_misses: int
    organizations: int
    org_links: int
    activations: int



def _catalogue_is_empty(conn: Connection) -> bool:
    return conn.execute(sa.select(sa.func.count()).select_from(topics)).scalar_one() == 0


def reset_catalogue(conn: Connection) -> None:
    """Delete every catalogue row and job (demo resets only)."""
    conn.execute(sa.text(
        "TRUNCATE demo_planted_duplicates, demo_near_misses, not_duplicate_pairs, merges, "
        "topic_history, batch_results_staging, admin_job_chunks, admin_jobs, pruned_jobs, "
        "activations, org_topics, sync_credentials, topics, organizations "
        "RESTART IDENTITY CASCADE"))


def seed_demo(engine: Engine, *, topics_count: int = 2000, seed: int = 42,
              reset: bool = False) -> DemoSummary:
    """Load a demo catalogue of ``topics_count`` topics into an empty catalogue (and the
    taxonomy trees, when they are not loaded yet).
    """
    if not 1 <= topics_count <= 1_000_000:
        raise UsageError(f"--topics must be from 1 to 1,000,000, got {topics_count}.")
    with audit.action("seed_demo", details={"topics": topics_count, "reset": reset},
                      engine=engine):
        return _seed(engine, topics_count, seed, reset)


def _seed(engine: Engine, topics_count: int, seed: int, reset: bool) -> DemoSummary:
    rng = random.Random(seed)
    classifier = get_classifier()
    with engine.begin() as conn:
        if reset:
            reset_catalogue(conn)
        elif not _catalogue_is_empty(conn):
            raise UsageError("The catalogue already has topics; seed-demo only fills an empty "
                             "one (use --reset to wipe it first).")
        seeding.seed_trees(conn)  # the Taxonomy screen and the tree jobs need them
        topic_rows, planted, near_misses = _catalogue(rng, topics_count, classifier)
        _copy(conn, "topics", _TopicRecord._fields, topic_rows)
        _copy(conn, "demo_planted_duplicates", ("topic_id", "original_topic_id", "variant"),
              planted)
        _copy(conn, "demo_near_misses", ("topic_id", "other_topic_id", "kind"), near_misses)
        summary = _seed_orgs(conn, rng, topic_rows)
        for table in ("topics", "organizations", "org_topics", "activations"):
            conn.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"GREATEST((SELECT max(id) FROM {table}), 1))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE topics, org_topics, activations, organizations"))
    return DemoSummary(len(topic_rows), len(planted), len(near_misses), *summary)


@dataclass
class _Catalogue:
    """The demo's topic rows as they are made, with the duplicates and twins planted."""

    rng: random.Random
    classifier: SegmentClassifier
    rows: list[_TopicRecord] = field(default_factory=list)
    names: list[Name | None] = field(default_factory=list)  # None: a near-miss twin
    planted: list[tuple] = field(default_factory=list)
    near_misses: list[tuple] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)  # case-folded names of fresh topics, twins
    texts: set[str] = field(default_factory=set)  # the planted variants' names

    def plant_duplicate(self, topic_id: int) -> None:
        """A variant of an earlier topic: the kinds in turn, each on an earlier topic it
        applies to (a few tries, then a change of case).
        """
        kind = VARIANTS[len(self.planted) % len(VARIANTS)]
        for _ in range(PLANT_TRIES):
            index = self.rng.randrange(len(self.rows))
            original, name = self.rows[index], self.names[index]
            category = original.parent_category or original.taxonomy_type or "Audiences"
            if name is not None and \
                    (text := variant(self.rng, name, kind, category)) is not None:
                break
        else:
            if name is None:
                return
            kind, text = "case", variant(self.rng, name, "case", category)
        # the description variant repeats the row's name exactly, path included
        text = original.name if kind == "description" else name.lead + text + name.region
        if kind != "description" and text in self.texts:  # that variant was planted already
            return
        self.texts.add(text)
        description = original.description
        if kind == "description":
            description += " Refreshed monthly from the provider's panel and site data."
        row = _topic_row(self.rng, topic_id, text, description, Seed("", "", None),
                         self.classifier)
        # imported into the same place as the original
        self.rows.append(row._replace(**{f: getattr(original, f) for f in _CLASSIFIED_FIELDS}))
        self.names.append(name)
        self.planted.append((topic_id, original.id, kind))

    def add_twins(self, topic_id: int, name: Name, seed: Seed) -> None:
        """Two topics that differ only where their segments differ (a near miss)."""
        kind = self.rng.choice(NEAR_MISSES)
        pair = near_miss(self.rng, name, kind)
        if any(n.casefold() in self.taken for n in pair):
            return
        if kind == "version":  # about the product, not the seed
            seed = Seed("company", re.sub(r" \d.*$", "", pair[0]), None)
        first = _topic_row(self.rng, topic_id, pair[0], description_of(seed, name.market),
                           seed, self.classifier)
        second = _topic_row(self.rng, topic_id + 1, pair[1], first.description, seed,
                            self.classifier)
        self.rows += [first,
                      second._replace(**{f: getattr(first, f) for f in _CLASSIFIED_FIELDS})]
        self.names += [None, None]
        self.taken.update(n.casefold() for n in pair)
        self.near_misses.append((topic_id + 1, topic_id, kind))

    def add(self, topic_id: int, name: Name, seed: Seed) -> None:
        """A fresh topic (a name already taken is skipped)."""
        if name.text.casefold() in self.taken:
            return
        self.taken.add(name.text.casefold())
        self.rows.append(_topic_row(self.rng, topic_id, name.text,
                                    description_of(seed, name.market), seed, self.classifier))
        self.names.append(name)


def _catalogue(rng: random.Random, count: int, classifier: SegmentClassifier
               ) -> tuple[list[_TopicRecord], list[tuple], list[tuple]]:
    """``count`` topic rows, the planted duplicates and the near-miss twins among them."""
    made = _Catalogue(rng, classifier)
    fresh = topic_names(rng)
    while len(made.rows) < count:
        topic_id = len(made.rows) + 1
        roll = rng.random()
        if topic_id > 10 and roll < 0.05:  # a duplicate of an earlier topic
            made.plant_duplicate(topic_id)
            continue
        name, seed = next(fresh)
        if topic_id < count and roll < 0.07:  # near-miss twins
            made.add_twins(topic_id, name, seed)
        else:
            made.add(topic_id, name, seed)
    return made.rows, made.planted, made.near_misses


def _topic_row(rng: random.Random, topic_id: int, name: str, description: str, seed: Seed,
               classifier: SegmentClassifier) -> _TopicRecord:
    created = EPOCH - timedelta(days=rng.randrange(1, 720), seconds=rng.randrange(86400))
    roll = rng.random()
    fields: tuple = (None,) * 5
    version = source = classified = None
    if roll >= 0.35:
        truth = seed.truth
        if roll >= 0.65:
            best = classifier.classify(name, description).best
            truth = classification_of(best.node) if best is not None else None
            version = classifier.version
        else:
            version = OLD_RULES_VERSION
        if truth is not None and version is not None:
            fields = (truth.segment_type, truth.taxonomy_type, truth.parent_category,
                      truth.subcategory, truth.audience_type)
            source = "rules"
            classified = created + timedelta(days=rng.randrange(0, 30))
        else:
            version = None
    return _TopicRecord(topic_id, name, description, *fields, version, source, classified,
                        1 + (rng.random() < 0.2), created, created)


def _seed_orgs(conn: Connection, rng: random.Random,
               topic_rows: list[_TopicRecord]) -> tuple[int, int, int]:
    companies = [clean_company_name(c[0]) for c in load_companies()]
    org_count = max(3, min(len(companies), len(topic_rows) // 100))
    org_names = sorted(set(rng.sample(companies, org_count)))
    _copy(conn, "organizations", ("id", "name"), list(enumerate(org_names, start=1)))
    links, activations = [], []
    for org_id in range(1, len(org_names) + 1):
        for topic in rng.sample(topic_rows, min(len(topic_rows), rng.randrange(10, 80))):
            links.append((len(links) + 1, org_id, topic.id))
            for platform in ("liveramp", "the_trade_desk"):
                if rng.random() < 0.4:
                    stale = rng.random() < 0.15
                    pushed_name = suffix_variant(topic.name) if stale else topic.name
                    pushed_version = topic.version - (1 if stale and topic.version > 1 else 0)
                    prefix = "lr" if platform == "liveramp" else "ttd"
                    activations.append((
                        len(activations) + 1, org_id, topic.id, platform,
                        f"{prefix}-{rng.randrange(10**7, 10**8)}", pushed_name, topic.description,
                        pushed_version, "active", EPOCH - timedelta(days=rng.randrange(1, 200)),
                    ))
    _copy(conn, "org_topics", ("id", "org_id", "topic_id"), links)
    _copy(conn, "activations", ("id", "org_id", "topic_id", "platform", "external_segment_id",
                                "pushed_name", "pushed_description", "pushed_topic_version",
                                "status", "last_pushed_at"), activations)
    return len(org_names), len(links), len(activations)


def _copy(conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """COPY rows into a table on the connection's own transaction."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load_demo(*, topics_count: int = 2000, engine: Engine | None = None) -> DemoSummary:
    """seed_demo on the configured database (the Jobs screen's *Load demo data*)."""
    return seed_demo(engine or get_engine(), topics_count=topics_count)
