"""The segment-name parser: paths, markets, framing, bands and codes in the notations real
catalogues use (pure: no database).
"""

from __future__ import annotations

import pytest

from jobcore.catalog.name_numbers import NumericRange, normalize_code
from jobcore.catalog.segment_names import parse, repair_text


@pytest.mark.parametrize("name, parts, provider", [
    ("US » Reach » Sociodemographic » Household Income » $50,000-$74,999",
     ("Reach", "Sociodemographic", "Household Income", "$50,000-$74,999"), None),
    ("Demographics > Education > Education Level > High school grad",
     ("Demographics", "Education", "Education Level", "High school grad"), None),
    ("/Hobbies & Leisure/Model Building (By Type)/Model Trains",
     ("Hobbies & Leisure", "Model Building (By Type)", "Model Trains"), None),
    ("Acme | Auto | SUV Intenders", ("Acme", "Auto", "SUV Intenders"), None),
    ("Oracle > In-Market > Autos > SUV", ("In-Market", "Autos", "SUV"), "Oracle"),
    ("Lotame - Auto - SUV Intenders", ("Auto", "SUV Intenders"), "Lotame"),
    ("Eyeota: Interest: Cooking", ("Interest", "Cooking"), "Eyeota"),
    ("Acme / Auto / SUV Intenders", ("Acme", "Auto", "SUV Intenders"), None),
    ("Mac/PC/Linux Users", ("Mac/PC/Linux Users",), None),
    ("Mission: Impossible Fans", ("Mission: Impossible Fans",), None),
    ("HHI: $50K-$75K", ("HHI", "$50K-$75K"), None),
    ("Travel > Destinations > Italy", ("Travel", "Destinations", "Italy"), None),
    ("Homemaker / Domestic Work", ("Homemaker / Domestic Work",), None),
    ("Director/Managerial", ("Director/Managerial",), None),
    ("American Express - Premium", ("American Express - Premium",), None),
    ("Purchase Intent > Home Goods  > Kitchen > Cookware",
     ("Purchase Intent", "Home Goods", "Kitchen", "Cookware"), None),
    ("Yoga Enthusiasts", ("Yoga Enthusiasts",), None),
])
def test_paths_split_on_every_separator(name, parts, provider):
    parsed = parse(name)
    assert parsed.parts == parts
    assert parsed.provider == provider
    assert parsed.leaf == parts[-1]
    assert parsed.ancestors == parts[:-1]


@pytest.mark.parametrize("name, market, leaf", [
    ("Auto Intenders - US", "US", "Auto Intenders"),
    ("(US) Auto Intenders", "US", "Auto Intenders"),
    ("Auto Intenders (US)", "US", "Auto Intenders"),
    ("US: Auto Intenders", "US", "Auto Intenders"),
    ("Auto Intenders [UK]", "GB", "Auto Intenders"),
    ("Auto Intenders - UK", "GB", "Auto Intenders"),
    ("Auto Intenders - GB", "GB", "Auto Intenders"),
    ("Online Gamers - Germany", "DE", "Online Gamers"),  # a country after a dash
    ("IT: /Eyeota/Interest/Senior Gamers", "IT", "Senior Gamers"),
    ("Auto Intenders United Kingdom", "GB", "Auto Intenders"),
    ("Auto Intenders, United States", "US", "Auto Intenders"),
    ("UK - Auto Intenders", "GB", "Auto Intenders"),
    ("US » Auto » Auto Intenders", "US", "Auto Intenders"),
    ("Mining and Quarrying Shoppers - MX", "MX", "Mining and Quarrying Shoppers"),
    ("Shoppers UK", "GB", "Shoppers"),
    ("Shoppers IT", None, "Shoppers IT"),                 # a bare code: not well known
    ("Topic CA", None, "Topic CA"),
    ("Trips to Italy", None, "Trips to Italy"),         # a destination, not a market
    ("Tech in US", None, "Tech in US"),
    ("Shoppers it", None, "Shoppers it"),                 # "it" is a word, not Italy
    ("Made in USA", None, "Made in USA"),
])
def test_markets_in_any_notation(name, market, leaf):
    parsed = parse(name)
    assert parsed.market == market
    assert parsed.leaf == leaf


@pytest.mark.parametrize("name, framing", [
    ("Luxury SUV Intenders", "intent"), ("In-Market for SUVs", "intent"),
    ("In Market > Autos", "intent"), ("SUV Shoppers", "intent"), ("Car Buyers", "intent"),
    ("High propensity to buy: Electronics", "intent"), ("Likely to Buy a Car", "intent"),
    ("Yoga Enthusiasts", "interest"), ("Football Fans", "interest"),
    ("Coffee Lovers", "interest"), ("Travel Affinity", "interest"),
    ("Interests > Cooking", "interest"),
    ("Sociodemographic > Age > 25-34", "demographic"),
    ("Job Function: Marketing", "b2b"), ("B2B > IT Decision Makers", "b2b"),
    ("Interests > Autos > SUV Intenders", "intent"),  # the cue nearest the leaf wins
    ("Cooking", None),
])
def test_framing_cues(name, framing):
    assert parse(name).framing == framing


def _band(name: str) -> tuple:
    band = parse(name).ranges[0]
    return band.low, band.high, band.unit


@pytest.mark.parametrize("name, band", [
    ("Age 25-34", (25, 35, "age")), ("Adults 25 to 34", (25, 35, "age")),
    ("Age bracket > 18-24 years", (18, 25, "age")),
    ("Ages 55+", (55, None, "age")), ("Adults 65 and over", (65, None, "age")),
    ("Age 65 and older", (65, None, "age")), ("Aged under 18", (None, 18, "age")),
    ("Women 18-34", (18, 35, "age")), ("Age 21", (21, 22, "age")),
    ("$50K-$75K", (50_000, 75_000, "usd")), ("$50,000 - $74,999", (50_000, 75_000, "usd")),
    ("$50000 - $74999", (50_000, 75_000, "usd")), ("$75000 - $99999", (75_000, 100_000, "usd")),
    ("$100,000 or more", (100_000, None, "usd")), ("$100,000 +", (100_000, None, "usd")),
    ("100K+ income", (100_000, None, None)), ("Over $100,000", (100_000, None, "usd")),
    ("< $30K", (None, 30_000, "usd")), ("Less than $1 million", (None, 1_000_000, "usd")),
    ("$10-100 million", (10_000_000, 100_000_000, "usd")),
    ("More than $1 billion", (1_000_000_000, None, "usd")),
    ("Top 10%", (90, None, "percent")),
    ("1-10 employees", (1, 11, "count")), ("10,001+ employees", (10_001, None, "count")),
    ("household size 3+", (3, None, "count")), ("3+ Child", (3, None, "count")),
    ("2 Adults", (2, 3, "count")), ("Seniors 65 and Over", (65, None, "age")),
    ("Two-Person Households", (2, 3, "count")), ("3 Person Household", (3, 4, "count")),
    ("$15,000 $19,999", (15_000, 20_000, "usd")),  # two amounts side by side
])
def test_bands_with_unit(name, band):
    low, high, unit = _band(name)
    assert (low, high) == band[:2]
    if band[2] is not None:
        assert unit == band[2]


@pytest.mark.parametrize("first, second", [
    ("$50K-$75K", "$50,000 - $74,999"), ("$50,000-$74,999", "$50000 - $74999"),
    ("100K+ income", "$100,000 or more"), ("$100,000 or more", "Over $100,000"),
    ("Age 25 to 34", "Adults 25-34"), ("55+", "55 and over"),
])
def test_notations_of_one_band_compare_equal(first, second):
    assert parse(first).ranges[0].same_band(parse(second).ranges[0])
    assert parse(second).ranges[0].same_band(parse(first).ranges[0])


@pytest.mark.parametrize("first, second", [
    ("$50K-$75K", "$75K-$100K"), ("Age 25-34", "Age 35-44"), ("55+", "65+"),
])
def test_other_bands_differ(first, second):
    assert not parse(first).ranges[0].same_band(parse(second).ranges[0])


def test_band_containment_reads_open_sides():
    assert NumericRange(50_000, 100_000, "usd").contains(NumericRange(50_000, 75_000, "usd"))
    assert not NumericRange(50_000, 75_000, "usd").contains(NumericRange(50_000, 100_000, "usd"))
    assert NumericRange(250_000, None, "usd").contains(NumericRange(300_000, None, "usd"))
    assert not NumericRange(250_000, None, "usd").contains(NumericRange(100_000, None, "usd"))


@pytest.mark.parametrize("name, generation", [
    ("Gen Z", "gen_z"), ("Generation Z Shoppers", "gen_z"), ("Zoomers", "gen_z"),
    ("Millennials", "millennials"), ("Millenials", "millennials"), ("Gen Y", "millennials"),
    ("Generation Y", "millennials"), ("Gen X", "gen_x"), ("Generation X Moms", "gen_x"),
    ("Baby Boomers", "boomers"), ("Boomer", "boomers"), ("Coffee Lovers", None),
])
def test_generations_and_synonyms(name, generation):
    assert parse(name).generation == generation


@pytest.mark.parametrize("name, gender", [
    ("Women 18-34", "female"), ("Female", "female"), ("Moms", "female"), ("Men", "male"),
    ("Male Gamers", "male"), ("Adults 25-34", None), ("Men and Women", None),
])
def test_gender(name, gender):
    assert parse(name).gender == gender


@pytest.mark.parametrize("name, codes", [
    ("HP F3H982-10 toner", ("F3H98210",)), ("HP F3H98210 toner", ("F3H98210",)),
    ("Canon CLI-8M ink", ("CLI8M",)), ("canon cli8m ink", ("CLI8M",)),
    ("Part 963293-0403", ("9632930403",)), ("Part 9632930403", ("9632930403",)),
    ("Age 25-34", ()), ("4x4 Trucks", ()), ("3D Printers", ()),
])
def test_model_codes_written_two_ways_normalise_alike(name, codes):
    assert parse(name).model_codes == codes


def test_versions():
    assert parse("Office 2.1 Users").versions == ("2.1",)
    assert parse("App v3 Users").versions == ("3",)
    assert normalize_code("cli-8m") == "CLI8M"


def test_mojibake_and_spacing_are_repaired():
    assert repair_text("Trips to SÃ£o Paulo") == "Trips to São Paulo"
    assert parse("Food and Beverages  > Coffee").parts == ("Food and Beverages", "Coffee")


def test_parent_path_is_a_prefix():
    parent = parse("/Home & Garden")
    child = parse("/Home & Garden/Patio Furniture")
    assert parent.is_ancestor_of(child)
    assert not child.is_ancestor_of(parent)
    assert not parse("Apparel").is_ancestor_of(parse("Apparel"))


def test_empty_and_odd_input_never_raise():
    for name in ("", "   ", ">>>", "$", "-", "()", "»", "/", "a" * 5000, "x\x00y", "1 " * 10000,
                 "1-" * 5000):
        parse(name)


@pytest.mark.parametrize("name", ["Windows 10 Users", "Office 365 Users", "Xbox 360 Gamers"])
def test_a_product_number_before_users_is_not_a_band(name):
    assert parse(name).ranges == ()


def test_a_decimal_broken_by_a_space_is_one_version():
    assert parse("Mac OS X v10 .4 Tiger").versions == ("10.4",)
