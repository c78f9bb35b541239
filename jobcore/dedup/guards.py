"""The guards: what must not contradict for two topic names to be duplicates, read from the
parsed name (jobcore.catalog.segment_names), so that a notation is never a difference.

- **Market** in any notation (" - US", "(US)", "US:", "United States"): equal, or none on
  both.
- **Bands** (ages, money, counts) as numeric ranges: equal across notations ("$50K-$75K" and
  "$50,000 - $74,999" are one band, "100K+" and "$100,000 or more" one open band); different
  bands, or a band on one name only, refuse.
- **Generation** (Gen Z / Generation Z, Millennials / Gen Y) and **gender**: equal.
- **Framing**: purchase intent, interest and demographic (B2B included) refuse each other (a
  name that says none goes with each); two providers' paths of which only one names its
  frame are different trees' segments.
- **Audience qualifiers** ("Affluent", "Urban", "Frequent", "Young", "Parents"): equal.
- **Offers**: the editions the leaf of a product name states (upgrade, academic, deluxe,
  professional...) equal; platforms (Mac, Windows) not exclusive ("for Mac" against "Win").
- **Identifiers**: model codes are normalised (case, hyphens, spaces: "F3H982-10" is
  "F3H98210"); two names with codes must share one; versions ("v2.1", "Windows 10") and the
  other numbers, ordinals included ("1st", "2nd"), must not contradict: one name's all
  appear in the other's, a release matching its point releases ("v8" is "8.0", "6.2" holds
  "6.2.9"; "2.5" is not "2.6"). Digits inside a code or a band are not numbers.
- **Paths**: a name whose path is a prefix of another's is its parent, never its duplicate.

``refusal`` names the first guard that refuses a pair (the review screen's "why not?").
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from jobcore.catalog import segment_names
from jobcore.catalog.name_numbers import NumericRange, code_spans
from jobcore.catalog.segment_names import B2B, DEMOGRAPHIC, INTENT, INTEREST
from jobcore.dedup import wording

_NUMBER = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*)(?:st|nd|rd|th)?(?![\w])")  # not "3d" or a code

_WORD = re.compile(r"[a-z0-9]+")
_DIGIT = re.compile(r"\d")
_TRAILING_ZEROS = re.compile(r"(?:\.0+)+$")
# Words that name a narrower audience: "Affluent Cooking Fans" is not "Cooking Fans", nor
# "Senior Cooking Fans". Generations and genders have guards of their own.
AUDIENCE_QUALIFIERS = frozenset({
    "affluent", "wealthy", "young", "urban", "suburban", "rural", "frequent", "senior",
    "seniors", "premium", "budget", "eco", "teen", "teens", "student", "students", "retired",
    "retirees", "parents", "moms", "dads"})
# frames that contradict each other (a B2B job function is a demographic in IAB's terms)
_FRAMES = {INTENT: INTENT, INTEREST: INTEREST, DEMOGRAPHIC: DEMOGRAPHIC, B2B: DEMOGRAPHIC}
_QUALIFIER_STEMS = frozenset(wording.stem(w) for w in wording.expanded(AUDIENCE_QUALIFIERS))
_AGE_STEMS = frozenset(wording.stem(w) for w in (
    "senior", "seniors", "teen", "teens", "young", "adults", "retirees", "retired"))


@dataclass(frozen=True, slots=True)
class Markers:
    """What must not contradict for two names to be duplicates (see the module docstring)."""

    market: str
    numbers: frozenset[str]
    qualifiers: frozenset[str] = frozenset()
    audience: str = ""  # the framing: intent, interest, demographic, b2b or ""
    has_path: bool = False  # written as a provider's path ("A > B > Leaf")
    bands: frozenset[tuple[str, float | None, float | None]] = frozenset()
    generation: str = ""
    gender: str = ""
    codes: frozenset[str] = frozenset()
    versions: frozenset[str] = frozenset()
    path: tuple[str, ...] = ()  # each part's stemmed words, provider and market left out
    editions: frozenset[str] = frozenset()
    platforms: frozenset[str] = frozenset()


def band_key(band: NumericRange) -> tuple[str, float | None, float | None]:
    """A band as (what it counts, low, high): equal across notations."""
    return (band.noun or band.unit or "", band.low, band.high)


@lru_cache(maxsize=200_000)  # a catalogue repeats its path parts
def _part_key(part: str) -> str:
    return " ".join(wording.stem(w) for w in wording.expanded(_WORD.findall(wording.folded(part))))


def _numbers(parsed: segment_names.ParsedName) -> frozenset[str]:
    """Numbers of the name outside its bands and model codes (thousands separators dropped)."""
    found: set[str] = set()
    for index, part in enumerate(parsed.parts):
        if _DIGIT.search(part) is None:
            continue
        bands = parsed.ranges if index == len(parsed.parts) - 1 else ()
        for band in bands:
            if band.unit is not None:
                part = part.replace(band.text, " ")
        for start, end in reversed(code_spans(part)):
            part = part[:start] + " " + part[end:]
        found.update(_TRAILING_ZEROS.sub("", n.replace(",", "")) for n in _NUMBER.findall(part))
    return frozenset(found)


def _releases(versions: tuple[str, ...]) -> frozenset[str]:
    """Versions without trailing zero parts: "v8", "8.0" and "v 8.00" are one release."""
    return frozenset(_TRAILING_ZEROS.sub("", v) for v in versions)


def _numbers_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """One name's numbers (or versions) all appear in the other's, a number matching a
    release of it ("7" matches "7.2", "6.2" matches "6.2.9"; "4.0" was read as "4").
    """
    def within(small: frozenset[str], large: frozenset[str]) -> bool:
        return all(n in large or any(m.startswith(n + ".") for m in large) for n in small)
    return within(a, b) or within(b, a)


def qualifiers(parsed: segment_names.ParsedName) -> frozenset[str]:
    """The audience qualifiers of the name's path (stemmed: a qualifier anywhere in it
    narrows the audience); age words left out where a band or a generation says the age
    ("Seniors 65 and Over" is "Age 65+").
    """
    words = {w for part in parsed.parts for w in _part_key(part).split()}
    found = words & _QUALIFIER_STEMS
    if parsed.generation or any(b.unit == "age" for b in parsed.ranges):
        found -= _AGE_STEMS
    return frozenset(found)


# every name of a million-topic catalogue: the lexical index reads each name's markers
# when it is built (its guard key), and a sweep reads them again for every candidate
MARKERS_KEPT = 1_100_000


@lru_cache(maxsize=MARKERS_KEPT)
def markers(name: str) -> Markers:
    """The markers of a topic name (see the module docstring); their sets are shared
    between names (most names hold the same few), a few hundred bytes a name.
    """
    parsed = segment_names.parse_cached(name)
    editions, platforms = wording.offer_terms(parsed.leaf)  # not a path's "Family"
    return Markers(
        market=parsed.market or "", numbers=_shared(_numbers(parsed)),
        qualifiers=_shared(qualifiers(parsed)), audience=parsed.framing or "",
        has_path=len(parsed.parts) > 1,
        bands=_shared(frozenset(band_key(b) for b in parsed.ranges if b.unit is not None)),
        generation=parsed.generation or "", gender=parsed.gender or "",
        codes=_shared(frozenset(parsed.model_codes)),
        versions=_shared(_releases(parsed.versions)),
        path=_shared(tuple(_part_key(p) for p in parsed.parts)), editions=_shared(editions),
        platforms=_shared(platforms))


_SHARED: dict[Hashable, Any] = {}
_Value = TypeVar("_Value", bound=Hashable)


def _shared(values: _Value) -> _Value:
    """One copy of each distinct set or path (an empty frozenset alone is 216 bytes)."""
    found = _SHARED.get(values)
    if found is None:
        if len(_SHARED) >= MARKERS_KEPT:
            _SHARED.clear()
        found = _SHARED[values] = values
    return found


def band_text(band: tuple[str, float | None, float | None]) -> str:
    """A band key as people read it ("age 35 to 45", "usd 100000+", "usd under 30000")."""
    unit, low, high = band
    if high is None:
        return f"{unit} {low:g}+"
    return f"{unit} under {high:g}" if low is None else f"{unit} {low:g} to {high:g}"


def _band_text(bands: frozenset[tuple[str, float | None, float | None]]) -> str:
    return ", ".join(sorted(band_text(b) for b in bands)) or "none"


def _contradiction(a: Markers, b: Markers) -> str | None:
    """Which guard refuses the pair (a key of ``_REASONS``), or None: the sweep's hot path,
    without the words of the reason.
    """
    if a.market != b.market:
        return "market"
    if a.audience and b.audience and _FRAMES[a.audience] != _FRAMES[b.audience]:
        return "frame"
    if a.has_path and b.has_path and bool(a.audience) != bool(b.audience):
        return "trees"
    if a.bands != b.bands:
        return "bands"
    if a.generation != b.generation:
        return "generation"
    if a.gender != b.gender:
        return "gender"
    if a.qualifiers != b.qualifiers:
        return "qualifiers"
    if a.editions != b.editions:
        return "editions"
    if a.platforms and b.platforms and not a.platforms & b.platforms:
        return "platforms"
    if a.codes and b.codes and not a.codes & b.codes:
        return "codes"
    if a.versions != b.versions and not _numbers_agree(a.versions, b.versions):
        return "versions"
    if a.numbers != b.numbers and not _numbers_agree(a.numbers, b.numbers):
        return "numbers"
    shorter, longer = (a.path, b.path) if len(a.path) <= len(b.path) else (b.path, a.path)
    if 1 <= len(shorter) < len(longer) and longer[:len(shorter)] == shorter:
        return "parent"
    return None


def _listed(values: frozenset[str]) -> str:
    return ", ".join(sorted(values)) or "none"


_REASONS = {
    "market": lambda a, b: f"different markets: {a.market or 'none'} against {b.market or 'none'}",
    "frame": lambda a, b: f"{a.audience} against {b.audience}",
    "trees": lambda a, b: (f"two providers' paths, one framed as {a.audience or b.audience} "
                           "and the other not: different trees"),
    "bands": lambda a, b: f"different bands: {_band_text(a.bands)} against "
                          f"{_band_text(b.bands)}",
    "generation": lambda a, b: (f"different generations: {a.generation or 'none'} against "
                                f"{b.generation or 'none'}"),
    "gender": lambda a, b: f"different genders: {a.gender or 'both'} against "
                           f"{b.gender or 'both'}",
    "qualifiers": lambda a, b: (f"different audience qualifiers: {_listed(a.qualifiers)} "
                                f"against {_listed(b.qualifiers)}"),
    "editions": lambda a, b: (f"different editions: {_listed(a.editions)} against "
                              f"{_listed(b.editions)}"),
    "platforms": lambda a, b: (f"different platforms: {_listed(a.platforms)} against "
                               f"{_listed(b.platforms)}"),
    "codes": lambda a, b: f"different model codes: {_listed(a.codes)} against "
                          f"{_listed(b.codes)}",
    "versions": lambda a, b: f"different versions: {_listed(a.versions)} against "
                             f"{_listed(b.versions)}",
    "numbers": lambda a, b: f"different numbers: {_listed(a.numbers)} against "
                            f"{_listed(b.numbers)}",
    "parent": lambda a, b: "parent and child: one name's path holds the other's",
}


def refusal(a: Markers, b: Markers) -> str | None:
    """Why two names cannot be duplicates, or None when no guard refuses them."""
    found = _contradiction(a, b)
    return None if found is None else _REASONS[found](a, b)


def compatible(a: Markers, b: Markers) -> bool:
    """Whether the guards allow two names' markers to be duplicates."""
    return _contradiction(a, b) is None


def guard_key(name: str) -> tuple[str, frozenset[str], frozenset[str]]:
    """What two names must have alike for ``compatible`` to allow them (market, qualifiers
    and editions): the lexical index looks for candidates only among names of the same key.
    """
    marks = markers(name)
    return marks.market, marks.qualifiers, marks.editions
