"""What the local rule engine does to one topic: its classification, validated against the
taxonomy, or why it cannot be classified (for reclassify, its dry run and the LLM
fallback).
"""

from __future__ import annotations

from dataclasses import dataclass

from jobcore.catalog import topic_store
from jobcore.classify.rules import NoRuleMatched, RuleEngine
from jobcore.classify.taxonomy import Classification, get_taxonomy


@dataclass(frozen=True)
class PlannedChange:
    """What a local reclassify would do to one topic (for dry runs and for the handler)."""

    topic: topic_store.TopicRow
    new: Classification | None
    rule_id: str | None
    error: str | None

    @property
    def changed(self) -> bool:
        return self.error is None and self.new != self.topic.classification


def plan_topic(engine: RuleEngine, topic: topic_store.TopicRow) -> PlannedChange:
    """Classify one topic and validate the answer against the taxonomy."""
    try:
        match = engine.classify(topic.name, topic.description)
    except NoRuleMatched as exc:
        return PlannedChange(topic, None, None, f"Not classified: {exc}")
    problems = get_taxonomy().problems(match.classification)
    if problems:
        return PlannedChange(topic, None, match.rule_id,
                             f"Rule {match.rule_id!r} gave an invalid classification: "
                             + "; ".join(problems))
    return PlannedChange(topic, match.classification, match.rule_id, None)
