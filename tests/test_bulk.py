"""Bulk actions over a filter: exactly the matching jobs the action can take are taken, the
others are refused with the reason, and the API asks for a dry run's count first.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from jobcore import bulk
from jobcore.access import Role
from jobcore.api import create_app, hash_token
from jobcore.classify import recovery
from jobcore.errors import UsageError
from jobcore.jobs import drive, runner
from jobcore.jobs.store import JobFilter
from tests.conftest import rules_changed_since

TOKEN = "test-token-0123456789abcdef0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _job(engine, by: str, *, errors: bool, make_topic, finish: bool = True,
         rules_changed: bool = True) -> str:
    """A reclassify job by ``by`` over one new topic that fails (``errors``: no rule
    matches it) or not.
    """
    topic = make_topic("Qqqz Wxyv" if errors else "Yoga Fans")
    created = runner.create_job("reclassify", {"force": True, "topicIds": [topic]},
                                created_by=by, engine=engine)
    if finish:
        drive.run_to_completion(created.id, engine=engine)
        if rules_changed:
            rules_changed_since(engine, created.id)  # its rule miss is worth a retry
    return created.id


def _retries_of(engine, job_id: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT id FROM admin_jobs WHERE config ->> 'retryOf' "
                                         "= :j"), {"j": job_id}).scalars())


def test_bulk_retry_of_a_filtered_set_creates_exactly_the_expected_jobs(engine, make_topic):
    wanted = _job(engine, "ana", errors=True, make_topic=make_topic)
    other_creator = _job(engine, "bo", errors=True, make_topic=make_topic)
    clean = _job(engine, "ana", errors=False, make_topic=make_topic)
    already = _job(engine, "ana", errors=True, make_topic=make_topic)
    live_retry = recovery.create_retry(already, created_by="ana", engine=engine).id
    also_wanted = _job(engine, "ana", errors=True, make_topic=make_topic)

    planned = bulk.plan(bulk.RETRY_ERRORS, JobFilter(job_type="reclassify", created_by="ana"),
                        engine=engine)
    assert planned.matching == 5
    assert planned.job_ids == (also_wanted, wanted)  # newest first
    assert dict((r.job_id, r.reason) for r in planned.refusals) == {
        clean: "no errors to retry",
        already: f"already has a retry in progress (job {live_retry}, pending); let it "
                 "finish, or cancel it, first",
        live_retry: "still pending: retry its errors when it has finished"}
    assert planned.question() == ("Retry the errors of 2 jobs matching type reclassify, "
                                  "created by ana?")

    done = bulk.apply(planned, by="ana", engine=engine)
    assert [d.job_id for d in done.succeeded] == [also_wanted, wanted] and not done.refused
    assert done.summary() == ("Created retry jobs for 2 jobs matching type reclassify, "
                              "created by ana.")
    for source in (also_wanted, wanted):
        [retry] = _retries_of(engine, source)
        job = runner.get_job(retry, engine=engine)
        assert job.config["retryOf"] == source and job.total_items == 1
        assert job.created_by == "ana"
    assert _retries_of(engine, other_creator) == [] and _retries_of(engine, clean) == []
    assert _retries_of(engine, already) == [live_retry]


def test_a_bulk_retry_leaves_out_up_front_a_job_whose_errors_the_same_rules_cannot_fix(
        engine, make_topic):
    worth_it = _job(engine, "ana", errors=True, make_topic=make_topic)
    hopeless = _job(engine, "ana", errors=True, make_topic=make_topic, rules_changed=False)
    planned = bulk.plan(bulk.RETRY_ERRORS, JobFilter(job_type="reclassify"), engine=engine)
    assert planned.job_ids == (worth_it,)
    [refused] = planned.refusals
    assert refused.job_id == hopeless
    assert refused.reason.startswith("its errors are all rule misses (1) under the rules still "
                                     "in use")
    assert "retry them with Claude" in refused.reason
    done = bulk.apply(planned, by="ana", engine=engine)
    assert [d.job_id for d in done.succeeded] == [worth_it] and not done.refused
    assert _retries_of(engine, hopeless) == []


def test_bulk_cancel_takes_unfinished_jobs_and_reports_what_changed_meanwhile(
        engine, make_topic):
    finished = _job(engine, "ana", errors=False, make_topic=make_topic)
    pending = [_job(engine, "ana", errors=False, make_topic=make_topic, finish=False)
               for _ in range(3)]
    elsewhere = _job(engine, "bo", errors=False, make_topic=make_topic, finish=False)
    planned = bulk.plan(bulk.CANCEL, JobFilter(created_by="ana"), engine=engine)
    assert set(planned.job_ids) == set(pending)
    assert planned.reasons() == [("already completed", 1)]
    assert planned.refusals[0].job_id == finished

    drive.run_to_completion(pending[0], engine=engine)  # finishes before the confirmation
    done = bulk.apply(planned, by="ana", engine=engine)
    assert {d.job_id for d in done.succeeded} == set(pending[1:])
    [refused] = done.refused
    assert refused.job_id == pending[0] and "already completed" in refused.reason
    assert done.summary() == ("Cancelled 2 jobs matching created by ana; refused 1 (reasons "
                              "below).")
    for job_id in pending[1:]:
        assert runner.get_job_summary(job_id, engine=engine).status == "cancelled"
        [event] = runner.job_events(job_id, engine=engine)
        assert (event.kind, event.created_by) == ("cancelled", "ana")
        assert event.message == "bulk cancel of 3 jobs matching created by ana"
    assert runner.get_job_summary(elsewhere, engine=engine).status == "pending"


def test_a_bulk_action_over_too_many_jobs_is_refused(engine, make_topic, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_JOBS", 2)
    for _ in range(3):
        _job(engine, "ana", errors=False, make_topic=make_topic, finish=False)
    with pytest.raises(UsageError, match="More than 2 jobs matching status pending; a bulk "
                                         "action takes at most 2: narrow the filters"):
        bulk.plan(bulk.CANCEL, JobFilter(status="pending"), engine=engine)
    with pytest.raises(UsageError, match="status must be one of"):
        JobFilter(status="running")


@pytest.fixture
def client(engine):
    app = create_app(engine=engine, tokens={hash_token(TOKEN): ("ana@example.com", Role.ADMIN)})
    with TestClient(app) as test_client:
        yield test_client


def test_the_api_counts_first_and_acts_on_the_confirmed_number(client, engine, make_topic):
    failed = [_job(engine, "ana@example.com", errors=True, make_topic=make_topic)
              for _ in range(2)]
    body = {"jobType": "reclassify", "createdBy": "ana@example.com"}
    dry = client.post("/api/admin/bulk/retry-errors", json={**body, "dryRun": True},
                      headers=AUTH)
    assert dry.status_code == 200, dry.text
    assert (dry.json()["matching"], dry.json()["jobs"]) == (2, 2)
    assert set(dry.json()["jobIds"]) == set(failed)
    missing = client.post("/api/admin/bulk/retry-errors", json=body, headers=AUTH)
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "jobIds"
    # a third job matches after the count: nobody confirmed it, so it is left alone
    unconfirmed = _job(engine, "ana@example.com", errors=True, make_topic=make_topic)
    acted = client.post("/api/admin/bulk/retry-errors",
                        json={**body, "jobIds": dry.json()["jobIds"]}, headers=AUTH).json()
    assert {d["jobId"] for d in acted["succeeded"]} == set(failed)
    assert _retries_of(engine, unconfirmed) == []
    assert all(_retries_of(engine, j) == [d["createdJobId"]] for d in acted["succeeded"]
               for j in [d["jobId"]])
    # the retries are pending jobs by the caller: a bulk cancel of them
    cancel = {"status": "pending", "dryRun": True}
    assert client.post("/api/admin/bulk/cancel", json=cancel, headers=AUTH).json()["jobs"] == 2
    confirmed = client.post("/api/admin/bulk/cancel", json=cancel, headers=AUTH).json()["jobIds"]
    drive.run_to_completion(confirmed[0], engine=engine)  # finishes before the confirmation
    cancelled = client.post("/api/admin/bulk/cancel", json={"status": "pending",
                                                            "jobIds": confirmed},
                            headers=AUTH).json()
    assert [d["jobId"] for d in cancelled["succeeded"]] == confirmed[1:]
    assert cancelled["refused"] == [{"jobId": confirmed[0],
                                     "reason": "no longer matches the filters"}]
    listed = client.get("/api/admin/jobs?status=cancelled&createdBy=ana%40example.com",
                        headers=AUTH).json()["jobs"]
    assert [j["id"] for j in listed] == confirmed[1:]
    since = client.get("/api/admin/jobs?createdSince=2000-01-01T00%3A00%3A00%2B02%3A00",
                       headers=AUTH).json()["jobs"]
    assert len(since) == 5  # every job (two sources, one unconfirmed, two retries)
    later = client.get("/api/admin/jobs?createdSince=2999-01-01T00%3A00%3A00Z",
                       headers=AUTH).json()["jobs"]
    assert later == []
    assert client.get("/api/admin/jobs?createdSince=1700000000", headers=AUTH).status_code == 422
    bad = client.post("/api/admin/bulk/cancel", json={"status": "running"}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"


def test_the_api_hands_a_job_to_the_workers_and_takes_it_back(client, engine, make_topic):
    job_id = _job(engine, "ana", errors=False, make_topic=make_topic, finish=False)
    handed = client.post(f"/api/admin/jobs/{job_id}/background", headers=AUTH)
    assert handed.status_code == 200 and handed.json()["background"] is True
    back = client.post(f"/api/admin/jobs/{job_id}/take-over", headers=AUTH)
    assert back.status_code == 200 and back.json()["background"] is False
    drive.run_to_completion(job_id, engine=engine)
    finished = client.post(f"/api/admin/jobs/{job_id}/background", headers=AUTH)
    assert finished.status_code == 409 and "only an unfinished job" in finished.text
