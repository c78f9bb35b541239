"""One parser of an audience-segment name, read by classification and by dedup.

Real catalogues write one segment many ways: a provider path split on ">", "»", "/", "|",
":" or " - " ("Acme » Auto » SUV Intenders", "/Hobbies & Leisure/Model Trains"), a
market in any notation (" - US", "(US)", "US:", "United States", "UK"), a framing cue
(in-market, intenders, enthusiasts), and numeric bands in many notations ("$50K-$75K",
"$50,000 - $74,999", "25 to 34", "65 and over", "10-49 employees"). ``parse`` turns a name
into a ``ParsedName``: the path (provider prefix, ancestors, leaf), the market, the framing,
the numeric ranges with their unit, generation, gender, model codes and versions. It is
pure (no database, no model) and fast (bench/segment_names.py: well over 50,000 names/s).

Ranges are half-open ``[low, high)`` so that notations of one band compare equal: "$50K-$75K"
and "$50,000 - $74,999" are both [50,000, 75,000); "25-34" (ages, inclusive) is [25, 35);
an open band ("$100,000 or more", "55+") has ``high=None`` and "under 18" ``low=None``.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from functools import lru_cache
from typing import NamedTuple

from jobcore.catalog.name_numbers import (
    MAX_BAND_TEXT,
    VERSION,
    NumericRange,
    codes_in,
    household_size,
    people_of,
    ranges_in,
)

# -- path -------------------------------------------------------------------------------
_STRONG_SEPARATORS = re.compile(r"\s*(?:>|»|›|\|)\s*")
_COLON_SEPARATOR = re.compile(r"(?<![0-9])\s*:\s+|(?<=[A-Za-z)])\s*:\s*(?=[A-Z])")
_MARKET_BEFORE_SLASH = re.compile(r"^[A-Za-z]{2,6}: /")  # "IT: /Eyeota/Interest/..."
_SLASH = re.compile(r"\s*/\s*")
_DASH_SEPARATOR = re.compile(r"\s+[-–—]\s+")
_NUMBERISH_EDGE = re.compile(r"[\d$€£%+kKmM]$|^[<>≤≥]?\s*[\d$€£]")
_BROKEN_DECIMAL = re.compile(r"(\d) \.(\d)")
_MOJIBAKE = re.compile(r"Ã.|Â.|â€")

# Data providers whose name often opens a segment path (a prefix, not evidence of a topic).
PROVIDERS = frozenset(p.casefold() for p in (
    "Acxiom", "Adsquare", "Affinity Answers", "Alliant", "Amobee", "Anteriad", "Audience Accuracy",
    "Bombora", "Cardlytics", "Claritas", "Comscore", "Cuebiq", "Datalogix", "DLX", "Dstillery",
    "Dun & Bradstreet", "D&B", "Epsilon", "Equifax", "Experian", "Eyeota", "Factual", "Foursquare",
    "Gravy Analytics", "IRI", "Circana", "Kantar", "Lotame", "LiveRamp", "Mastercard", "Merkle",
    "Near", "Neustar", "Nielsen", "Oracle", "Oracle Data Cloud", "BlueKai", "PlaceIQ", "Polk",
    "IHS Markit", "Resonate", "Semcasting", "ShareThis", "Skimlinks", "Sovrn", "Statiq",
    "TransUnion", "Throtle", "Weborama", "Zeta", "Zeta Global", "33Across", "Onaudience",
    "Peer39", "Grapeshot", "Adobe Audience Manager", "Salesforce DMP", "Krux", "Eyeota",
    "Data Alliance", "Fyllo", "Infutor", "Verisk", "Webbula", "Wiland", "Windfall", "V12",
    "Acxiom InfoBase", "Experian Marketing Services", "Xandr", "Microsoft", "Google", "LinkedIn",
    "Facebook", "Meta", "Amazon", "The Trade Desk", "Yahoo", "Verizon Media", "Quantcast",
))

# -- markets ----------------------------------------------------------------------------
_COUNTRIES = {
    "US": ("United States", "United States of America", "USA", "U.S.", "U.S.A."),
    "GB": ("United Kingdom", "UK", "U.K.", "Great Britain", "Britain", "England"),
    "CA": ("Canada",), "AU": ("Australia",), "NZ": ("New Zealand",), "IE": ("Ireland",),
    "DE": ("Germany", "Deutschland"), "FR": ("France",), "ES": ("Spain", "España"),
    "IT": ("Italy", "Italia"), "NL": ("Netherlands", "Holland"), "BE": ("Belgium",),
    "CH": ("Switzerland",), "AT": ("Austria",), "SE": ("Sweden",), "NO": ("Norway",),
    "DK": ("Denmark",), "FI": ("Finland",), "PL": ("Poland",), "PT": ("Portugal",),
    "MX": ("Mexico", "México"), "BR": ("Brazil", "Brasil"), "AR": ("Argentina",),
    "CL": ("Chile",), "CO": ("Colombia",), "PE": ("Peru",), "JP": ("Japan",),
    "KR": ("South Korea", "Korea"), "CN": ("China",), "IN": ("India",), "SG": ("Singapore",),
    "HK": ("Hong Kong",), "TW": ("Taiwan",), "ID": ("Indonesia",), "MY": ("Malaysia",),
    "TH": ("Thailand",), "PH": ("Philippines",), "VN": ("Vietnam",), "ZA": ("South Africa",),
    "AE": ("United Arab Emirates", "UAE"), "SA": ("Saudi Arabia", "KSA"), "IL": ("Israel",),
    "TR": ("Turkey", "Türkiye"), "RU": ("Russia",), "GR": ("Greece",), "CZ": ("Czech Republic",
                                                                                  "Czechia"),
    "HU": ("Hungary",), "RO": ("Romania",), "EG": ("Egypt",), "NG": ("Nigeria",),
    "KE": ("Kenya",),
}
_REGIONS = {"EU": ("Europe", "European Union"), "EMEA": ("EMEA",), "APAC": ("APAC", "Asia Pacific"),
            "LATAM": ("LATAM", "Latin America"), "NA": ("North America",), "GLOBAL": ("Global",
                                                                                   "Worldwide")}
MARKET_NAMES: dict[str, str] = {}
for _code, _names in {**_COUNTRIES, **_REGIONS}.items():
    MARKET_NAMES[_code.casefold()] = _code
    for _name in _names:
        MARKET_NAMES[_name.casefold()] = _code
MARKET_NAMES["uk"] = "GB"
# Codes that are also common English words are markets only where a market stands
# (a suffix, a prefix with ":", in brackets), never inside a phrase.
_WORDLIKE_CODES = frozenset({"in", "id", "it", "no", "be", "at", "co", "pe", "na", "sa", "il",
                             "ie", "my", "ar", "ch", "es", "de", "th", "us"})
_MARKET_WORDS = re.compile(r"[\w.&'-]+")
_MAX_MARKET_WORDS = 4
_BARE_CODES = frozenset({"US", "USA", "UK", "GB", "EU", "EMEA", "APAC", "LATAM"})
_MARKET_LAST_WORDS = frozenset(k.split(" ")[-1] for k in MARKET_NAMES)
_MARKET_FIRST_WORDS = frozenset(k.split(" ")[0] for k in MARKET_NAMES)
_DIGIT = re.compile(r"\d")
_NAME_PREPOSITION = frozenset({"to", "in", "from", "of", "for", "visiting", "about", "near"})

# -- framing ----------------------------------------------------------------------------
INTENT = "intent"
INTEREST = "interest"
DEMOGRAPHIC = "demographic"
B2B = "b2b"
_CUES = {
    INTENT: ("in market", "inmarket", "intent", "intender", "intenders", "intending", "shopper",
             "shoppers", "shopping for", "buyer", "buyers", "purchaser", "purchasers",
             "purchase", "propensity to buy", "propensity to purchase", "likely to buy",
             "likely to purchase", "looking to buy", "planning to buy", "ready to buy",
             "prospect", "prospects", "considering", "in the market"),
    INTEREST: ("enthusiast", "enthusiasts", "fan", "fans", "lover", "lovers", "affinity",
               "affinities", "interest", "interests", "interested in", "aficionado",
               "aficionados", "hobbyist", "hobbyists", "devotee", "devotees", "junkies", "buff",
               "buffs", "follower", "followers", "reader", "readers", "viewer", "viewers",
               "watcher", "watchers", "listener", "listeners", "player", "players", "gamer",
               "gamers", "browsing"),
    DEMOGRAPHIC: ("demographic", "demographics", "sociodemographic", "sociodemographics",
                  "socio demographic", "socio demographics", "demo", "demos", "life stage",
                  "life stages", "lifestage", "lifestages", "household data", "census"),
    B2B: ("b2b", "firmographic", "firmographics", "technographic", "technographics",
          "business decision maker", "business decision makers", "decision maker",
          "decision makers", "itdm", "itdms", "bdm", "bdms", "job function", "job functions",
          "job title", "job titles", "job role", "job roles", "job seniority", "seniority",
          "company size", "company revenue", "employees", "smb", "smbs", "enterprise",
          "enterprises"),
}
CUE_PHRASES: dict[tuple[str, ...], str] = {
    tuple(phrase.split(" ")): kind for kind, phrases in _CUES.items() for phrase in phrases}
_CUE_STARTS = frozenset(words[0] for words in CUE_PHRASES)
_MAX_CUE_WORDS = max(len(words) for words in CUE_PHRASES)
_WORD = re.compile(r"[a-z0-9]+")
# Words of a field a provider names before a colon ("Household Income: ...", "Age: ...").
_FIELD_WORDS = frozenset((
    "income", "age", "ages", "gender", "size", "revenue", "function", "seniority", "industry",
    "education", "language", "category", "segment", "segments", "topic", "topics", "hhi",
    "occupation", "market", "region", "country", "generation", "household", "worth",
    "value", "status", "level", "type", "audience", "audiences", "title", "role"))

class ParsedName(NamedTuple):
    """What a segment name says, notation set aside (see the module docstring)."""

    raw: str
    text: str                       # whitespace and mojibake repaired
    parts: tuple[str, ...]          # the path, provider prefix and market removed
    provider: str | None
    market: str | None              # ISO code (GB for UK) or a region code
    framing: str | None             # intent, interest, demographic, b2b, or None
    framing_cue: str | None
    ranges: tuple[NumericRange, ...] = ()
    generation: str | None = None
    gender: str | None = None       # female, male, or None (both or neither named)
    model_codes: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    path_separator: str | None = None

    @property
    def leaf(self) -> str:
        """The last part of the path: what the segment is (the whole name when no path)."""
        return self.parts[-1] if self.parts else ""

    @property
    def ancestors(self) -> tuple[str, ...]:
        """The parts above the leaf, outermost first."""
        return self.parts[:-1]

    def is_ancestor_of(self, other: ParsedName) -> bool:
        """Whether this name's path is a proper prefix of ``other``'s (a parent, not a
        duplicate). Parts compare case-insensitively.
        """
        mine = [p.casefold() for p in self.parts]
        theirs = [p.casefold() for p in other.parts]
        return len(mine) < len(theirs) and theirs[:len(mine)] == mine


def repair_text(name: str) -> str:
    """Whitespace collapsed, a decimal broken by a space joined ("v10 .4") and UTF-8 read as
    Latin-1 repaired ("CitroÃ«n" -> "Citroën").
    """
    text = " ".join(name.split())
    if " ." in text:  # "v10 .4": a decimal broken by a space
        text = _BROKEN_DECIMAL.sub(r"\1.\2", text)
    if ("Ã" in text or "Â" in text or "â€" in text) and _MOJIBAKE.search(text):
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            text = text.encode("cp1252").decode("utf-8")
    return text


def _split_path(text: str) -> tuple[list[str], str | None]:
    """The parts of a provider path and the separator that split it."""
    if ">" in text and "»" not in text and "|" not in text and "›" not in text:
        parts = text.split(">")
        separator = ">"
    elif ">" in text or "»" in text or "|" in text or "›" in text:
        parts = _STRONG_SEPARATORS.split(text)
        separator = ">"
    elif text.startswith("/") or text.count(" / ") >= 2 or (
            ": /" in text and _MARKET_BEFORE_SLASH.match(text)):  # not "Mac/PC/Linux Users"
        parts = _SLASH.split(text)
        separator = "/"
    elif ":" in text and _COLON_SEPARATOR.search(text) and _colon_is_path(text):
        parts = _COLON_SEPARATOR.split(text)
        separator = ":"
    else:
        parts, separator = [text], None
    parts = [p for p in (p.strip(" -–—:") for p in parts) if p]
    if " -" not in text and " –" not in text and " —" not in text:
        return parts, separator
    out: list[str] = []
    for part in parts:  # " - " splits a path only between words, never inside a band
        if " -" not in part and " –" not in part and " —" not in part:
            out.append(part)
            continue
        pieces = _DASH_SEPARATOR.split(part)
        if len(pieces) > 1 and all(
                not (_NUMBERISH_EDGE.search(a) and _NUMBERISH_EDGE.search(b))
                for a, b in itertools.pairwise(pieces)) and (
                len(pieces) >= 3 or separator is not None
                or (len(parts) == 1 and _is_market(pieces[-1]))):
            out.extend(pieces)
            separator = separator or "-"
        else:
            out.append(part)
    return out, separator


def _market_of(words: list[str], *, marked: bool) -> str | None:
    """The market these words name, or None. Codes that are also English words ("in",
    "it", "us") count only in upper case ("US", "IT"); a code needs ``marked`` (a separator,
    brackets or a colon set it apart) unless it is one of the well-known few ("Shoppers UK");
    a country's full name needs nothing ("Auto Intenders United States").
    """
    if not words or len(words) > _MAX_MARKET_WORDS:
        return None
    phrase = " ".join(words)
    key = phrase.casefold()
    code = MARKET_NAMES.get(key)
    if code is None:
        return None
    is_code = len(key) <= 3 or key == code.casefold()
    if key in _WORDLIKE_CODES and not phrase.isupper():
        return None
    if not marked and is_code and (not phrase.isupper() or phrase not in _BARE_CODES):
        return None  # "Topic CA" or "Volvo XC": a bare code is a market only if well known
    return code


def _colon_is_path(text: str) -> bool:
    """A colon separates a path when there are two ("Eyeota: Interest: Cooking"), or when
    what stands before it names a provider, a field or a framing ("HHI: $50K-$75K",
    "Lotame: Cooking Fans", "Interest: Cooking") - not a title ("Mission: Impossible Fans").
    """
    pieces = _COLON_SEPARATOR.split(text)
    if len(pieces) >= 3:
        return True
    head = pieces[0].strip()
    words = _WORD.findall(head.lower())
    return bool(words) and len(words) <= 3 and (
        head.casefold() in PROVIDERS or (head.isupper() and len(head) <= 5)
        or not _FIELD_WORDS.isdisjoint(words) or not _CUE_STARTS.isdisjoint(words))


def _is_market(text: str) -> bool:
    return _market_of(_MARKET_WORDS.findall(text.strip("()[] ")), marked=True) is not None


def _take_market(parts: list[str], separator: str | None) -> str | None:
    """Remove a market from the path (a part of its own first or last, a prefix or suffix
    of a part, in brackets) and return its code.
    """
    if not parts:
        return None
    if len(parts) > 1:  # a part of its own opening the path ("US » ..."), or a code or a
        # country after a dash closing it ("... - US", "... - Germany"); a leaf that names a
        # country is a destination ("Travel > Italy")
        for index in (0, len(parts) - 1):
            phrase = parts[index].strip("()[]: ")
            if phrase.casefold() not in MARKET_NAMES or (
                    index > 0 and separator != "-"
                    and not (phrase.isupper() and len(phrase) <= 3)):
                continue
            code = _market_of(phrase.split(" "), marked=True)
            if code is not None:
                del parts[index]
                return code
    for index in {0, len(parts) - 1}:
        part = parts[index]
        found = (_bracketed_market(part) if "(" in part or "[" in part else None) or \
            _edge_market(part)
        if found is not None:
            code, rest = found
            if rest:
                parts[index] = rest
                return code
    return None


def _bracketed_market(part: str) -> tuple[str, str] | None:
    open_at = part.find("(") if "(" in part else part.find("[")
    if open_at < 0:
        return None
    close_at = part.find(")" if part[open_at] == "(" else "]", open_at)
    if close_at < 0:
        return None
    code = _market_of(_MARKET_WORDS.findall(part[open_at + 1:close_at]), marked=True)
    if code is None:
        return None
    return code, (part[:open_at] + " " + part[close_at + 1:]).strip(" -–—,:")


def _edge_market(part: str) -> tuple[str, str] | None:
    """A market opening the part ("US: ...", "UK - ...") or closing it ("... - US",
    "... United States"; not "Trips to Italy": after a preposition a country is a topic).
    """
    colon = part.find(":")
    if 0 < colon <= 30:
        code = _market_of(_MARKET_WORDS.findall(part[:colon]), marked=True)
        if code is not None:
            return code, part[colon + 1:].strip(" -–—,:")
    words = part.split(" ")
    if len(words) < 2 or (words[-1].strip(",()[]").casefold() not in _MARKET_LAST_WORDS
                          and words[0].strip(",()[]").casefold() not in _MARKET_FIRST_WORDS):
        return None
    for size in range(min(_MAX_MARKET_WORDS, len(words) - 1), 0, -1):
        head = words[:size]
        if words[size] in ("-", "–", "—"):
            code = _market_of(head, marked=True)
            if code is not None:
                return code, " ".join(words[size + 1:]).strip(" -–—,:")
        tail = words[-size:]
        before = words[-size - 1]
        marked = before in ("-", "–", "—", "|") or before.endswith(",")
        if not marked and before.casefold() in _NAME_PREPOSITION:
            continue
        code = _market_of([w.strip(",") for w in tail], marked=marked)
        if code is not None:
            return code, " ".join(words[:-size]).strip(" -–—,:|")
    return None


def _framing(parts: list[str]) -> tuple[str | None, str | None]:
    """The provider's framing: the last cue of the part nearest the leaf wins (a leaf's
    "Intenders" beats a root's "Interests").
    """
    for part in reversed(parts):
        words = _WORD.findall(part.lower())
        if _CUE_STARTS.isdisjoint(words):
            continue
        for start in range(len(words) - 1, -1, -1):
            if words[start] not in _CUE_STARTS:
                continue
            for size in range(min(_MAX_CUE_WORDS, len(words) - start), 0, -1):
                phrase = tuple(words[start:start + size])
                kind = CUE_PHRASES.get(phrase)
                if kind is not None:
                    return kind, " ".join(phrase)
    return None, None


def parse(name: str) -> ParsedName:
    """Parse a segment name (see the module docstring); never raises."""
    text = repair_text(name or "")
    parts, separator = _split_path(text)
    market = _take_market(parts, separator)
    provider = None
    if len(parts) > 1 and parts[0].casefold() in PROVIDERS:
        provider = parts.pop(0)
    framing, cue = _framing(parts)
    leaf = parts[-1] if parts else ""
    generation, gender = people_of(leaf)
    sized = household_size(leaf) if "ehold" in leaf else ()
    if _DIGIT.search(leaf) is None:
        return ParsedName(name, text, tuple(parts), provider, market, framing, cue, sized,
                          generation, gender, (), (), separator)
    ranges = sized or ranges_in(leaf, " ".join(parts[:-1]))
    head = leaf[:MAX_BAND_TEXT]
    versions = tuple(m.group(1) for m in VERSION.finditer(head)
                     if "." in m.group(1) or m.group(0).lower().startswith("v"))
    return ParsedName(name, text, tuple(parts), provider, market, framing, cue, ranges,
                      generation, gender, codes_in(head, ranges), versions, separator)


@lru_cache(maxsize=200_000)
def parse_cached(name: str) -> ParsedName:
    """``parse``, remembered: for callers that meet the same names again and again (dedup
    reads a name for every pair it is in).
    """
    return parse(name)
