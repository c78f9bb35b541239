"""The demo catalogue's names: seeds from the IAB, Business Technology, company, Chrome
Topics, job-function and firmographic lists, phrased as provider catalogues write them
(paths, markets, bands in several notations), and the planted duplicate variants and
near-miss twins (see jobcore.catalog.demo).
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from jobcore.catalog.segment_names import parse
from jobcore.classify.companies import clean_company_name, load_companies
from jobcore.classify.taxonomy import DATA_DIR, Classification, get_taxonomy

CHROME_TOPICS_FILE = DATA_DIR / "catalog" / "chrome_topics_taxonomy_v2.md"
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
class Seed:
    kind: str
    label: str
    truth: Classification | None
    family: str | None = None  # a band's IAB parent ("Household Income (USD)")



def seeds() -> list[Seed]:
    taxonomy = get_taxonomy()
    seeds: list[Seed] = []
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
            seeds.append(Seed("band", node.label, truth, node.path[-2]))
        else:
            seeds.append(Seed(node.taxonomy_type, node.label, truth))
    occupation = ("b2c", "Demographic", "Education & Occupation", None, "demographic")
    for function in JOB_FUNCTIONS:
        role = TEMPLATES["b2b_role"][zlib.crc32(function.encode()) % len(TEMPLATES["b2b_role"])]
        level = "Director/Managerial" if role.endswith(("Managers", "Directors")) \
            else "Employment Role"
        seeds.append(Seed("b2b_role", function, Classification(*occupation[:3], level,
                                                                occupation[4])))
    for band in FIRMOGRAPHICS:
        seeds.append(Seed("firmographic", band, Classification(*occupation)))
    for name, sector, _sub in load_companies():
        if sector in ("Information Technology", "Communication Services"):
            seeds.append(Seed("company", clean_company_name(name), None))
    for line in CHROME_TOPICS_FILE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*\d+\s*\|\s*/(.+?)\s*\|", line)
        if match:
            seeds.append(Seed("chrome", match.group(1).split("/")[-1], None))
    return seeds


@dataclass(frozen=True)
class Name:
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


def variant(rng: random.Random, name: Name, kind: str, category: str) -> str | None:
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


def near_miss(rng: random.Random, name: Name, kind: str) -> tuple[str, str]:
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


def suffix_variant(name: str) -> str:
    """A stale pushed name: the audience word swapped (what a renamed topic was called)."""
    for a, b in (("Enthusiasts", "Fans"), ("Fans", "Lovers"), ("Intenders", "Buyers"),
                 ("Buyers", "Intenders"), ("Users", "Customers"), ("Customers", "Users")):
        if name.endswith(a):
            return name[: -len(a)] + b
    return name + " Audience"


def wording(seed: Seed) -> str:
    """The seed's one wording (stable across runs and seeds)."""
    templates = TEMPLATES[seed.kind]
    return templates[zlib.crc32(seed.label.encode()) % len(templates)]


def description_of(seed: Seed, market: str) -> str:
    description = DESCRIPTIONS[seed.kind].format(seed.label)
    return description + (f" Market: {market}." if market else "")


def band_text(rng: random.Random, seed: Seed) -> str:
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


def topic_names(rng: random.Random) -> Iterator[tuple[Name, Seed]]:
    """Distinct topic names (by case-folded text), endlessly."""
    all_seeds = seeds()
    seen: set[str] = set()
    while True:
        seed = rng.choice(all_seeds)
        prefix = rng.choice(PREFIXES) if seed.kind not in ("band", "firmographic") else ""
        label = band_text(rng, seed) if seed.kind == "band" else seed.label
        name = Name(prefix, wording(seed), label, rng.choice(MARKETS),
                     rng.choice(MARKET_STYLES), provider_path(rng, seed))
        if name.text.casefold() in seen:
            continue
        seen.add(name.text.casefold())
        yield name, seed


def provider_path(rng: random.Random, seed: Seed) -> str:
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
