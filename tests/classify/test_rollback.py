"""Rollback and retry-errors against PostgreSQL: exact restore, history, refusals."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from jobcore.classify import rollback as rollback_job
from jobcore.classify.recovery import create_retry, create_rollback
from jobcore.errors import Conflict, JobNotFound, UsageError
from jobcore.jobs import drive, runner
from jobcore.schema import topic_history, topics
from tests.conftest import rules_changed_since

OLD = {"segment_type": "b2c", "taxonomy_type": "Interest", "parent_category": "Healthy Living",
       "subcategory": "Fitness and Exercise", "audience_type": "interest",
       "classification_version": "rules-2024.1", "classification_source": "rules"}
STATE = ("segment_type", "taxonomy_type", "parent_category", "subcategory", "audience_type",
         "classification_version", "classification_source")


def _state(get_topic, topic_id):
    row = get_topic(topic_id)
    return {key: getattr(row, key) for key in STATE}


def _reclassified(engine, make_topic, n=70):
    """n topics with an old classification that the rules change, plus two never classified."""
    ids = [make_topic(f"Luxury SUV Intenders {i}", **OLD) for i in range(n)]
    ids += [make_topic("Yoga Enthusiasts"), make_topic("Coffee Lovers")]
    job = runner.create_job("reclassify", {}, engine=engine)
    drive.run_to_completion(job.id, engine=engine)
    return job.id, ids


def test_rollback_restores_previous_values_exactly_and_records_history(engine, make_topic,
                                                                        get_topic):
    source, ids = _reclassified(engine, make_topic)
    assert get_topic(ids[0]).parent_category == "Automotive Ownership"
    rollback = create_rollback(source, engine=engine, created_by="ana")
    assert rollback.total_items == 72
    job = runner.get_job(rollback.id, engine=engine)
    assert job.config["rollbackOf"] == source and job.job_type == "reclassify"
    report = drive.run_to_completion(rollback.id, engine=engine)
    assert (report.status, report.success_count, report.error_count) == ("completed", 72, 0)
    chunks = runner.get_job(rollback.id, engine=engine).chunk_count
    assert job.chunk_count == 0 and chunks == -(-72 // rollback_job.CHUNK_SIZE)
    for topic_id in ids[:70]:
        assert _state(get_topic, topic_id) == OLD
    never = get_topic(ids[70])
    assert (never.parent_category, never.classification_version, never.classified_at) == (
        None, None, None)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(topic_history)
                            .where(topic_history.c.job_id == rollback.id)).all()
    assert len(rows) == 72 and {r.action for r in rows} == {"rolled_back"}
    first = next(r for r in rows if r.topic_id == ids[0])
    assert first.previous_values["parent_category"] == "Automotive Ownership"
    assert first.new_values["parent_category"] == "Healthy Living"
    assert first.created_by == "ana"
    # The catalogue is as before: the same topics are outdated again.
    assert runner.count_items("reclassify", {}, engine=engine) == 72


def test_topic_changed_since_by_another_job_is_an_error_not_overwritten(engine, make_topic,
                                                                        get_topic):
    source, ids = _reclassified(engine, make_topic, n=3)
    later = runner.create_job("reclassify", {"force": True, "limit": 1}, engine=engine)
    # a later job rewrites the first topic (simulate a newer rule by editing it first)
    with engine.begin() as conn:
        conn.execute(sa.update(topics).where(topics.c.id == ids[0])
                     .values(parent_category="Automotive", taxonomy_type="Interest",
                             subcategory=None, audience_type="interest"))
    drive.run_to_completion(later.id, engine=engine)
    with engine.begin() as conn:  # an edit outside any job on the second topic
        conn.execute(sa.update(topics).where(topics.c.id == ids[1])
                     .values(subcategory="Luxury Cars"))
    before = {i: _state(get_topic, i) for i in ids[:2]}

    rollback = create_rollback(source, engine=engine)
    report = drive.run_to_completion(rollback.id, engine=engine)
    assert (report.success_count, report.error_count) == (3, 2)
    errors = {e["id"]: e["message"] for e in runner.get_job(rollback.id, engine=engine).errors}
    assert f"changed since by job {later.id} (reclassified)" in errors[ids[0]]
    assert "subcategory differ" in errors[ids[1]] and "not rolled back" in errors[ids[1]]
    assert {i: _state(get_topic, i) for i in ids[:2]} == before
    assert _state(get_topic, ids[2]) == OLD


def test_rollback_refusals_are_clear(engine, make_topic, many_topics):
    source, _ = _reclassified(engine, make_topic, n=2)
    first = create_rollback(source, engine=engine)
    with pytest.raises(UsageError, match=f"already has a rollback: job {first.id}"):
        create_rollback(source, engine=engine)
    drive.run_to_completion(first.id, engine=engine)
    with pytest.raises(UsageError, match="itself a rollback"):
        create_rollback(first.id, engine=engine)
    many_topics(60)
    running = runner.create_job("reclassify", {}, engine=engine)
    runner.process_chunk(running.id, engine=engine)
    with pytest.raises(UsageError, match="a reclassify job that is processing"):
        create_rollback(running.id, engine=engine)
    with pytest.raises(UsageError, match="rollbackOf cannot be combined with force"):
        runner.create_job("reclassify", {"rollbackOf": source, "force": True}, engine=engine)
    with pytest.raises(JobNotFound):
        create_rollback("job_1_missing", engine=engine)


def test_cancelled_rollback_allows_a_new_one(engine, make_topic):
    chunk = rollback_job.CHUNK_SIZE
    source, _ = _reclassified(engine, make_topic, n=chunk + 10)
    first = create_rollback(source, engine=engine)
    runner.process_chunk(first.id, engine=engine)
    runner.cancel_job(first.id, engine=engine)
    second = create_rollback(source, engine=engine)
    report = drive.run_to_completion(second.id, engine=engine)
    # the chunk the first rollback restored is reported, not restored twice
    assert (report.success_count, report.error_count) == (12, chunk)


def test_retry_targets_only_the_failed_topics(engine, make_topic, get_topic):
    bad = [make_topic(f"Qqqz Wxyv {c}") for c in "abc"]
    good = make_topic("Yoga Enthusiasts")
    source = runner.create_job("reclassify", {}, engine=engine)
    drive.run_to_completion(source.id, engine=engine)
    rules_changed_since(engine, source.id)  # rule misses are worth a retry again
    # someone fixes one topic's name; the retry picks it up
    with engine.begin() as conn:
        conn.execute(sa.update(topics).where(topics.c.id == bad[0])
                     .values(name="Luxury SUV Intenders"))
    retry = create_retry(source.id, engine=engine)
    assert retry.total_items == 3
    job = runner.get_job(retry.id, engine=engine)
    assert (job.config["retryOf"], job.config["force"], job.config["mode"]) == (
        source.id, True, "local")
    report = drive.run_to_completion(retry.id, engine=engine)
    assert (report.success_count, report.error_count) == (1, 2)
    assert get_topic(bad[0]).subcategory == "SUV"
    assert get_topic(good).classified_at is not None
    assert {e["id"] for e in runner.get_job(retry.id, engine=engine).errors} == set(bad[1:])


def test_retry_refused_without_errors_or_while_running(engine, many_topics):
    many_topics(60)
    source = runner.create_job("reclassify", {}, engine=engine)
    runner.process_chunk(source.id, engine=engine)
    with pytest.raises(UsageError, match="still processing"):
        create_retry(source.id, engine=engine)
    drive.run_to_completion(source.id, engine=engine)
    with pytest.raises(UsageError, match="no errors to retry"):
        create_retry(source.id, engine=engine)


def test_simultaneous_retries_of_one_job_make_one_retry(engine, make_topic):
    for c in "abcd":
        make_topic(f"Qqqz Wxyv {c}")
    source = runner.create_job("reclassify", {}, engine=engine)
    drive.run_to_completion(source.id, engine=engine)
    rules_changed_since(engine, source.id)
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def retry() -> None:
        start.wait()
        try:
            outcomes.append(create_retry(source.id, engine=engine).id)
        except Conflict as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    created = [o for o in outcomes if o.startswith("job_")]
    assert len(created) == 1
    assert sum("already has a retry in progress" in o for o in outcomes) == 7
    drive.run_to_completion(created[0], engine=engine)  # once it finished, retry again
    assert create_retry(source.id, engine=engine).total_items == 4


def test_retry_this_group_targets_exactly_that_group(engine, make_topic):
    from jobcore.catalog.topic_store import error_categories
    from jobcore.ui.errors import error_groups, errors_frame

    sports = [make_topic(f"Qqqz Wxyv {c}", parent_category="Sports") for c in "ab"]
    travel = make_topic("Qqqz Wxyv c", parent_category="Travel")
    source = runner.create_job("reclassify", {}, engine=engine)
    drive.run_to_completion(source.id, engine=engine)
    errors = runner.get_job(source.id, engine=engine).errors
    groups = error_groups(errors_frame(errors, error_categories(errors, engine=engine)))
    assert groups["parent category: Sports"] == sorted(sports)
    assert groups["parent category: Travel"] == [travel]
    assert sum(len(ids) for g, ids in groups.items() if g.startswith("pattern: ")) == 3

    retry = create_retry(source.id, engine=engine, group="parent category: Sports",
                         topic_ids=groups["parent category: Sports"])
    assert retry.total_items == 2
    job = runner.get_job(retry.id, engine=engine)
    assert (job.config["retryOf"], job.config["retryGroup"]) == (source.id,
                                                                 "parent category: Sports")
    drive.run_to_completion(retry.id, engine=engine)
    assert {e["id"] for e in runner.get_job(retry.id, engine=engine).errors} == set(sports)
    with pytest.raises(UsageError, match="names no topic"):
        create_retry(source.id, engine=engine, group="parent category: Nowhere", topic_ids=[])


def test_a_retry_leaves_out_rule_misses_the_same_rules_would_miss_again(engine, make_topic):
    """Under the rules the job ran with, "no word of the name matches" fails again: Retry
    errors says so (beside the errors and when asked) and takes only the others; a group
    retry still takes them, and once the rules change they are retried.
    """
    from jobcore.jobs import detail

    misses = [make_topic(f"Qqqz Wxyv {c}") for c in "ab"]
    source = runner.create_job("reclassify", {}, engine=engine)
    drive.run_to_completion(source.id, engine=engine)
    summary = runner.get_job_summary(source.id, engine=engine)
    note = detail.errors_note(summary, engine=engine)
    assert note is not None and note.startswith("2 of these errors are rule misses")
    with pytest.raises(Conflict, match=r"rule misses \(2\) under the same rules"):
        create_retry(source.id, engine=engine)
    group = create_retry(source.id, engine=engine, group="pattern: no word matches",
                         topic_ids=misses)
    assert group.total_items == 2  # chosen by the analyst: taken
    runner.cancel_job(group.id, engine=engine)
    rules_changed_since(engine, source.id)
    assert detail.errors_note(summary, engine=engine) is None
    assert create_retry(source.id, engine=engine).total_items == 2
