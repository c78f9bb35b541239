"""Lexical evidence for dedup: how much two topics' names share, whether they share a
subject, and an index that finds every topic whose name may be a duplicate of a topic's name
(candidates the embedding may rank low: model codes, rare words, abbreviations).

- **Name text** (lexical_text, which says how): the name's leaf as the segment-name parser
  reads it, market left out, abbreviations spelled out, words stemmed, the wordings of
  purchase intent and of interest folded to one word each.
- **Similarity.** Cosine similarity of the names' character trigrams (within words,
  sublinear term frequency) weighted by inverse document frequency over the live catalogue:
  a shared rare piece ("fs105") counts for more than a shared common one ("ers").
- **Subject.** A name's subject is its rarest word that another name holds too (numbers and
  the folded audience words left out); two names share a subject when each one's subject is
  in the other, whole or shortened: a prefix of three letters or more, a plural, or from the
  same first to the same last letter its letters in order ("Mgmt", "Svcs").
- **Index.** The names holding each word and the names whose subject each word is, per
  guard key (the matcher's market and qualifiers, which must be alike anyway). A search for
  a name reads the names holding a word related to its subject (a rare word, so few names)
  and keeps those at or above a similarity floor: exact, every name of its guard key that shares
  its subject and is that similar is weighed (tests/dedup/test_lexical.py checks it against
  a brute-force search, bench/dedup.py against an exact search of the sweep's scores).

The index lives in the process, built from the live topics' names on first use (about 6 s
per 100,000 topics; see ``index_for``). Scores are always computed from the names given, so
a renamed topic's score is current even where an index is older than the rename.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Hashable, Iterable
from itertools import islice
from math import log
from typing import Any

import numpy as np
import sqlalchemy as sa
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sqlalchemy.engine import Connection

from jobcore.dedup import wording
from jobcore.dedup.lexical_text import (
    AUDIENCE_WORDS,
    COVERAGE,
    COVERED_UP_TO,
    RAW_WORD,
    GuardKey,
    content,
    is_code,
    lexical_text,
    no_guard_key,
    same_word,
)
from jobcore.heap import kept_for_good
from jobcore.sql_rules import LIVE_TOPIC_SQL
from jobcore.warmup import one_time_load

_TEXTS_KEPT = 2_000_000  # texts (and word rarities) remembered: every name of a 1M catalogue
_PAIRS_KEPT = 1_000_000  # same_subject answers remembered (about 150 MB at most)


class LexicalIndex:
    """TF-IDF vectors of character trigrams of the given names, and which names hold each
    word. ``guard_key`` splits the names: names of different keys are never each other's
    candidates (the matcher's guards: names for different markets are never duplicates).
    """

    def __init__(self, ids: list[int], names: list[str],
                 guard_key: GuardKey = no_guard_key) -> None:
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3),
                                          sublinear_tf=True, lowercase=False, dtype=np.float32)
        self.ids = np.asarray(ids, dtype=np.int64)
        self.guard_key = guard_key
        self._names = dict(zip(ids, names, strict=True))
        self._learned = {  # the catalogue's own initialisms ("MDMs" for "Marketing ...")
            wording.stem(short): " ".join(wording.stem(w) for w in wording.expanded(
                long.split())) for short, long in wording.Initialisms(names).expansions.items()}
        self._texts: dict[str, str] = {}
        texts = [self.text(name) for name in names]
        word_lists = [text.split() for text in texts]
        self._word_holders = Counter(w for words in word_lists for w in set(words))
        self._count = len(names)
        self._rarities: dict[str, float] = {}
        self._vocabulary = sorted(self._word_holders)
        self._by_ends: dict[tuple[str, str], list[str]] = {}
        for word in self._vocabulary:
            self._by_ends.setdefault((word[0], word[-1]), []).append(word)
        # the words a subject may be, rarest first (see ``subject``)
        self._rank = {w: rank for rank, w in enumerate(sorted(
            (w for w, n in self._word_holders.items()
             if n >= 2 and not w.isdigit() and w not in AUDIENCE_WORDS),
            key=lambda w: (self._word_holders[w], -len(w), w)))}
        self._subjects: dict[str, str | None] = {}
        self._same_subjects: dict[tuple[str, str], bool] = {}  # see ``same_subject``
        self._row_of_name = {name: row for row, name in enumerate(names)}
        self._rows = (self._fit(texts) if names else
                      sparse.csr_matrix((0, 0), dtype=np.float32))
        # (guard key, word) -> the rows holding the word; (guard key, subject) -> the rows
        # whose subject it is; guard key -> the rows without a subject
        by_word: dict[tuple[Hashable, str], list[int]] = {}
        by_word_long: dict[tuple[Hashable, str], list[int]] = {}  # of the long names only
        by_subject: dict[tuple[Hashable, str | None], list[int]] = {}
        for row, (name, words) in enumerate(zip(names, word_lists, strict=True)):
            key = guard_key(name)
            long = len(content(words)) > COVERED_UP_TO
            for word in set(words):
                by_word.setdefault((key, word), []).append(row)
                if long:
                    by_word_long.setdefault((key, word), []).append(row)
            by_subject.setdefault((key, self._subject_of(words)), []).append(row)
        self._rows_by_word = {k: np.asarray(r, dtype=np.int64) for k, r in by_word.items()}
        self._rows_by_word_long = {k: np.asarray(r, dtype=np.int64)
                                   for k, r in by_word_long.items()}
        self._rows_by_subject = {k: np.asarray(r, dtype=np.int64)
                                 for k, r in by_subject.items()}
        self._related: dict[str, list[str]] = {}

    def text(self, name: str) -> str:
        """``lexical_text`` with the catalogue's initialisms read as their words."""
        found = self._texts.get(name)
        if found is None:
            found = lexical_text(name)
            if self._learned and any(w in self._learned for w in found.split()):
                capitals = {wording.stem(t.casefold()) for t in RAW_WORD.findall(name)
                            if t.rstrip("s").isupper()}  # "MDMs", not "it" in "Do It"
                found = " ".join(self._learned.get(w, w) if w in capitals else w
                                 for w in found.split())
            if len(self._texts) < _TEXTS_KEPT:
                self._texts[name] = found
        return found

    def words(self, name: str) -> tuple[str, ...]:
        """The words of ``text``."""
        return tuple(self.text(name).split())

    def _fit(self, texts: list[str]) -> sparse.csr_matrix:
        """The TF-IDF rows of the names' texts, as ``TfidfVectorizer.fit_transform`` would
        give them, each distinct text analysed once (one segment for many markets reads
        the same) and every name counted in the trigrams' document frequencies.
        """
        distinct = list(dict.fromkeys(texts))
        if not any(len(t) >= 1 for t in distinct):  # no name has a word: nothing to compare
            return sparse.csr_matrix((len(texts), 0), dtype=np.float32)
        if len(distinct) == len(texts):
            return self.vectorizer.fit_transform(texts).tocsr()
        counter = CountVectorizer(analyzer="char_wb", ngram_range=(3, 3), lowercase=False,
                                  dtype=np.float32)
        counts = counter.fit_transform(distinct).tocsr()
        position = {text: i for i, text in enumerate(distinct)}
        rows = np.fromiter((position[t] for t in texts), dtype=np.int64, count=len(texts))
        copies = np.bincount(rows, minlength=len(distinct)).astype(np.float64)
        frequency = (counts > 0).T.astype(np.float64) @ copies  # names holding each trigram
        idf = np.log((1 + len(texts)) / (1 + frequency)) + 1  # smooth idf, as sklearn's
        self.vectorizer.set_params(vocabulary=counter.vocabulary_)
        self.vectorizer.fit(distinct[:1])  # the fixed vocabulary; its idf is set below
        self.vectorizer.idf_ = idf
        weighted = counts.copy()
        weighted.data = 1 + np.log(weighted.data)  # sublinear term frequency
        weighted = sparse.csr_matrix(weighted.multiply(idf.astype(np.float32)))
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        unit = sparse.csr_matrix(sparse.diags((1 / norms).astype(np.float32)) @ weighted,
                                 dtype=np.float32)
        return unit[rows]

    def _subject_of(self, words: Iterable[str]) -> str | None:
        return min((w for w in words if w in self._rank), key=self._rank.__getitem__,
                   default=None)

    def subject(self, name: str) -> str | None:
        """The name's most distinctive word: the rarest one (in the catalogue) that another
        name holds too, leaving out numbers and the folded audience words.
        """
        if name not in self._subjects:
            self._subjects[name] = self._subject_of(self.words(name))
        return self._subjects[name]

    def same_subject(self, name_a: str, name_b: str) -> bool:
        """Whether two names are about one thing: a model code both carry; else one name's
        content words (nearly) all in the other (``covers``), and the subject of the name
        with fewer words (of both, when both are short) in the other, whole or shortened
        ("Tech" for "Technology", "Mgmt" for "Management", a plural): "Intuit
        Administrators" and "Qualcomm Administrators" share a wording, not a subject.
        Remembered by the names' texts: a large catalogue repeats a segment's text in many
        markets and notations, and a crowded subject asks the same question many times.
        """
        key = (self.text(name_a), self.text(name_b))
        found = self._same_subjects.get(key)
        if found is None:
            found = self._same_subject(name_a, name_b)
            if len(self._same_subjects) < _PAIRS_KEPT:
                self._same_subjects[key] = found
        return found

    def _same_subject(self, name_a: str, name_b: str) -> bool:
        words_a, words_b = self.words(name_a), self.words(name_b)
        if any(is_code(w) and w in words_b for w in words_a):
            return True  # a model code both names carry is their subject
        size_a, size_b = len(content(words_a)), len(content(words_b))
        if not size_a or not size_b:  # "Fans" says how, not what: only another such name
            return not size_a and not size_b
        if not self.covers(words_a, words_b):
            return False
        checks = []  # (subject, the other name's words); both ways unless one is longer
        if size_a <= size_b or size_a <= COVERED_UP_TO:
            checks.append((self.subject(name_a), words_b))
        if size_b <= size_a or size_b <= COVERED_UP_TO:
            checks.append((self.subject(name_b), words_a))
        return all(subject is None or any(same_word(subject, w) for w in others)
                   for subject, others in checks)

    def covers(self, words_a: Iterable[str], words_b: Iterable[str]) -> bool:
        """Whether a short name's content words are (nearly) all in the other name, whole or
        shortened, weighing each word by its rarity in the catalogue: "Luxury Cars" and
        "Luxury Homes", "Xbox One" and "Xbox Series X" differ in what they are about;
        "Plug-in Hybrids" and "Plug-in Hybrid Electric Vehicles", "Chessmaster 9000 (Mac)"
        and "Chessmaster 9000: Feral Interactive" do not. A name whose shorter side has
        more than ``COVERED_UP_TO`` content words (a product title) is left to the subject
        rule.
        """
        content_a, content_b = content(words_a), content(words_b)
        if len(content_a) != len(content_b):
            shorter, longer = sorted((content_a, content_b), key=len)
            return self._covered(shorter, longer)
        return self._covered(content_a, content_b) or self._covered(content_b, content_a)

    def _covered(self, shorter: list[str], longer: list[str]) -> bool:
        if not shorter or len(shorter) > COVERED_UP_TO:
            return True
        if all(w in longer for w in shorter):
            return True
        weights = [self._rarity(w) for w in shorter]
        matched = sum(weight for w, weight in zip(shorter, weights, strict=True)
                      if any(same_word(w, other) for other in longer))
        return matched >= COVERAGE * sum(weights)

    def _rarity(self, word: str) -> float:
        found = self._rarities.get(word)
        if found is None:
            found = log((self._count + 1) / (self._word_holders.get(word, 0) + 1)) + 1.0
            if len(self._rarities) < _TEXTS_KEPT:
                self._rarities[word] = found
        return found

    def holds(self, topic_id: int, name: str) -> bool:
        """Whether the index holds this topic under this name."""
        return self._names.get(topic_id) == name

    def vectors(self, names: list[str]) -> sparse.csr_matrix:
        """Unit TF-IDF rows of these names (trigrams the index never saw count for nothing);
        the rows of indexed names are looked up, not computed again.
        """
        rows = [self._row_of_name.get(name) for name in names]
        if all(row is not None for row in rows):
            return self._rows[rows]
        fresh = [i for i, row in enumerate(rows) if row is None]
        computed = self._vectorize([names[i] for i in fresh])
        known = [i for i, row in enumerate(rows) if row is not None]
        stacked = sparse.vstack([self._rows[[rows[i] for i in known]], computed]).tocsr()
        order = np.empty(len(names), dtype=np.int64)
        order[known + fresh] = np.arange(len(names))
        return stacked[order]

    def similarities(self, pairs: list[tuple[str, str]]) -> list[float]:
        """The lexical similarity of each pair of names, 0 to 1."""
        if not pairs:
            return []
        texts = list(dict.fromkeys(name for pair in pairs for name in pair))
        row = {text: i for i, text in enumerate(texts)}
        vectors = self.vectors(texts)
        left = vectors[[row[a] for a, _ in pairs]]
        right = vectors[[row[b] for _, b in pairs]]
        return [min(1.0, float(s)) for s in np.asarray(left.multiply(right).sum(axis=1)).ravel()]

    def related_words(self, word: str) -> list[str]:
        """The catalogue's words that are ``word`` or a shortening of it, or that it is a
        shortening of (``same_word``).
        """
        cached = self._related.get(word)
        if cached is None:
            vocabulary = self._vocabulary
            found = set(self._by_ends.get((word[:1], word[-1:]), ()))  # letters in order
            found.update(word[:n] for n in range(2, len(word)) if word[:n] in self._rank)
            at = bisect.bisect_left(vocabulary, word)  # the words it begins
            while at < len(vocabulary) and vocabulary[at].startswith(word):
                found.add(vocabulary[at])
                at += 1
            cached = sorted(w for w in found if same_word(word, w))
            self._related[word] = cached
        return cached

    def _vectorize(self, names: list[str]) -> sparse.csr_matrix:
        if not self.ids.size or not self._rows.shape[1]:
            return sparse.csr_matrix((len(names), 0), dtype=np.float32)
        return self.vectorizer.transform([self.text(n) for n in names]).tocsr()

    def _rows_related(self, word: str, key: Hashable,
                      by: dict[tuple[Hashable, Any], np.ndarray]) -> list[np.ndarray]:
        return [by[(key, w)] for w in self.related_words(word) if (key, w) in by]

    def _subject_candidates(self, name: str) -> np.ndarray:
        """Rows of the indexed names of ``name``'s guard key that can share its subject
        (``same_subject``): those holding a word related to its subject or one of its model
        codes; for a name without a subject, or a long one (whose own subject another name
        need not hold), also those whose subject is related to one of its words, and those
        without a subject.
        """
        key, words, subject = self.guard_key(name), self.words(name), self.subject(name)
        held = []
        if subject is not None:
            held += self._rows_related(subject, key, self._rows_by_word)
        held += [self._rows_by_word[(key, w)] for w in set(words)
                 if is_code(w) and (key, w) in self._rows_by_word]
        if subject is None or len(content(words)) > COVERED_UP_TO:
            held += [rows for w in set(words) - AUDIENCE_WORDS if not w.isdigit()
                     for rows in self._rows_related(w, key, self._rows_by_subject)]
            if (key, None) in self._rows_by_subject:
                held.append(self._rows_by_subject[(key, None)])
        if subject is None:  # a long name that holds its words may pass without a subject
            held += [rows for w in content(words)
                     for rows in self._rows_related(w, key, self._rows_by_word_long)]
        if not held:
            return np.empty(0, dtype=np.int64)
        return held[0] if len(held) == 1 else np.unique(np.concatenate(held))

    def candidates(self, names: dict[int, str], k: int, floor: float
                   ) -> dict[int, list[tuple[int, float]]]:
        """For each topic (id -> current name), up to ``k`` other indexed topics that may
        share its subject (``same_subject``), with their lexical similarity, best first, at
        or above ``floor``. Exact: every indexed topic whose name passes both is weighed
        (the subject rule's words are rare, so the names holding them are few).
        """
        found: dict[int, list[tuple[int, float]]] = {s: [] for s in names}
        if not names or not self.ids.size or k < 1:
            return found
        sources = list(names)
        listed = [self._subject_candidates(names[s]) for s in sources]
        row_of = np.repeat(np.arange(len(sources)), [len(c) for c in listed])
        if not len(row_of):
            return found
        column_of = np.concatenate(listed)
        vectors = self.vectors([names[s] for s in sources])
        similarity = np.minimum(np.asarray(
            vectors[row_of].multiply(self._rows[column_of]).sum(axis=1)).ravel(), 1.0)
        keep = (similarity >= floor) & (self.ids[column_of] != np.asarray(sources)[row_of])
        row_of, column_of, similarity = row_of[keep], column_of[keep], similarity[keep]
        order = np.lexsort((self.ids[column_of], -similarity, row_of))
        ids, similarity = self.ids[column_of][order].tolist(), similarity[order].tolist()
        ends = np.cumsum(np.bincount(row_of, minlength=len(sources))).tolist()
        for source, start, end in zip(sources, [0, *ends[:-1]], ends, strict=True):
            ranked = zip(ids[start:end], similarity[start:end], strict=True)
            # more than k: the first k (best first) that share its subject, both ways
            found[source] = list(ranked) if end - start <= k else list(islice((
                (o, s) for o, s in ranked if self.same_subject(names[source], self._names[o])), k))
        return found


_LIVE_NAMES = sa.text(f"SELECT id, name FROM topics WHERE {LIVE_TOPIC_SQL} ORDER BY id")
_STAMP = sa.text(
    f"SELECT count(*), coalesce(max(id), 0), max(updated_at) FROM topics WHERE {LIVE_TOPIC_SQL}")
KEPT_INDEXES = 4
# names from which an index is frozen out of the collector's walks (jobcore.heap): not below
FROZEN_FROM = 100_000  # (a freeze keeps other threads' cyclic garbage; small ones rebuild often)
INDEX_LOAD = "the name index"  # a one-time load, as pages name it (jobcore.warmup)

_lock = threading.Lock()  # and _cached: (database, key, guard key) -> stamp, index
_cached: dict[tuple[str, str, GuardKey], tuple[str, LexicalIndex]] = {}


def is_cached(key: str, guard_key: GuardKey = no_guard_key) -> bool:
    """Whether this process already holds the index kept under ``key`` (any database)."""
    with _lock:
        return any(slot[1:] == (key, guard_key) for slot in _cached)


def index_for(conn: Connection, key: str, *, fixed: bool,
              guard_key: GuardKey = no_guard_key) -> LexicalIndex:
    """A lexical index of this database's live topics (split by ``guard_key``), kept in the
    process under ``key``: ``fixed``, the one built on first use (a sweep's: its candidates
    come from the names live when it first ran here); else rebuilt when they changed."""
    slot = (str(conn.engine.url), key, guard_key)
    with _lock:
        cached = _cached.get(slot)
        if cached is not None and fixed:
            return cached[1]
        stamp = "" if fixed else repr(tuple(conn.execute(_STAMP).one()))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        with one_time_load(INDEX_LOAD):
            rows = conn.execute(_LIVE_NAMES).all()
            with kept_for_good(large=len(rows) >= FROZEN_FROM):
                index = LexicalIndex([r.id for r in rows], [r.name for r in rows], guard_key)
        _cached.pop(slot, None)
        while len(_cached) >= KEPT_INDEXES:
            _cached.pop(next(iter(_cached)))
        _cached[slot] = (stamp, index)
        return index
