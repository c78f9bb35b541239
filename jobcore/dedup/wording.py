"""How dedup reads the words of a segment name, so that one segment written two ways reads
the same: the field's abbreviations expanded ("HHI" -> "household income", "PHEV" -> "plug in
hybrid electric vehicle"; ``field_words.json``), plain synonyms folded ("Moms" -> "mother"),
and each word reduced to a stem that also drops the agent and activity endings ("Runners",
"Running" -> "run"; "Yogis", "Yoga" -> "yog"; "Cyclists", "Cycling" -> "cycl").

An initialism a catalogue writes for another of its names ("CFOs" for "Chief Financial
Officers", "MDMs" for "Marketing Decision Makers") is learned from the catalogue itself: see
``Initialisms``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from jobcore.catalog.segment_names import MARKET_NAMES

_FIELD = json.loads((Path(__file__).resolve().parent / "field_words.json").read_text("utf-8"))
ABBREVIATIONS: dict[str, str] = _FIELD["abbreviations"]
_SYNONYM_OF = {variant: canonical for canonical, variants in _FIELD["synonyms"].items()
               for variant in variants}
_PHRASE_SYNONYMS = [(v.split()[0], re.compile(rf"\b{re.escape(v)}s?\b"), c)
                    for v, c in _SYNONYM_OF.items() if " " in v]
_ENDINGS = ("ing", "ist", "ism", "ian", "er", "or")
_VOWELS = "aeiouy"
_CONNECTIVES = frozenset({"and", "of", "the", "for", "in", "to", "a", "an"})
_EDITION_OF = {word: edition for edition, words in _FIELD["editions"].items() for word in words}
_PLATFORM_OF = {word: platform for platform, words in _FIELD["platforms"].items()
                for word in words}
_RAW_WORDS = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """A word without its plural, agent or activity ending and final vowel ("runners",
    "running" -> "run"; "photographers", "photography" -> "photograph"). Words with digits
    and short words are kept as they are.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us")):
        word = word[:-1]
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[:-len(ending)]
            break
    if len(word) > 3 and word[-1] in _VOWELS:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in _VOWELS:
        word = word[:-1]  # runn -> run, shopp -> shop
    return word


@lru_cache(maxsize=200_000)
def folded(text: str) -> str:
    """Case folded, "&" read as "and", phrase synonyms folded ("home owners" -> homeowner)."""
    text = text.casefold().replace("&", " and ").replace("'s", "").replace("'", "")
    for first, pattern, canonical in _PHRASE_SYNONYMS:
        if first in text:
            text = pattern.sub(canonical, text)
    return text


def expanded(words: Iterable[str], learned: dict[str, str] | None = None) -> list[str]:
    """The words with abbreviations expanded (the field's, then those ``learned`` from the
    catalogue) and synonyms folded to one form, not yet stemmed.
    """
    out: list[str] = []
    for word in words:
        singular = word[:-1] if word.endswith("s") else word
        long = ABBREVIATIONS.get(word) or ABBREVIATIONS.get(singular) or (
            learned.get(word) if learned else None)
        if long is not None:
            out.extend(long.split())
            continue
        single = word[:-1] if word.endswith("s") and word[:-1] in _SYNONYM_OF else word
        out.append(_SYNONYM_OF.get(single, word))
    return out


def initials(words: list[str]) -> str:
    """The initials of a phrase's words, connectives left out ("Chief Financial Officers"
    -> "cfo"); a word written in capitals gives all its letters ("IT Decision Makers" ->
    "itdm").
    """
    return "".join(w.casefold() if w.isupper() and len(w) <= 3 else w[0].casefold()
                   for w in words if w.casefold() not in _CONNECTIVES)


class Initialisms:
    """The initialisms a catalogue writes for its own names: a short word in capitals
    ("CFOs", "MDM") whose letters are the initials of two to five consecutive words of
    another name of the catalogue reads as those words.
    """

    def __init__(self, names: Iterable[str]) -> None:
        names = list(names)
        wanted = {self._key(w) for name in names for w in _RAW_WORD.findall(name)
                  if self._is_initialism(w)} - _NOT_INITIALISMS
        wanted.discard("")
        self.expansions: dict[str, str] = {}
        if not wanted:
            return
        starts = {key[0] for key in wanted}
        longest = max(len(key) for key in wanted)
        for name in names:
            words = [w for w in _RAW_WORD.findall(name) if w.casefold() not in _CONNECTIVES]
            letters = [w.casefold() if w.isupper() and len(w) <= 3 else w[0].casefold()
                       for w in words]
            for start, first in enumerate(letters):
                if first[:1] not in starts:
                    continue
                key = ""
                for end in range(start, min(start + 5, len(words))):
                    key += letters[end]  # the phrase's initials, one word longer each time
                    if len(key) > longest:
                        break
                    phrase = words[start:end + 1]
                    if end > start and key in wanted and key not in self.expansions and \
                            not any(self._is_initialism(w) for w in phrase):
                        self.expansions[key] = " ".join(phrase).casefold()
        # the plural of an initialism reads as its phrase too
        self.expansions.update({f"{k}s": v for k, v in list(self.expansions.items())})

    @staticmethod
    def _is_initialism(word: str) -> bool:
        core = word[:-1] if word.endswith("s") else word
        return 2 <= len(core) <= 5 and core.isupper() and core.isalpha()

    @staticmethod
    def _key(word: str) -> str:
        return (word[:-1] if word.endswith("s") and word[:-1].isupper() else word).casefold()


_RAW_WORD = re.compile(r"[A-Za-z0-9]+")
# market codes ("US", "UK", "DE") and the field's own abbreviations are not learned
_NOT_INITIALISMS = frozenset(k for k in MARKET_NAMES if len(k) <= 5) | frozenset(ABBREVIATIONS)


def offer_terms(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The editions ("upgrade", "academic", "deluxe", "professional"...) and platforms ("mac",
    "windows") a name states, each written any of its ways ("Upg", "Pro", "Win32"); read from
    the words as written, so "Professionals" (people) is not the "Pro" edition.
    """
    words = _RAW_WORDS.findall(text.casefold())
    return (frozenset(_EDITION_OF[w] for w in words if w in _EDITION_OF),
            frozenset(_PLATFORM_OF[w] for w in words if w in _PLATFORM_OF))
