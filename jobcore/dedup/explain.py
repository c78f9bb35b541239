"""Why two topics are, or are not, proposed as duplicates by a sweep: the score's arithmetic
(each part and its weight) and the first rule that refuses the pair, for the review screen's
"Why not?" on two topics an analyst types or picks.

The pair is judged as the sweep judged its pairs: its matching mode and threshold, its
lexical index, the stored embeddings, the guards (jobcore.dedup.guards), the same-subject
rule and the analysts' "not duplicates" marks.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore import text_checks
from jobcore.db import get_engine
from jobcore.dedup import guards, lexical, neighbourhoods, proposals, thresholds
from jobcore.dedup.sweep_result import SweepResult
from jobcore.errors import UsageError
from jobcore.jobs import store
from jobcore.jobs.store import Job
from jobcore.sql_rules import LIVE_TOPIC_SQL, topic_id_of


@dataclass(frozen=True)
class Topic:
    id: int
    name: str


@dataclass(frozen=True)
class PairExplanation:
    """How a sweep scores and judges one pair of topics."""

    a: Topic
    b: Topic
    mode: str
    threshold: float
    semantic: float | None  # None: one of the two has no embedding yet
    lexical: float
    refusal: str | None  # the rule that keeps the pair from being proposed, if one does
    reading: tuple[str, str]  # each name as lexical matching reads it

    @property
    def score(self) -> float:
        return thresholds.pair_score(self.mode, self.semantic or 0.0, self.lexical)

    @property
    def proposed(self) -> bool:
        return self.refusal is None and self.score >= self.threshold

    def arithmetic(self) -> str:
        """The score as a sum of weighted parts ("0.25 × 0.912 semantic + ...")."""
        semantic = "no embedding" if self.semantic is None else f"{self.semantic:.3f}"
        if self.mode == thresholds.SEMANTIC:
            return f"score = semantic similarity {semantic} (semantic matching)"
        weight = thresholds.SEMANTIC_WEIGHT
        return (f"score = {weight:.2f} × {semantic} semantic + {1 - weight:.2f} × "
                f"{self.lexical:.3f} lexical = {self.score:.3f}")

    def verdict(self) -> str:
        """One sentence: proposed or not, and why."""
        if self.refusal is not None:
            return f"Not proposed: {self.refusal}."
        if self.score < self.threshold:
            return (f"Not proposed: the score {self.score:.3f} is below the sweep's threshold "
                    f"{self.threshold:.2f}.")
        return (f"Proposed when neither has a closer match: the score {self.score:.3f} "
                f"reaches the threshold {self.threshold:.2f}.")


def find_topic(conn: Connection, text: str) -> Topic:
    """The topic ``text`` names: "#123" or "123" (its id), else its exact name (case
    ignored). UsageError naming what is wrong when none or several match.
    """
    text = text_checks.checked(" ".join((text or "").split()), "The topic typed")
    if not text:
        raise UsageError("Type a topic id (#123) or its exact name.")
    by_id = topic_id_of(text)
    if by_id is not None:
        row = conn.execute(sa.text("SELECT id, name FROM topics WHERE id = :id"),
                           {"id": by_id}).first()
        if row is None:
            raise UsageError(f"No topic #{by_id}.")
        return Topic(row.id, row.name)
    rows = conn.execute(sa.text(
        "SELECT id, name FROM topics WHERE lower(name) = lower(:name) "
        f"AND {LIVE_TOPIC_SQL} ORDER BY id LIMIT 6"),
        {"name": text}).all()
    if not rows:
        raise UsageError(f"No live topic is named {text!r} (type its id, #123, to be sure).")
    if len(rows) > 1:
        ids = ", ".join(f"#{r.id}" for r in rows[:5])
        raise UsageError(f"Several topics are named {text!r} ({ids}): type one's id.")
    return Topic(rows[0].id, rows[0].name)


def explain(conn: Connection, job: Job, a: Topic, b: Topic) -> PairExplanation:
    """How the sweep ``job`` scores and judges topics ``a`` and ``b``."""
    if a.id == b.id:
        raise UsageError("Pick two different topics.")
    found = SweepResult.of(job.result)
    mode = found.matching or thresholds.SEMANTIC
    threshold = found.threshold if found.threshold is not None else \
        thresholds.DEFAULT_THRESHOLDS[mode]
    semantic = conn.execute(sa.text(
        "SELECT 1 - (x.embedding <=> y.embedding) FROM topic_embeddings x, topic_embeddings y "
        "WHERE x.topic_id = :a AND y.topic_id = :b"), {"a": a.id, "b": b.id}).scalar()
    index = lexical.index_for(conn, job.id, fixed=True, guard_key=guards.guard_key)
    similarity = index.similarities([(a.name, b.name)])[0]
    return PairExplanation(a, b, mode, threshold,
                           None if semantic is None else float(semantic), similarity,
                           _refusal(conn, index, a, b), (index.text(a.name), index.text(b.name)))


def _refusal(conn: Connection, index: lexical.LexicalIndex, a: Topic, b: Topic) -> str | None:
    if proposals.pair_key(a.id, b.id) in neighbourhoods.marked_not_duplicates(conn, {a.id}):
        return "an analyst marked them not duplicates"
    marked_apart = guards.refusal(guards.markers(a.name), guards.markers(b.name))
    if marked_apart is not None:
        return marked_apart
    if index.same_subject(a.name, b.name):
        return None
    words_a, words_b = index.words(a.name), index.words(b.name)
    if not index.covers(words_a, words_b):
        return (f"different subjects: neither name's words ({' '.join(words_a)} / "
                f"{' '.join(words_b)}) are all in the other")
    subjects = [s for s in (index.subject(a.name), index.subject(b.name)) if s]
    return (f"different subjects: the most distinctive word ({', '.join(subjects)}) is "
            "not in the other name")


def why_not(job_id: str, first: str, second: str, *,
            engine: Engine | None = None) -> PairExplanation:
    """``explain`` for two topics typed as ids ("#123") or exact names, against the sweep
    ``job_id`` (the review screen's "Why not?").
    """
    with (engine or get_engine()).connect() as conn:
        job = store.get_job(conn, job_id)
        return explain(conn, job, find_topic(conn, first), find_topic(conn, second))
