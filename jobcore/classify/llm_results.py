"""Writing LLM reclassify results: validated classifications with history; a bad answer is
the topic's error (classified by the local rules instead with ``fallbackLocal``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from jobcore.catalog import topic_store
from jobcore.classify.planning import plan_topics
from jobcore.classify.prompts import parse_answer
from jobcore.classify.segment_classifier import get_classifier
from jobcore.dedup import embeddings
from jobcore.jobs.base import ChunkOutcome, ItemError
from jobcore.jobs.store import Job
from jobcore.llm.answers import AnswerError, answer_of, live_results
from jobcore.llm.client import version_of


def write_classifications(conn: Connection, job: Job, config, staged: list[Any],
                          outcome: ChunkOutcome) -> None:
    """reclassify's results: validated classifications written with history; a bad answer
    is the topic's error (classified by the local rules instead with ``fallbackLocal``).
    """
    version = version_of(config)
    writes, flags = [], {}
    for row, topic in live_results(staged, outcome):
        try:
            new, node_id = parse_answer(answer_of(row), topic.classification,
                                        config.target_column)
        except AnswerError as exc:
            text = f"LLM: {exc}"
            fallback = _local_fallback(topic) if config.fallback_local else None
            if fallback is not None:
                outcome.errors.append(ItemError(f"{text}; classified by the local rules "
                                                f"instead", id=topic.id, name=topic.name))
                writes.append(fallback)
                continue
            outcome.errors.append(ItemError(text, id=topic.id, name=topic.name))
            flags[topic.id] = text
            continue
        history = None
        if new != topic.classification:
            history = (topic_store.classification_state(topic), {
                **new.as_dict(), "classification_version": version,
                "classification_source": "llm"})
            outcome.success += 1
        else:
            outcome.skips += 1
        # the answer's node (none from the wide question: the earlier node and detail go;
        # column mode changes one field and leaves them); an earlier local flag is cleared
        detail = None if config.target_column else {"by": version, "nodeId": node_id}
        writes.append(topic_store.ClassificationWrite(topic.id, new, version, "llm", history,
                                                      node_id, detail, clears_flag=True))
    topic_store.apply_classifications(conn, writes, job_id=job.id, action="reclassified",
                                  created_by=job.created_by)
    embeddings.keep_current(conn, [w.topic_id for w in writes if w.history is not None])
    topic_store.flag_for_review(conn, flags)


def _local_fallback(topic: topic_store.TopicRow) -> topic_store.ClassificationWrite | None:
    """The local classifier's classification of a topic whose LLM result failed, if it is
    sure of one.
    """
    classifier = get_classifier()
    change = plan_topics(classifier, [topic])[0]
    if change.error is not None or change.new is None or change.flag is not None:
        return None
    history = (topic_store.classification_state(topic), {
        **change.new.as_dict(), "classification_version": classifier.version,
        "classification_source": "rules", "rule": change.evidence, "fallbackFrom": "llm",
        "taxonomy_node_id": change.node_id})
    return topic_store.ClassificationWrite(topic.id, change.new, classifier.version, "rules",
                                           history, change.node_id, change.detail)
