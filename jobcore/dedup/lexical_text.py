"""How a name is read for lexical evidence (jobcore.dedup.lexical).

- **Name text.** Case folded; the name's leaf as the segment-name parser reads it: a data
  provider's path on any separator reduced to its last part and the market left out ("Acme »
  Auto » SUV Intenders - US" reads "sport utilit vehicl intent": abbreviations spelled out,
  words stemmed; the market is the matcher's guard); "&" read as "and"; the usual wordings
  of purchase intent ("In-Market for", "Intenders", "Shoppers", "Buyers", "Likely to Buy") and of
  interest ("Enthusiasts", "Fans", "Lovers", "Content Readers", "People Interested in")
  folded to one word each; punctuation dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from functools import lru_cache

from jobcore.catalog import name_numbers, segment_names
from jobcore.dedup import wording

_INTENT = re.compile(r"\b(?:in[\s-]*market(?:\s+for)?|intenders?|shoppers?|buyers?|"
                     r"likely\s+to\s+buy|purchase\s+intent)\b")
# "Fans Intenders" are in the market for fans: a word before an intent cue is the subject
_INTEREST = re.compile(r"\b(?:enthusiasts?|fans?|lovers?|hobbyists?|content\s+readers?|"
                       r"(?:people\s+)?interested\s+in)\b"
                       r"(?!\s+(?:intent|intenders?|shoppers?|buyers?|in[\s-]*market))")
_WORD = re.compile(r"[a-z0-9]+")
RAW_WORD = re.compile(r"[A-Za-z0-9]+")
AUDIENCE_WORDS = frozenset({"intent", "interest", "and", "the", "for", "of", "in"})


def same_word(a: str, b: str) -> bool:
    """The same word, or one a shortening of the other: a prefix of at least three letters
    (tech, technology; suv, suvs) or the other's plural; or, from the same first letter to
    the same last one, its letters in order (mgmt, management; svcs, services).
    """
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 2 or short[0] != long[0]:
        return False
    if long.startswith(short):
        return len(short) >= 3 or long == short + "s"
    if len(short) < 3 or short[-1] != long[-1]:
        return False
    if len(short) == 3 and any(c in "aeiou" for c in short[1:]):
        return False  # "gen" is not "garden", nor "cat" "carpet": only "svc", "mgmt", "dept"
    letters = iter(long)
    return all(c in letters for c in short)



COVERED_UP_TO = 4  # content words of the shorter name, for the coverage rule
COVERAGE = 0.8  # of the shorter name's rarity-weighted words, found in the other
_CONTENT_STOP = AUDIENCE_WORDS | {"a", "an", "to", "with", "by", "on", "at", "or"}


def content(words: Iterable[str]) -> list[str]:
    """The words that say what a name is about (audience and linking words left out)."""
    return [w for w in dict.fromkeys(words) if w not in _CONTENT_STOP]


def is_code(word: str) -> bool:
    """A normalised model code (letters and digits), not a band word ("age35to45")."""
    return not word.isalpha() and not word.isdigit() and "to" not in word \
        and not word.endswith("plus")


_AGE_WORDS = frozenset({"age", "ages", "aged", "adult", "adults", "year", "years", "old",
                        "yrs", "senior", "seniors"})
_GENERATION_WORDS = frozenset({
    "gen", "generation", "genx", "geny", "genz", "millennial", "millennials", "millenial",
    "millenials", "boomer", "boomers", "baby", "babyboomers", "zoomer", "zoomers", "alpha",
    "centennial", "centennials", "silent", "traditionalists", "x", "y", "z"})


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value).replace(".", "p")


def band_token(band: name_numbers.NumericRange) -> str:
    """One word for a band, the same in every notation ("$50K-$75K", "$50,000 - $74,999"
    -> "usd50000to75000").
    """
    unit = (band.noun or band.unit or "").replace(" ", "")
    low = "" if band.low is None else _number(band.low)
    high = "plus" if band.high is None else "to" + _number(band.high)
    return f"{unit}{low}{high}"


@lru_cache(maxsize=200_000)  # names come back as candidates in chunk after chunk
def lexical_text(name: str) -> str:
    """A name as lexical matching reads it (see the module docstring)."""
    parsed = segment_names.parse_cached(name)
    leaf = parsed.leaf or name
    tokens = []
    for band in parsed.ranges:
        if band.unit is not None:
            leaf = leaf.replace(band.text, " ")
            tokens.append(band_token(band))
    for start, end in reversed(name_numbers.code_spans(leaf)):
        leaf = f"{leaf[:start]} {name_numbers.normalize_code(leaf[start:end]).lower()} " \
               f"{leaf[end:]}"
    text = wording.folded(leaf)
    text = _INTEREST.sub(" interest ", _INTENT.sub(" intent ", text))
    words = wording.expanded(_WORD.findall(text))
    if parsed.generation:
        words = [w for w in words if w not in _GENERATION_WORDS and w not in _AGE_WORDS]
        tokens.append(parsed.generation.replace("_", ""))
    elif tokens:  # the words that only say what a band counts ("Ages", "Household Size")
        said = {wording.stem(w) for b in parsed.ranges if b.noun for w in b.noun.split()}
        if any(b.unit == "age" for b in parsed.ranges):
            said |= {wording.stem(w) for w in _AGE_WORDS}
        words = [w for w in words if wording.stem(w) not in said]
    if parsed.framing in ("intent", "interest") and parsed.framing not in words:
        words.append(parsed.framing)  # said by the path ("In-Market » Pickup Trucks")
    return " ".join([wording.stem(w) for w in words] + tokens)


# what must be alike in two names for them to be candidates (the matcher's market and
# qualifiers: see guards.guard_key)
GuardKey = Callable[[str], Hashable]


def no_guard_key(name: str) -> Hashable:
    """The same key for every name (no guard)."""
    return None
