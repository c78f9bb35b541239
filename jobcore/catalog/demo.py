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
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore import audit
from jobcore.catalog.segment_names import parse
from jobcore.classify.companies import clean_company_name, load_companies
from jobcore.classify.segment_classifier import (
    SegmentClassifier,
    classification_of,
    get_classifier,
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
MARKETS = ["", "", "US", "UK", "DE", "FR", "JP", "BR", "IN", "AU", "CA", "ES", "IT", "MX", "NL",
           "SE", "SG", "ZA"]
# How a market is written: after the name, or before it ("US: ...").
MARKET_STYLES = (" - {}", " - {}", " - {}", " ({})", " [{}]", " | {}", "{}: ")
# A share of names comes as a provider's path, on one of the separators real catalogues use.
PATH_SHARE = 0.15
PATH_SEPARATORS = (" > ", " » ", "/", " | ", ": ", " - ")
PATH_ROOTS = {"Interest": ("Interest", "Interests", "Affinity"),
              "Purchase Intent": ("In-Market", "Purchase Intent", "Intent"),
              "Demographic": ("Demographic", "Sociodemographic", "Demographics"),
              "Business Technology": ("B2B", "Technographic"), "company": ("B2B", "Technographic"),
              "chrome": ("Interest", "Topics"), "band": ("Demographic", "Sociodemographic"),
              "b2b_role": ("B2B", "Job Function"), "firmographic": ("B2B", "Firmographics")}
JOB_FUNCTIONS = ("Marketing", "Finance", "Information Technology", "Human Resources", "Sales",
                 "Operations", "Engineering", "Legal", "Purchasing", "Customer Service",
                 "Product Management", "Research and Development")
# The company-size buckets professional networks use, and revenue bands.
FIRMOGRAPHICS = ("1-10 Employees", "11-50 Employees", "51-200 Employees", "201-500 Employees",
                 "501-1,000 Employees", "1,001-5,000 Employees", "5,000+ Employees",
                 "$1M-$10M Revenue", "$10M-$50M Revenue", "$50M-$100M Revenue",
                 "$100M-$500M Revenue", "$1B+ Revenue")
# How a band's family is named before it, by the IAB parent of the band.
BAND_FAMILIES = {"Household Income (USD)": ("Household Income ", "HHI: ", "Household Income: "),
                 "Income (USD)": ("Personal Income ", "Individual Income: "),
                 "Median Home Value (USD)": ("Home Value ", "Home Value: "),
                 "Age Range": ("Adults ", "Age ", "Ages ")}
# Each seed is phrased with one of its kind's wordings (the same one every time); the other
# wordings of the same audience appear only as planted duplicates (WORDINGS).
TEMPLATES = {
    "Interest": ["{} Enthusiasts", "{} Fans", "People Interested in {}", "{} Hobbyists",
                 "{} Content Readers"],
    "Purchase Intent": ["{} Intenders", "In-Market for {}", "{} Shoppers", "{} Buyers",
                        "Likely to Buy {}"],
    "Demographic": ["{} Audience", "{} Consumers", "{} Segment"],
    "Business Technology": ["{} Professionals", "{} Decision Makers", "{} Software Buyers"],
    "band": ["{}"],  # the band's text names its family
    "b2b_role": ["{} Decision Makers", "{} Professionals", "Job Function > {}", "{} Managers",
                 "{} Directors"],
    "firmographic": ["Company Size: {}", "Companies with {}", "Firmographics > {}"],
    "company": ["{} Users", "{} Customers", "{} Decision Makers", "{} Administrators",
                "{} Developers"],
    # Chrome Topics are interests: the same wordings, so a label both lists hold gets one
    "chrome": ["{} Enthusiasts", "{} Fans", "People Interested in {}", "{} Hobbyists",
               "{} Content Readers"],
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
    "band": "Adults in the {} band, from declared and modelled data.",
    "b2b_role": "Professionals whose job function is {}, from professional-network signals.",
    "firmographic": "People working at companies of {}, from firmographic data.",
}
# How an importer or a data provider re-creates a topic that exists: variants that mean the
# same segment.
VARIANTS = ("case", "plural", "ampersand", "hyphen", "spacing", "provider", "reordered",
            "abbreviation", "wording", "description")
WORDINGS = (("{} Intenders", "In-Market for {}", "{} Shoppers", "{} Buyers", "Likely to Buy {}"),
            ("{} Enthusiasts", "{} Fans", "People Interested in {}", "{} Hobbyists"))
PROVIDERS = ("Acme Data", "Datalogix", "Oracle Audiences", "Eyeota", "Lotame")
ABBREVIATIONS = {"Technology": "Tech", "Management": "Mgmt", "Information": "Info",
                 "International": "Intl", "Entertainment": "Ent", "Automotive": "Auto",
                 "Professionals": "Pros", "Applications": "Apps", "Equipment": "Equip",
                 "Services": "Svcs", "Development": "Dev", "Marketing": "Mktg",
                 "Government": "Govt", "Education": "Edu", "Accessories": "Accs",
                 "Computers": "PCs", "Television": "TV", "Products": "Prods",
                 "Administrators": "Admins", "Developers": "Devs", "Health": "Hlth",
                 "Finance": "Fin", "Insurance": "Ins"}
PLANT_TRIES = 40
# Twins that must not be merged: the same segment for another band, market, version or
# audience.
NEAR_MISSES = ("income", "age", "market", "version", "qualifier")
INCOME_BANDS = ("$25,000-$39,999", "$40,000-$49,999", "$50,000-$74,999", "$75,000-$99,999",
                "$100,000-$149,999")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64")
VERSIONS = (("Windows", ("10", "11")), ("iPhone", ("14", "15", "16")),
            ("PlayStation", ("4", "5")), ("Microsoft Office", ("2019", "2021", "2024")),
            ("Android", ("13", "14", "15")), ("macOS", ("13", "14")))
VERSION_AUDIENCES = ("Users", "Owners", "Developers", "Upgraders")


@dataclass(frozen=True)
class _Seed:
    kind: str
    label: str
    truth: Classification | None
    family: str | None = None  # a band's IAB parent ("Household Income (USD)")


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


def _seeds() -> list[_Seed]:
    taxonomy = get_taxonomy()
    seeds: list[_Seed] = []
    audience = {"Demographic": "demographic", "Interest": "interest",
                "Purchase Intent": "intent", "Business Technology": "technographic"}
    for node in sorted(taxonomy.nodes.values(), key=lambda n: n.id):
        if node.level < 2 or node.label.startswith("*") or (
                re.search(r"\d", node.label) and node.taxonomy_type != "Demographic"):
            continue
        segment = "b2b" if node.taxonomy_type == "Business Technology" else "b2c"
        truth = Classification(segment, node.taxonomy_type, node.parent_category,
                               node.subcategory, audience[node.taxonomy_type])
        if node.taxonomy_type == "Demographic" and node.level >= 3 and \
                re.search(r"\d", node.label) and parse(node.label).ranges:
            seeds.append(_Seed("band", node.label, truth, node.path[-2]))
        else:
            seeds.append(_Seed(node.taxonomy_type, node.label, truth))
    occupation = ("b2c", "Demographic", "Education & Occupation", None, "demographic")
    for function in JOB_FUNCTIONS:
        role = TEMPLATES["b2b_role"][zlib.crc32(function.encode()) % len(TEMPLATES["b2b_role"])]
        level = "Director/Managerial" if role.endswith(("Managers", "Directors")) \
            else "Employment Role"
        seeds.append(_Seed("b2b_role", function, Classification(*occupation[:3], level,
                                                                occupation[4])))
    for band in FIRMOGRAPHICS:
        seeds.append(_Seed("firmographic", band, Classification(*occupation)))
    for name, sector, _sub in load_companies():
        if sector in ("Information Technology", "Communication Services"):
            seeds.append(_Seed("company", clean_company_name(name), None))
    for line in CHROME_TOPICS_FILE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*\d+\s*\|\s*/(.+?)\s*\|", line)
        if match:
            seeds.append(_Seed("chrome", match.group(1).split("/")[-1], None))
    return seeds


@dataclass(frozen=True)
class _Name:
    """A generated topic name in its parts."""

    prefix: str
    template: str
    label: str
    market: str = ""          # a market code, or "" for none
    style: str = " - {}"      # how the market is written (see MARKET_STYLES)
    path: str = ""            # a provider's path before the name, ending in its separator

    @property
    def base(self) -> str:
        return self.prefix + self.template.format(self.label)

    @property
    def region(self) -> str:
        """The market written after the name ("" when it is written before, or none)."""
        return self.style.format(self.market) if self.market and \
            not self.style.endswith(": ") else ""

    @property
    def lead(self) -> str:
        """The market written before the name and its path ("US: ")."""
        return self.style.format(self.market) if self.market and self.style.endswith(": ") \
            else ""

    @property
    def text(self) -> str:
        return self.lead + self.path + self.base + self.region


def _variant(rng: random.Random, name: _Name, kind: str, category: str) -> str | None:
    """A variant of ``name`` (without its market) of this kind that means the same
    segment, or None where the kind does not apply to the name.
    """
    base = name.base
    variant = None
    if kind == "provider":
        variant = f"{rng.choice(PROVIDERS)} > {category} > {base}"
    elif kind == "reordered" and name.prefix:
        variant = f"{name.template.format(name.label)}, {name.prefix.strip()}"
    elif kind == "reordered" and len(base.split()) >= 3:
        first, rest = base.split(" ", 1)
        variant = f"{rest}, {first}"
    elif kind == "abbreviation":
        word = next((w for w in ABBREVIATIONS if re.search(rf"\b{w}\b", base)), None)
        if word is not None:
            variant = re.sub(rf"\b{word}\b", ABBREVIATIONS[word], base)
    elif kind == "wording":
        group = next((g for g in WORDINGS if name.template in g), None)
        if group is not None:
            other = rng.choice([t for t in group if t != name.template])
            variant = name.prefix + other.format(name.label)
    elif kind == "description":
        variant = base
    elif kind == "plural":
        words = base.split(" ")
        for i in range(len(words) - 1, -1, -1):
            if words[i][:1].isalpha() and len(words[i]) > 3:
                words[i] = words[i][:-1] if words[i].endswith("s") else words[i] + "s"
                variant = " ".join(words)
                break
    elif kind == "ampersand" and ("&" in base or " and " in base):
        variant = base.replace("&", "and") if "&" in base else base.replace(" and ", " & ")
    elif kind == "hyphen" and "-" in base:
        variant = base.replace("-", " ")
    elif kind == "spacing":
        variant = base.replace(" ", "  ", 1)
    elif kind == "case":
        variant = base.lower() if base != base.lower() else base.title()
    return variant


def _near_miss(rng: random.Random, name: _Name, kind: str) -> tuple[str, str]:
    """Two names of segments that differ only by a band, market, version or qualifier (a
    version's twins are about a product of VERSIONS, not the seed).
    """
    base = name.base
    if kind == "income":
        a, b = rng.sample(INCOME_BANDS, 2)
        return f"{base}, Household Income {a}", f"{base}, Household Income {b}"
    if kind == "age":
        a, b = rng.sample(AGE_BANDS, 2)
        return f"{base}, Adults {a}", f"{base}, Adults {b}"
    if kind == "version":
        product, versions = rng.choice(VERSIONS)
        a, b = rng.sample(versions, 2)
        audience = rng.choice(VERSION_AUDIENCES)
        return f"{product} {a} {audience}" + name.region, f"{product} {b} {audience}" + name.region
    if kind == "qualifier":
        other = rng.choice([p for p in PREFIXES if p and p != name.prefix])
        return name.text, name.lead + other + name.template.format(name.label) + name.region
    a, b = rng.sample([m for m in MARKETS if m], 2)
    style = name.style if not name.style.endswith(": ") else " - {}"
    return base + style.format(a), base + style.format(b)


def _suffix_variant(name: str) -> str:
    """A stale pushed name: the audience word swapped (what a renamed topic was called)."""
    for a, b in (("Enthusiasts", "Fans"), ("Fans", "Lovers"), ("Intenders", "Buyers"),
                 ("Buyers", "Intenders"), ("Users", "Customers"), ("Customers", "Users")):
        if name.endswith(a):
            return name[: -len(a)] + b
    return name + " Audience"


def _wording(seed: _Seed) -> str:
    """The seed's one wording (stable across runs and seeds)."""
    templates = TEMPLATES[seed.kind]
    return templates[zlib.crc32(seed.label.encode()) % len(templates)]


def _description(seed: _Seed, market: str) -> str:
    description = DESCRIPTIONS[seed.kind].format(seed.label)
    return description + (f" Market: {market}." if market else "")


def _band_text(rng: random.Random, seed: _Seed) -> str:
    """A band seed's label in one of the notations real catalogues use, after the name of
    its family ("Household Income $50K-$75K", "HHI: $50,000 - $74,999", "Adults 25 to 29").
    """
    band = parse(seed.label).ranges[0]
    parent = seed.family or ""
    if parent not in BAND_FAMILIES:  # "Length of Residence: 15 years"
        return f"{re.sub(r' [(]USD[)]', '', parent)}: {seed.label}"
    family = rng.choice(BAND_FAMILIES[parent])
    low, high = band.low, band.high
    if parent == "Age Range":
        if high is None:
            return family + rng.choice((f"{low:g}+", f"{low:g} and Over"))
        last = high - 1
        return family + rng.choice((f"{low:g}-{last:g}", f"{low:g} to {last:g}"))
    if low is None or high is None:
        return family + seed.label
    last = high - 1
    notations = [f"${low:,.0f} - ${last:,.0f}", f"${low:,.0f}-${last:,.0f}"]
    if low % 1000 == 0 and high % 1000 == 0:
        notations.append(f"${low / 1000:g}K-${high / 1000:g}K")
    return family + rng.choice(notations)


def _topic_names(rng: random.Random) -> Iterator[tuple[_Name, _Seed]]:
    """Distinct topic names (by case-folded text), endlessly."""
    seeds = _seeds()
    seen: set[str] = set()
    while True:
        seed = rng.choice(seeds)
        prefix = rng.choice(PREFIXES) if seed.kind not in ("band", "firmographic") else ""
        label = _band_text(rng, seed) if seed.kind == "band" else seed.label
        name = _Name(prefix, _wording(seed), label, rng.choice(MARKETS),
                     rng.choice(MARKET_STYLES), _path(rng, seed))
        if name.text.casefold() in seen:
            continue
        seen.add(name.text.casefold())
        yield name, seed


def _path(rng: random.Random, seed: _Seed) -> str:
    """For a share of names, a provider's path before it: provider, framing root and the
    seed's parent category, on one separator ("Eyeota » In-Market » Automotive Ownership » ").
    """
    if rng.random() >= PATH_SHARE:
        return ""
    separator = rng.choice(PATH_SEPARATORS)
    parts = [rng.choice(PROVIDERS), rng.choice(PATH_ROOTS[seed.kind])]
    if seed.truth is not None and seed.truth.parent_category:
        parts.append(seed.truth.parent_category)
    if separator == "/":
        if any("/" in p for p in parts):
            separator = " > "
        else:
            return "/" + "/".join(parts) + "/"
    return separator.join(parts) + separator


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


def _catalogue(rng: random.Random, count: int, classifier: SegmentClassifier
               ) -> tuple[list[_TopicRecord], list[tuple], list[tuple]]:
    """``count`` topic rows, the planted duplicates and the near-miss twins among them."""
    rows: list[_TopicRecord] = []
    names: list[_Name | None] = []  # None: a near-miss twin, whose text is not its _Name's
    planted: list[tuple] = []
    near_misses: list[tuple] = []
    fresh = _topic_names(rng)
    taken = set()  # case-folded names of the fresh topics and twins
    texts = set()  # the planted variants' names
    while len(rows) < count:
        topic_id = len(rows) + 1
        roll = rng.random()
        if topic_id > 10 and roll < 0.05:  # a duplicate of an earlier topic
            # the kinds in turn, each on an earlier topic it applies to (a few tries, then
            # a change of case)
            kind = VARIANTS[len(planted) % len(VARIANTS)]
            for _ in range(PLANT_TRIES):
                index = rng.randrange(len(rows))
                original, name = rows[index], names[index]
                category = original.parent_category or original.taxonomy_type or "Audiences"
                if name is not None and \
                        (text := _variant(rng, name, kind, category)) is not None:
                    break
            else:
                if name is None:
                    continue
                kind, text = "case", _variant(rng, name, "case", category)
            # the description variant repeats the row's name exactly, path included
            text = original.name if kind == "description" else name.lead + text + name.region
            if kind != "description" and text in texts:  # that variant was planted already
                continue
            texts.add(text)
            description = original.description
            if kind == "description":
                description += " Refreshed monthly from the provider's panel and site data."
            row = _topic_row(rng, topic_id, text, description, _Seed("", "", None), classifier)
            # imported into the same place as the original
            rows.append(row._replace(**{f: getattr(original, f) for f in _CLASSIFIED_FIELDS}))
            names.append(name)
            planted.append((topic_id, original.id, kind))
            continue
        name, seed = next(fresh)
        if topic_id < count and roll < 0.07:  # near-miss twins
            kind = rng.choice(NEAR_MISSES)
            pair = _near_miss(rng, name, kind)
            if any(n.casefold() in taken for n in pair):
                continue
            if kind == "version":  # about the product, not the seed
                seed = _Seed("company", re.sub(r" \d.*$", "", pair[0]), None)
            first = _topic_row(rng, topic_id, pair[0], _description(seed, name.market), seed,
                               classifier)
            second = _topic_row(rng, topic_id + 1, pair[1], first.description, seed,
                                classifier)
            rows += [first, second._replace(**{f: getattr(first, f) for f in _CLASSIFIED_FIELDS})]
            names += [None, None]
            taken.update(n.casefold() for n in pair)
            near_misses.append((topic_id + 1, topic_id, kind))
            continue
        if name.text.casefold() in taken:
            continue
        taken.add(name.text.casefold())
        rows.append(_topic_row(rng, topic_id, name.text, _description(seed, name.market), seed,
                               classifier))
        names.append(name)
    return rows, planted, near_misses


def _topic_row(rng: random.Random, topic_id: int, name: str, description: str, seed: _Seed,
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
