"""What the local classifier does to topics: a classification (validated against the
taxonomy) with its node and detail, flagged when the classifier is unsure, or why a topic
cannot be classified (for reclassify, its dry run and the LLM fallback).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobcore.catalog import topic_store
from jobcore.classify.exemplars import Exemplar
from jobcore.classify.segment_classifier import (
    Decision,
    SegmentClassifier,
    classification_of,
)
from jobcore.classify.taxonomy import Classification, get_taxonomy


@dataclass(frozen=True)
class PlannedChange:
    """What a local reclassify would do to one topic (for dry runs and for the handler).

    ``flag`` is the review reason when the classifier is unsure (the topic is still
    classified, with its best candidate); ``error`` when it cannot be classified at all.
    """

    topic: topic_store.TopicRow
    new: Classification | None
    node_id: str | None
    evidence: str | None
    detail: dict[str, Any] | None
    error: str | None
    flag: str | None = None
    source: str = "rules"  # or "exemplar": an analyst's exemplar decided

    @property
    def changed(self) -> bool:
        return self.error is None and self.new != self.topic.classification



def plan_topics(classifier: SegmentClassifier, topic_rows: list[topic_store.TopicRow],
                exemplars: dict[str, Exemplar] | None = None) -> list[PlannedChange]:
    """Classify topics: an exemplar whose key the name shares decides, the classifier the
    rest (one encoder call for all); each answer is validated.
    """
    planned: dict[int, PlannedChange] = {}
    for topic in topic_rows:
        exemplar = (exemplars or {}).get(classifier.exemplar_key(topic.name)) \
            if exemplars else None
        if exemplar is not None:
            planned[topic.id] = _followed(topic, exemplar, classifier.version)
    rest = [t for t in topic_rows if t.id not in planned]
    decisions = classifier.classify_many([(t.name, t.description) for t in rest])
    for topic, decision in zip(rest, decisions, strict=True):
        planned[topic.id] = _planned(topic, decision, classifier.version)
    return [planned[t.id] for t in topic_rows]


def _followed(topic: topic_store.TopicRow, exemplar: Exemplar, version: str) -> PlannedChange:
    """The classification of the exemplar a topic's name shares its key with."""
    detail = {"by": version, "nodeId": exemplar.node_id, "confidence": 1.0,
              "evidence": f"exemplar #{exemplar.id} {exemplar.name!r}",
              "exemplar": {"id": exemplar.id, "name": exemplar.name}, "unsure": False,
              "runnerUp": None}
    return PlannedChange(topic, exemplar.classification, exemplar.node_id,
                         f"exemplar #{exemplar.id}", detail, None, None, "exemplar")


def _planned(topic: topic_store.TopicRow, decision: Decision, version: str) -> PlannedChange:
    best = decision.best
    if best is None:
        return PlannedChange(topic, None, None, None, None, decision.reason())
    new = classification_of(best.node)
    problems = get_taxonomy().problems(new)
    if problems:
        return PlannedChange(topic, None, None, best.evidence, None,
                             f"Not classified: {best.describe()} is not a valid "
                             "classification: " + "; ".join(problems))
    return PlannedChange(topic, new, best.node.id, best.evidence,
                         detail_of(decision, version), None,
                         decision.reason() if decision.unsure else None)


def detail_of(decision: Decision, version: str) -> dict[str, Any]:
    """The classification_detail stored with a local classification."""
    assert decision.best is not None
    runner = decision.runner_up
    return {"by": version, "nodeId": decision.best.node.id, "evidence": decision.best.evidence,
            "confidence": decision.confidence, "margin": decision.margin,
            "unsure": decision.unsure,
            "runnerUp": {"nodeId": runner.node.id, "path": runner.describe(),
                         "evidence": runner.evidence} if runner is not None else None}
