"""A realistic demo catalogue, deterministic for a given seed.

Topics are made from the IAB Audience Taxonomy 1.1 labels, the Business Technology tree,
S&P 500 company names and Chrome Topics labels, phrased the way audience segments are
named ("Luxury SUV Intenders", "Salesforce Users"). A share is unclassified or classified
by an older rules version; near-duplicate variants are planted on purpose and recorded in
demo_planted_duplicates; organisations, org links and activations (some stale) complete it.
Rows are loaded with COPY, so 10,000 topics take seconds.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore.classify.rules import (
    NoRuleMatched,
    RuleEngine,
    clean_company_name,
    get_rule_engine,
    load_companies,
)
from jobcore.classify.taxonomy import DATA_DIR, Classification, get_taxonomy
from jobcore.db import get_engine
from jobcore.errors import UsageError
from jobcore.schema import topics
from jobcore.trees import seeding

OLD_RULES_VERSION = "rules-2025.06.2"
CHROME_TOPICS_FILE = DATA_DIR / "catalog" / "chrome_topics_taxonomy_v2.md"
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)

PREFIXES = ["", "", "", "Affluent ", "Young ", "Urban ", "Frequent ", "Millennial ", "Gen Z ",
            "Senior ", "Premium ", "Budget-Conscious ", "Suburban ", "Eco-Conscious "]
REGIONS = ["", "", " - US", " - UK", " - DE", " - FR", " - JP", " - BR", " - IN", " - AU",
           " - CA", " - ES", " - IT", " - MX", " - NL", " - SE", " - SG", " - ZA"]
TEMPLATES = {
    "Interest": ["{} Enthusiasts", "{} Fans", "People Interested in {}", "{} Hobbyists",
                 "{} Content Readers"],
    "Purchase Intent": ["{} Intenders", "In-Market for {}", "{} Shoppers", "{} Buyers",
                        "Likely to Buy {}"],
    "Demographic": ["{} Audience", "{} Consumers", "{} Segment"],
    "Business Technology": ["{} Professionals", "{} Decision Makers", "{} Software Buyers"],
    "company": ["{} Users", "{} Customers", "{} Decision Makers", "{} Administrators",
                "{} Developers"],
    "chrome": ["{} Enthusiasts", "{} Fans", "{} Content Readers"],
}
DESCRIPTIONS = {
    "Interest": "People who show sustained interest in {}, from content, search and social "
                "signals.",
    "Purchase Intent": "Consumers actively researching or comparing {} and likely to buy soon.",
    "Demographic": "Adults in the {} demographic group, from declared and modelled data.",
    "Business Technology": "Business professionals who evaluate, buy or run {} in their "
                           "organisation.",
    "company": "Professionals at companies that use {} products, from firmographic and "
               "technographic signals.",
    "chrome": "Browsers whose recent activity maps to the {} topic.",
}
# How an importer re-creates a topic that exists: spelling variants that mean the same.
VARIANTS = ("case", "plural", "ampersand", "hyphen", "spacing")


@dataclass(frozen=True)
class _Seed:
    kind: str
    label: str
    truth: Classification | None


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
    organizations: int
    org_links: int
    activations: int


def _seeds() -> list[_Seed]:
    taxonomy = get_taxonomy()
    seeds: list[_Seed] = []
    audience = {"Demographic": "demographic", "Interest": "interest",
                "Purchase Intent": "intent", "Business Technology": "technographic"}
    for node in sorted(taxonomy.nodes.values(), key=lambda n: n.id):
        if node.level < 2 or (re.search(r"\d", node.label) and node.taxonomy_type != "Demographic"):
            continue
        segment = "b2b" if node.taxonomy_type == "Business Technology" else "b2c"
        truth = Classification(segment, node.taxonomy_type, node.parent_category,
                               node.subcategory, audience[node.taxonomy_type])
        seeds.append(_Seed(node.taxonomy_type, node.label, truth))
    for name, sector, _sub in load_companies():
        if sector in ("Information Technology", "Communication Services"):
            seeds.append(_Seed("company", clean_company_name(name), None))
    for line in CHROME_TOPICS_FILE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*\d+\s*\|\s*/(.+?)\s*\|", line)
        if match:
            seeds.append(_Seed("chrome", match.group(1).split("/")[-1], None))
    return seeds


def _variant(name: str, kind: str) -> str:
    """A spelling variant of ``name`` that means the same segment."""
    if kind == "plural":
        words = name.split(" ")
        for i in range(len(words) - 1, -1, -1):
            if words[i][:1].isalpha() and len(words[i]) > 3:
                words[i] = words[i][:-1] if words[i].endswith("s") else words[i] + "s"
                return " ".join(words)
    if kind == "ampersand" and ("&" in name or " and " in name):
        return name.replace("&", "and") if "&" in name else name.replace(" and ", " & ")
    if kind == "hyphen" and "-" in name:
        return name.replace("-", " ")
    if kind == "spacing":
        return name.replace(" ", "  ", 1)
    return name.lower() if name != name.lower() else name.title()


def _suffix_variant(name: str) -> str:
    """A stale pushed name: the audience word swapped (what a renamed topic was called)."""
    for a, b in (("Enthusiasts", "Fans"), ("Fans", "Lovers"), ("Intenders", "Buyers"),
                 ("Buyers", "Intenders"), ("Users", "Customers"), ("Customers", "Users")):
        if name.endswith(a):
            return name[: -len(a)] + b
    return name + " Audience"


def _topic_names(rng: random.Random, count: int) -> Iterator[tuple[str, str, str, _Seed]]:
    """(base name, region suffix, description, seed) of ``count`` distinct topics."""
    seeds = _seeds()
    seen: set[str] = set()
    while len(seen) < count:
        seed = rng.choice(seeds)
        base = rng.choice(PREFIXES) + rng.choice(TEMPLATES[seed.kind]).format(seed.label)
        region = rng.choice(REGIONS)
        if (base + region).casefold() in seen:
            continue
        seen.add((base + region).casefold())
        description = DESCRIPTIONS[seed.kind].format(seed.label)
        if region:
            description += f" Market: {region.removeprefix(' - ')}."
        yield base, region, description, seed


def _catalogue_is_empty(conn: Connection) -> bool:
    return conn.execute(sa.select(sa.func.count()).select_from(topics)).scalar_one() == 0


def reset_catalogue(conn: Connection) -> None:
    """Delete every catalogue row and job (demo resets only)."""
    conn.execute(sa.text(
        "TRUNCATE demo_planted_duplicates, not_duplicate_pairs, merges, topic_history, "
        "batch_results_staging, admin_job_chunks, admin_jobs, activations, org_topics, "
        "sync_credentials, topics, "
        "organizations RESTART IDENTITY CASCADE"))


def seed_demo(engine: Engine, *, topics_count: int = 2000, seed: int = 42,
              reset: bool = False) -> DemoSummary:
    """Load a demo catalogue of ``topics_count`` topics into an empty catalogue (and the
    taxonomy trees, when they are not loaded yet).
    """
    if not 1 <= topics_count <= 1_000_000:
        raise UsageError(f"--topics must be from 1 to 1,000,000, got {topics_count}.")
    rng = random.Random(seed)
    engine_rules = get_rule_engine()
    with engine.begin() as conn:
        if reset:
            reset_catalogue(conn)
        elif not _catalogue_is_empty(conn):
            raise UsageError("The catalogue already has topics; seed-demo only fills an empty "
                             "one (use --reset to wipe it first).")
        seeding.seed_trees(conn)  # the Taxonomy screen and the tree jobs need them
        topic_rows: list[_TopicRecord] = []
        planted, bases = [], []
        for topic_id, (base, region, description, seed_item) in enumerate(
                _topic_names(rng, topics_count), start=1):
            original = None
            if topic_id > 10 and rng.random() < 0.04:
                original = topic_rows[rng.randrange(1, topic_id) - 1]
                kind = rng.choice(VARIANTS)
                base, region = _variant(bases[original.id - 1][0], kind), bases[original.id - 1][1]
                description = original.description
                planted.append((topic_id, original.id, kind))
            bases.append((base, region))
            row = _topic_row(rng, topic_id, base + region, description, seed_item, engine_rules)
            if original is not None:  # imported into the same place as the original
                row = row._replace(**{f: getattr(original, f) for f in _CLASSIFIED_FIELDS})
            topic_rows.append(row)
        _copy(conn, "topics", _TopicRecord._fields, topic_rows)
        _copy(conn, "demo_planted_duplicates", ("topic_id", "original_topic_id", "variant"),
              planted)
        summary = _seed_orgs(conn, rng, topic_rows)
        for table in ("topics", "organizations", "org_topics", "activations"):
            conn.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"GREATEST((SELECT max(id) FROM {table}), 1))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE topics, org_topics, activations, organizations"))
    return DemoSummary(len(topic_rows), len(planted), *summary)


def _topic_row(rng: random.Random, topic_id: int, name: str, description: str, seed: _Seed,
               engine_rules: RuleEngine) -> _TopicRecord:
    created = EPOCH - timedelta(days=rng.randrange(1, 720), seconds=rng.randrange(86400))
    roll = rng.random()
    fields: tuple = (None,) * 5
    version = source = classified = None
    if roll >= 0.35:
        truth = seed.truth
        if roll >= 0.65:
            try:
                truth = engine_rules.classify(name, description).classification
                version = engine_rules.version
            except NoRuleMatched:
                truth = None
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
                    pushed_name = _suffix_variant(topic.name) if stale else topic.name
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
