"""Lexical evidence for dedup: how much two topics' names share, and an index that finds the
topics whose names share rare pieces with a topic's name (candidates the embedding may rank
low: model codes, rare words, abbreviations).

- **Name text.** Case folded; a data provider's path reduced to its last part ("Acme > Auto >
  SUV Intenders" reads "suv intent"); "&" read as "and"; the usual wordings of purchase
  intent ("In-Market for", "Intenders", "Shoppers", "Buyers", "Likely to Buy") and of
  interest ("Enthusiasts", "Fans", "Lovers", "Content Readers", "People Interested in")
  folded to one word each; punctuation dropped.
- **Similarity.** Cosine similarity of the names' character trigrams (within words,
  sublinear term frequency) weighted by inverse document frequency over the live catalogue:
  a shared rare piece ("fs105") counts for more than a shared common one ("ers").
- **Index.** The same vectors and, for the rarer trigrams (those at most ``RARE_SHARE`` of
  names hold, or at most ``RARE_MIN``), the names holding each. A search shortlists the
  names sharing the most rarer-trigram weight with a name and ranks the shortlist by full
  similarity: it never reads the long posting lists of the commonest trigrams ("ers",
  " th"). Approximate: bench/dedup.py measures its recall against an exact search.

The index lives in the process, built from the live topics' names on first use (about 1.5 s
per 100,000 topics; see ``index_for``). Scores are always computed from the names given, so
a renamed topic's score is current even where an index is older than the rename.
"""

from __future__ import annotations

import re
import threading
from collections import Counter

import numpy as np
import sqlalchemy as sa
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy.engine import Connection

RARE_SHARE = 0.05
RARE_MIN = 50
SHORTLIST = 4  # names shortlisted by rarer-trigram weight per candidate kept

_PROVIDER_PATH = re.compile(r"^.*>")
_INTENT = re.compile(r"\b(?:in[\s-]*market(?:\s+for)?|intenders?|shoppers?|buyers?|"
                     r"likely\s+to\s+buy|purchase\s+intent)\b")
_INTEREST = re.compile(r"\b(?:enthusiasts?|fans?|lovers?|hobbyists?|content\s+readers?|"
                       r"(?:people\s+)?interested\s+in)\b")
_WORD = re.compile(r"[a-z0-9]+")
_AUDIENCE_WORDS = frozenset({"intent", "interest", "and", "the", "for", "of", "in"})


def _same_word(a: str, b: str) -> bool:
    """The same word, or one a shortening of the other: a prefix (tech, technology; suv,
    suvs) or, from the same first letter, its letters in order (mgmt, management).
    """
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 2 or short[0] != long[0]:
        return False
    if long.startswith(short):
        return True
    letters = iter(long)
    return len(short) >= 3 and all(c in letters for c in short)


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
        self._word_holders = Counter(w for name in names for w in set(lexical_text(name).split()))
        self._row_of_name = {name: row for row, name in enumerate(names)}
        self.vectorizer.fit(names or ["empty"])
        self._rows = (self.vectorizer.transform(names).tocsr() if names else sparse.csr_matrix(
            (0, len(self.vectorizer.vocabulary_)), dtype=np.float32))
        postings = self._rows.T.tocsr()  # trigram -> the names holding it
        holders = np.diff(postings.indptr)
        self._rare = holders <= max(RARE_MIN, RARE_SHARE * len(ids))
        self._rare_postings = postings[self._rare]

    def subject(self, name: str) -> str | None:
        """The name's most distinctive word: the rarest one (in the catalogue) that another
        name holds too, leaving out numbers and the folded audience words.
        """
        words = [w for w in lexical_text(name).split()
                 if not w.isdigit() and w not in _AUDIENCE_WORDS
                 and self._word_holders.get(w, 0) >= 2]
        return min(words, key=lambda w: (self._word_holders[w], -len(w), w), default=None)

    def same_subject(self, name_a: str, name_b: str) -> bool:
        """Whether each name's subject appears in the other, whole or shortened ("Tech" for
        "Technology", "Mgmt" for "Management", a plural): "Intuit Administrators" and
        "Qualcomm Administrators" share a wording, not a subject.
        """
        words_a, words_b = lexical_text(name_a).split(), lexical_text(name_b).split()
        for subject, others in ((self.subject(name_a), words_b),
                                (self.subject(name_b), words_a)):
            if subject is not None and not any(_same_word(subject, w) for w in others):
                return False
        return True

    def holds(self, topic_id: int, name: str) -> bool:
        """Whether the index holds this topic under this name."""
        return self._names.get(topic_id) == name

    def name_of(self, topic_id: int) -> str:
        """The name the index holds for a topic."""
        return self._names[topic_id]

    def vectors(self, names: list[str]) -> sparse.csr_matrix:
        """Unit TF-IDF rows of these names (trigrams the index never saw count for nothing);
        the rows of indexed names are looked up, not computed again.
        """
        rows = [self._row_of_name.get(name) for name in names]
        if all(row is not None for row in rows):
            return self._rows[rows]
        fresh = [i for i, row in enumerate(rows) if row is None]
        computed = self.vectorizer.transform([names[i] for i in fresh]).tocsr()
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

    def candidates(self, names: dict[int, str], k: int, floor: float
                   ) -> dict[int, list[tuple[int, float]]]:
        """For each topic (id -> current name), up to ``k`` other indexed topics with their
        lexical similarity, best first, at or above ``floor``: the best by full similarity
        among the ``SHORTLIST`` x ``k`` that share the most rarer-trigram weight with it.
        """
        found: dict[int, list[tuple[int, float]]] = {s: [] for s in names}
        if not names or not self.ids.size:
            return found
        sources = list(names)
        vectors = self.vectors([names[s] for s in sources])
        shared = (vectors[:, self._rare] @ self._rare_postings).tocsr()
        wide = SHORTLIST * k
        rows, columns = [], []
        for row in range(len(sources)):
            start, end = shared.indptr[row], shared.indptr[row + 1]
            listed, weights = shared.indices[start:end], shared.data[start:end]
            if len(listed) > wide:
                listed = listed[np.argpartition(-weights, wide)[:wide]]
            rows.append(np.full(len(listed), row))
            columns.append(listed)
        row_of, column_of = np.concatenate(rows), np.concatenate(columns)
        if not len(row_of):
            return found
        similarity = np.minimum(np.asarray(
            vectors[row_of].multiply(self._rows[column_of]).sum(axis=1)).ravel(), 1.0)
        keep = similarity >= floor
        row_of, ids, similarity = row_of[keep], self.ids[column_of[keep]], similarity[keep]
        for index in np.lexsort((ids, -similarity, row_of)):
            source = sources[row_of[index]]
            if ids[index] != source and len(found[source]) < k:
                found[source].append((int(ids[index]), float(similarity[index])))
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
        rows = conn.execute(_LIVE_NAMES).all()
        index = LexicalIndex([r.id for r in rows], [r.name for r in rows])
        _cached.pop(slot, None)
        while len(_cached) >= KEPT_INDEXES:
            _cached.pop(next(iter(_cached)))
        _cached[slot] = (stamp, index)
        return index
