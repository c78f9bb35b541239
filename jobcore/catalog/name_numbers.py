"""The numbers in a segment name's leaf (jobcore.catalog.segment_names): bands in many
notations read as half-open ranges with their unit, household sizes, generations and
genders, and model codes.

Ranges are half-open ``[low, high)`` so that notations of one band compare equal: "$50K-$75K"
and "$50,000 - $74,999" are both [50,000, 75,000); "25-34" (ages, inclusive) is [25, 35);
an open band ("$100,000 or more", "55+") has ``high=None`` and "under 18" ``low=None``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"[a-z0-9]+")

# -- numbers ----------------------------------------------------------------------------
_AMOUNT = (r"(?<![\w.])(?:[$€£]\s?)?\d[\d,]*(?:\.\d+)?\s?"
           r"(?:[kKmMbB](?![a-zA-Z])|thousand|million|billion|mm)?")
_MONEY = (r"(?<![\w.])[$€£]\s?\d[\d,]*(?:\.\d+)?\s?"
          r"(?:[kKmMbB](?![a-zA-Z])|thousand|million|billion|mm)?")
_NUMBER = re.compile(
    r"(?P<cur>[$€£])?\s?(?P<num>\d[\d,]*(?:\.\d+)?)\s?(?P<mult>[kKmMbB](?![a-zA-Z])|thousand|"
    r"million|billion|mm)?\s?(?P<cur2>usd|eur|gbp|dollars)?", re.IGNORECASE)
_RANGE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("between", re.compile(
        rf"(?P<a>{_AMOUNT})\s*(?:-|–|—|to|thru|through|until)\s*(?P<b>{_AMOUNT})", re.IGNORECASE)),
    ("between", re.compile(  # "$15,000 $19,999": two amounts of money side by side
        rf"(?P<a>{_MONEY})\s+(?P<b>{_MONEY})", re.IGNORECASE)),
    ("above", re.compile(rf"(?P<a>{_AMOUNT})\s*(?:\+|plus\b|(?:and|or) (?:over|above|more|older|up|"
                         rf"higher|greater)\b)", re.IGNORECASE)),
    ("above", re.compile(rf"(?:over|above|more than|greater than|at least|>=?|≥|older than)\s*"
                         rf"(?P<a>{_AMOUNT})", re.IGNORECASE)),
    ("below", re.compile(rf"(?:under|below|less than|fewer than|up to|younger than|<=?|≤)\s*"
                         rf"(?P<b>{_AMOUNT})", re.IGNORECASE)),
    ("below", re.compile(rf"(?P<b>{_AMOUNT})\s*(?:or|and) (?:under|less|below|younger)\b",
                         re.IGNORECASE)),
    ("top", re.compile(r"\b(?:top|bottom)\s+(?P<a>\d{1,2}(?:\.\d+)?)\s?%", re.IGNORECASE)),
    ("single", re.compile(rf"(?P<a>{_AMOUNT})", re.IGNORECASE)),
)
_NUMBER_WORDS = {w: float(n) for n, w in enumerate(
    ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"), start=1)}
_PERSONS = re.compile(r"\b(?P<n>\d{1,2}|" + "|".join(_NUMBER_WORDS) +
                      r")[\s-]+(?:person|people|member)\s+households?\b", re.IGNORECASE)
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "b": 1e9,
                "billion": 1e9}
_AGE_CONTEXT = re.compile(r"\b(?:ages?|aged|years? old|yrs? old|adults?|men|women|males?|"
                          r"females?|persons?|people aged|kids|teens?|children aged|y/o|yo|"
                          r"seniors?)\b",
                          re.IGNORECASE)
_YEARS_UNIT = re.compile(r"^\s*(?:years?|yrs?)\b", re.IGNORECASE)
_COUNT_NOUN = re.compile(
    r"^\s*(?P<noun>employees?|staff|people|persons?|individuals?|children|child|kids?|adults?|"
    r"members?|locations?|vehicles?|cars?|pets?|users?|seats?|stores?|beds?|rooms?)\b",
    re.IGNORECASE)
_COUNT_BEFORE = re.compile(r"(?P<noun>household size|size|employees?|headcount|"
                           r"number of [a-z]+)\s*:?\s*$",
                           re.IGNORECASE)

# -- other cues -------------------------------------------------------------------------
# Generations and gender in one pass over the leaf (most names have neither).
_PEOPLE = re.compile(
    r"\b(?:(?P<gen_alpha>gen(?:eration)?[ -]?alpha)|(?P<gen_z>gen(?:eration)?[ -]?z|zoomers?|"
    r"centennials?)|(?P<millennials>millenn?ials?|gen(?:eration)?[ -]?y)|"
    r"(?P<gen_x>gen(?:eration)?[ -]?x(?:ers?)?)|(?P<boomers>(?:baby[ -]?)?boomers?)|"
    r"(?P<silent>silent generation|traditionalists)"
    r"|(?P<female>female|females|women|woman|ladies|lady|girls?|moms?|mothers?|mums?|wives)"
    r"|(?P<male>male|males|men|man|gentlemen|guys|boys?|dads?|fathers?|husbands))\b",
    re.IGNORECASE)
_PEOPLE_WORDS = frozenset((
    "gen", "generation", "genx", "geny", "genz", "millennial", "millennials", "millenial",
    "millenials", "boomer", "boomers", "babyboomers", "zoomer", "zoomers", "centennial",
    "centennials", "silent", "traditionalists", "female", "females", "women", "woman", "ladies",
    "lady", "girl", "girls", "mom", "moms", "mother", "mothers", "mum", "mums", "wives", "male",
    "males", "men", "man", "gentlemen", "guys", "boy", "boys", "dad", "dads", "father",
    "fathers", "husbands"))
_MODEL_CODE = re.compile(r"(?<![\w$.,])(?:(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9]+"
                         r"(?:-[A-Za-z0-9]+)*|\d{5,}(?:-\d+)*|\d+-\d{4,})(?![\w,])")
VERSION = re.compile(r"\b(?:v(?:ersion)?\s?)?(\d+(?:\.\d+)+|(?<=v)\d+)\b", re.IGNORECASE)
_VERSION_WORD = re.compile(r"^v\d+$", re.IGNORECASE)  # "v17": a version, not a code
_UNIT_WORDS = re.compile(r"^(?:\d+(?:st|nd|rd|th|s|k|m|mm|b|yrs?|x|p|gb|tb|mb|hp|cc|ml|oz|lb|"
                         r"in|ft|mph|g|kg|am|pm|d)|\d+x\d+|[a-z]\d)$", re.IGNORECASE)


class NumericRange(NamedTuple):
    """A numeric band ``[low, high)`` (None: open on that side) with its unit: ``age``,
    ``usd`` (any currency amount), ``count`` (with its noun), ``percent``, ``years`` or
    ``None`` (a bare number whose unit the context must tell).
    """

    low: float | None
    high: float | None
    unit: str | None
    noun: str | None = None
    text: str = ""

    def contains(self, other: NumericRange) -> bool:
        """Whether ``other`` lies inside this band (open sides included)."""
        low_ok = self.low is None or (other.low is not None and other.low >= self.low)
        high_ok = self.high is None or (other.high is not None and other.high <= self.high)
        return low_ok and high_ok

    def same_band(self, other: NumericRange) -> bool:
        """Equal bounds and compatible units (a bare number takes any unit)."""
        units_agree = self.unit is None or other.unit is None or self.unit == other.unit
        return units_agree and self.low == other.low and self.high == other.high


def _amount(text: str) -> tuple[float, bool, str | None]:
    """(value, has a currency sign, multiplier word) of one amount."""
    match = _NUMBER.search(text)
    assert match is not None
    value = float(match.group("num").replace(",", ""))
    mult = match.group("mult")
    if mult:
        value *= _MULTIPLIERS[mult.lower()]
    currency = bool(match.group("cur") or match.group("cur2"))
    return value, currency, mult


def _exclusive_high(value: float, integer_band: bool) -> float:
    """The exclusive upper bound of a band written up to ``value``: 74,999 and 34 (ages)
    end before 75,000 and 35; a round 75,000 (from "$50K-$75K") already is the bound.
    """
    if integer_band:
        return value + 1
    text = f"{value:.0f}"
    return value + 1 if text.endswith("9") else value


def _unit_of(text: str, start: int, end: int, currency: bool, mult: str | None,
             context: str) -> tuple[str | None, str | None]:
    after = text[end:]
    before = text[:start]
    if currency:
        return "usd", None
    if "%" in text[start:end + 2]:
        return "percent", None
    noun = _COUNT_NOUN.match(after)
    if noun:
        return "count", noun.group("noun").lower().rstrip("s") or None
    noun = _COUNT_BEFORE.search(before)
    if noun:
        return "count", noun.group("noun").lower()
    millions = mult and mult.lower() in ("m", "mm", "million", "b", "billion")
    if millions and _ATTACHED_MILLIONS.search(text[start:end]):  # not "7.3 m-audio"
        return "usd", None
    if _YEARS_UNIT.match(after):
        return ("age" if _AGE_CONTEXT.search(context) else "years"), None
    if _AGE_CONTEXT.search(context):
        return "age", None
    return None, None


_ATTACHED_MILLIONS = re.compile(r"\d(?:mm?|b)\b|million|billion", re.IGNORECASE)
_OLDEST_AGE = 120


def _plausible_age(low: float | None, high: float | None) -> bool:
    """Whole years from 0 to 120: "Mac 8.6-9.x" or "10307" near "age" is no age band."""
    return all(v is None or (v == int(v) and 0 <= v <= _OLDEST_AGE) for v in (low, high))


MAX_BAND_TEXT = 300  # a longer leaf is not a segment name: its bands are not read past this


def ranges_in(leaf: str, context: str) -> tuple[NumericRange, ...]:
    """Numeric bands of the leaf, each with its unit."""
    if not _DIGIT.search(leaf):
        return ()
    leaf = leaf[:MAX_BAND_TEXT]
    found: list[NumericRange] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _RANGE_PATTERNS:
        for match in pattern.finditer(leaf):
            span = match.span()
            if any(span[0] < b and a < span[1] for a, b in taken):
                continue
            token = match.group(0)
            if kind == "single" and _UNIT_WORDS.match(leaf[span[0]:].split(" ")[0].rstrip(",")):
                continue  # 4x4, 3D, 2nd: not a number of anything
            band = _range_of(kind, match, leaf, context, token)
            if band.low is None and band.high is None:
                continue
            if kind == "single" and (band.unit is None or band.noun == "user"):
                continue  # a bare number ("Windows 11", "Windows 10 Users") is not a band
            taken.append(span)
            found.append(band)
    return tuple(found)


def household_size(leaf: str) -> tuple[NumericRange, ...]:
    """ "Two-Person Households", "3 Person Household": a household size."""
    persons = _PERSONS.search(leaf)
    if persons is None:
        return ()
    size = _NUMBER_WORDS.get(persons.group("n").lower()) or float(persons.group("n"))
    return (NumericRange(size, size + 1, "count", "household size", persons.group(0)),)


def _range_of(kind: str, match: re.Match[str], leaf: str, context: str,
              token: str) -> NumericRange:
    groups = match.groupdict()
    low = high = None
    currency = False
    mult = None
    if kind == "top":
        value = float(groups["a"])
        return NumericRange(100 - value, None, "percent", None, token.strip())
    if groups.get("a"):
        low, currency_a, mult = _amount(groups["a"])
        currency = currency or currency_a
    if groups.get("b"):
        high, currency_b, mult_b = _amount(groups["b"])
        currency = currency or currency_b
        mult = mult or mult_b
        if kind == "between" and low is not None and mult_b and not re.search(
                r"[kKmMbB]|thousand|million|billion", groups["a"]):
            low *= _MULTIPLIERS[mult_b.lower()]  # "$5-50 million": both in millions
    unit, noun = _unit_of(leaf, match.start(), match.end(), currency, mult, f"{context} {leaf}")
    if unit == "age" and not _plausible_age(low, high):
        unit = None
    integer_band = unit in ("age", "count", "years", None) and not currency
    if kind == "between":
        assert low is not None and high is not None
        if high <= low:  # "963293-0403" is a code, not a band
            return NumericRange(None, None, None, None, token.strip())
        return NumericRange(low, _exclusive_high(high, integer_band), unit, noun, token.strip())
    if kind == "above":
        return NumericRange(low, None, unit, noun, token.strip())
    if kind == "below":
        assert high is not None
        inclusive = re.search(r"or (?:under|less|below)|up to|<=|≤", token, re.IGNORECASE)
        bound = high + 1 if inclusive and integer_band else high
        return NumericRange(None, bound, unit, noun, token.strip())
    assert low is not None  # a single value: a one-unit band ("Age 21", "3 Child")
    return NumericRange(low, low + 1 if integer_band else low, unit, noun, token.strip())


def people_of(leaf: str) -> tuple[str | None, str | None]:
    """(generation, gender) the leaf names; gender is None when both or neither are."""
    if _PEOPLE_WORDS.isdisjoint(_WORD.findall(leaf.lower())):
        return None, None
    generation = None
    genders = set()
    for match in _PEOPLE.finditer(leaf):
        kind = match.lastgroup
        if kind in ("female", "male"):
            genders.add(kind)
        elif generation is None:
            generation = kind
    return generation, (genders.pop() if len(genders) == 1 else None)


def normalize_code(code: str) -> str:
    """A model code without case or separators: "CLI-8M" and "cli8m" are one code."""
    return re.sub(r"[^0-9A-Za-z]", "", code).upper()


def code_spans(text: str, ranges: tuple[NumericRange, ...] = ()) -> list[tuple[int, int]]:
    """Where the model codes of a text are ("F3H982-10", "CLI-8M", "963293-0403"): tokens
    mixing letters and digits, or long digit runs with hyphens, that are not a band of
    ``ranges`` nor a unit ("4x4", "2nd", "500GB").
    """
    spans = {r.text for r in ranges}
    return [match.span() for match in _MODEL_CODE.finditer(text)
            if match.group(0) not in spans and not _UNIT_WORDS.match(match.group(0))
            and not _VERSION_WORD.match(match.group(0))]


def codes_in(text: str, ranges: tuple[NumericRange, ...]) -> tuple[str, ...]:
    return tuple(normalize_code(text[a:b]) for a, b in code_spans(text, ranges))
