"""The job store: ids, listing, errors appended, fail."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from jobcore.errors import UsageError
from jobcore.jobs import store


def _job(conn, job_type="reclassify", **kw):
    return store.create_job(conn, job_type=job_type, config={}, total_items=3,
                            created_by="ana", **kw)


def test_job_ids_look_like_the_seed(engine):
    with engine.begin() as conn:
        job = _job(conn)
    assert re.fullmatch(r"job_\d{13}_[0-9a-f]{8}", job.id)


def test_list_filters_and_limits_newest_first(engine):
    with engine.begin() as conn:
        ids = [_job(conn).id for _ in range(3)]
        for age, job_id in enumerate(reversed(ids)):  # ids[2] newest
            conn.execute(sa.text("UPDATE admin_jobs SET created_at = now() - "
                                 "make_interval(mins => :age) WHERE id = :id"),
                         {"age": age, "id": job_id})
    with engine.begin() as conn:
        store.cancel_job(conn, ids[0])
        assert [j.id for j in store.list_jobs(conn)] == list(reversed(ids))
        assert [j.id for j in store.list_jobs(conn, status="cancelled")] == [ids[0]]
        assert store.list_jobs(conn, job_type="dedup_sweep") == []
        assert len(store.list_jobs(conn, limit=2)) == 2
        for bad in (0, 101, "5", True):
            with pytest.raises(UsageError, match="limit must be a whole number from 1 to 100"):
                store.list_jobs(conn, limit=bad)


def test_a_list_reads_a_merge_without_its_clusters_and_the_job_keeps_them(engine):
    """A merge's clusters (1.5 MB for 40,000) are read by its own detail, not by every list
    it appears in; a job it came from is still named.
    """
    clusters = [{"winner": i, "losers": [{"id": i + 1, "score": 0.9}]}
                for i in range(1, 200, 2)]
    with engine.begin() as conn:
        merge = store.create_job(conn, job_type="merge", total_items=100, created_by="ana",
                                 config={"clusters": clusters, "sourceSweepId": "job_1_a"})
        listed = store.list_jobs(conn)
        summary = store.get_summary(conn, merge.id)
    assert listed[0].config == {"sourceSweepId": "job_1_a"}
    assert summary.config["clusters"] == clusters


def test_chunk_errors_keep_earlier_ones_and_fail_records_the_message(engine):
    with engine.begin() as conn:
        job = _job(conn)
        for errors in ([{"id": 1, "message": "first"}], [{"message": "second"}]):
            store.update_progress(conn, job.id, processed=1, success=0, errors=1, skips=0,
                                  cursor={}, new_errors=errors, result_patch={},
                                  started_at=datetime.now(UTC), done=False)
        store.fail_job(conn, job.id, "database went away")
        failed = store.get_job(conn, job.id)
    assert failed.errors == [{"id": 1, "message": "first"}, {"message": "second"}]
    assert (failed.status, failed.failure_message) == ("failed", "database went away")
    assert failed.completed_at is not None


def test_jobs_are_found_by_what_they_were_given_or_touched(engine, make_topic):
    """A config value (case aside, wildcards plain), a job id, or a topic id in the config,
    the changes or the errors.
    """
    from jobcore.jobs import drive, runner

    golf = make_topic("Golf Enthusiasts")
    odd = make_topic("Qqqz Wxyv")  # no rule: an error about it
    sports = runner.create_job("reclassify", {"parentCategoryFilter": "Sports"}, engine=engine)
    every = runner.create_job("reclassify", {"force": True}, engine=engine)
    drive.run_to_completion(every.id, engine=engine)
    named = runner.create_job("reclassify", {"force": True, "topicIds": [odd]}, engine=engine)

    def found(text: str) -> set[str]:
        with engine.connect() as conn:
            return {j.id for j in store.list_jobs(conn, mentioning=text, limit=100)}

    assert found("sports") == {sports.id}
    # a part of a job id (from its "_": a tail of only digits would read as a topic id)
    assert found(every.id[-9:]) == {every.id}
    assert found(f"#{golf}") == {every.id}  # it changed the topic
    assert found(str(odd)) == {every.id, named.id}  # an error about it; named in the config
    assert found("100%") == set()
    with pytest.raises(UsageError, match="at most 200 characters"):
        found("x" * 201)
