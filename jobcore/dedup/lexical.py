"""Lexical evidence for dedup: how much two topics' names share, and an index that finds the
topics whose names share rare pieces with a topic's name (candidates the embedding may rank
low: model codes, rare words, abbreviations).

- **Name text.** Case folded; a data provider's path reduced to its last part ("Acme > Auto >
  SUV Intenders" reads "suv intent"); "&" read as "and"; the usual wordings of purchase
  intent ("In-Market for", "Intenders", "Shoppers", "Buyers", "Likely to Buy") and of
  interest ("Enthusiasts", "Fans", "Lovers", "People Interested in") folded to one word
  each; punctuation dropped.
- **Similarity.** Cosine similarity of the names' character trigrams (within words,
  sublinear term frequency) weighted by inverse document frequency over the live catalogue:
  a shared rare piece ("fs105") counts for more than a shared common one ("ers").
- **Index.** The same vectors, searched through their rare trigrams only (those at most
  ``RARE_SHARE`` of names hold, or at most ``RARE_MIN`` names): a query touches short
  posting lists, so the search of 50 topics over 100,000 names takes about a millisecond.

The index lives in the process, built from the live topics' names on first use (about 1.5 s
per 100,000 topics; see ``index_for``). Scores are always computed from the names given, so
a renamed topic's score is current even where an index is older than the rename.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

import numpy as np
import sqlalchemy as sa
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy.engine import Connection

RARE_SHARE = 0.005
RARE_MIN = 50

_PROVIDER_PATH = re.compile(r"^.*>")
_INTENT = re.compile(r"\b(?:in[\s-]*market(?:\s+for)?|intenders?|shoppers?|buyers?|"
                     r"likely\s+to\s+buy|purchase\s+intent)\b")
_INTEREST = re.compile(r"\b(?:enthusiasts?|fans|lovers|hobbyists?|"
                       r"(?:people\s+)?interested\s+in)\b")
_WORD = re.compile(r"[a-z0-9]+")


def lexical_text(name: str) -> str:
    """A name as lexical matching reads it (see the module docstring)."""
    text = _PROVIDER_PATH.sub("", name.casefold()).replace("&", " and ")
    text = _INTEREST.sub(" interest ", _INTENT.sub(" intent ", text))
    return " ".join(_WORD.findall(text))


class LexicalIndex:
    """TF-IDF vectors of character trigrams of the given names, and their rare-trigram index."""

    def __init__(self, ids: list[int], names: list[str]) -> None:
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3),
                                          sublinear_tf=True, preprocessor=lexical_text,
                                          dtype=np.float32)
        self.ids = np.asarray(ids, dtype=np.int64)
        self._names = dict(zip(ids, names, strict=True))
        if not ids:
            self.vectorizer.fit(["empty"])
            self._rare = np.zeros(1, dtype=bool)
            self._postings = sparse.csr_matrix((1, 0), dtype=np.float32)
            return
        vectors = self.vectorizer.fit_transform(names).tocsc()
        holders = np.diff(vectors.indptr)  # names holding each trigram
        self._rare = holders <= max(RARE_MIN, RARE_SHARE * len(ids))
        self._postings = vectors[:, self._rare].T.tocsr()  # rare trigram -> names

    def name_of(self, topic_id: int) -> str:
        """The name the index holds for a topic."""
        return self._names[topic_id]

    def vectors(self, names: list[str]) -> sparse.csr_matrix:
        """Unit TF-IDF rows of these names (trigrams the index never saw count for nothing)."""
        return self.vectorizer.transform(names).tocsr()

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

    def candidates(self, names: dict[int, str], k: int) -> dict[int, list[int]]:
        """For each topic (id -> current name), up to ``k`` other indexed topics whose names
        share the most rare trigram weight with it, best first.
        """
        found: dict[int, list[int]] = {}
        if not names or not self.ids.size:
            return found
        sources = list(names)
        scores = (self.vectors([names[s] for s in sources])[:, self._rare]
                  @ self._postings).tocsr()
        for row, source in enumerate(sources):
            start, end = scores.indptr[row], scores.indptr[row + 1]
            columns, values = scores.indices[start:end], scores.data[start:end]
            if len(values) > k + 1:
                top = np.argpartition(-values, k)[:k + 1]
                columns, values = columns[top], values[top]
            order = np.lexsort((self.ids[columns], -values))
            found[source] = [int(i) for i in self.ids[columns[order]] if i != source][:k]
        return found


_LIVE_NAMES = sa.text(
    "SELECT id, name FROM topics WHERE deleted_at IS NULL AND merged_into IS NULL ORDER BY id")
_STAMP = sa.text(
    "SELECT count(*), coalesce(max(id), 0), max(updated_at) FROM topics "
    "WHERE deleted_at IS NULL AND merged_into IS NULL")
KEPT_INDEXES = 4

_lock = threading.Lock()
_cached: dict[tuple[str, str], tuple[str, LexicalIndex]] = {}  # (database, key) -> stamp, index


def index_for(conn: Connection, key: str, *, fixed: bool) -> LexicalIndex:
    """A lexical index of this database's live topics, kept in the process under ``key``:
    ``fixed``, the one built on first use (a sweep's: its candidates come from the names
    live when it first ran here); else rebuilt whenever the live topics changed.
    """
    slot = (str(conn.engine.url), key)
    with _lock:
        cached = _cached.get(slot)
        if cached is not None and fixed:
            return cached[1]
        stamp = "" if fixed else repr(tuple(conn.execute(_STAMP).one()))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        index = LexicalIndex(*_columns(conn.execute(_LIVE_NAMES).tuples()))
        _cached.pop(slot, None)
        while len(_cached) >= KEPT_INDEXES:
            _cached.pop(next(iter(_cached)))
        _cached[slot] = (stamp, index)
        return index


def _columns(rows: Iterable[tuple[int, str]]) -> tuple[list[int], list[str]]:
    ids: list[int] = []
    names: list[str] = []
    for topic_id, name in rows:
        ids.append(topic_id)
        names.append(name)
    return ids, names
