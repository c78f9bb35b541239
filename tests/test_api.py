"""The HTTP API with FastAPI's TestClient on real PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from jobcore.access import Role
from jobcore.api import create_app, hash_token, parse_token_entries
from tests.conftest import rules_changed_since

TOKEN = "test-token-0123456789abcdef0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(engine):
    app = create_app(engine=engine, tokens={hash_token(TOKEN): ("ana@example.com", Role.ADMIN)})
    with TestClient(app) as test_client:
        yield test_client


def _create(client, config=None, status=201):
    response = client.post("/api/admin/jobs", json={"jobType": "reclassify",
                                                    "config": config or {}}, headers=AUTH)
    assert response.status_code == status, response.text
    return response.json()


def test_create_process_until_done_then_poll(client, many_topics, make_topic):
    many_topics(120)
    make_topic("Qqqz Wxyv")
    created = _create(client)
    assert set(created) == {"jobId", "totalItems"} and created["totalItems"] == 121
    calls = 0
    while True:
        response = client.post(f"/api/admin/jobs/{created['jobId']}/process", headers=AUTH)
        assert response.status_code == 200
        body = response.json()
        calls += 1
        if body["done"]:
            break
    assert calls == 3
    assert body == {"done": True, "processedItems": 121, "totalItems": 121, "successCount": 120,
                    "errorCount": 1, "skipCount": 0}
    record = client.get(f"/api/admin/jobs/{created['jobId']}", headers=AUTH).json()
    assert record["status"] == "completed" and record["createdBy"] == "ana@example.com"
    assert record["errors"][0]["name"] == "Qqqz Wxyv"
    assert record["completedAt"] is not None and record["config"]["mode"] == "local"
    again = client.post(f"/api/admin/jobs/{created['jobId']}/process", headers=AUTH)
    assert again.status_code == 409 and again.json()["error"]["code"] == "finished"


def test_list_filters_and_limit_bounds(client, many_topics):
    many_topics(3)
    first = _create(client)
    client.post(f"/api/admin/jobs/{first['jobId']}/process", headers=AUTH)
    second = _create(client, {"force": True})
    listed = client.get("/api/admin/jobs", headers=AUTH).json()["jobs"]
    assert [j["id"] for j in listed] == [second["jobId"], first["jobId"]]
    done = client.get("/api/admin/jobs?status=completed", headers=AUTH).json()["jobs"]
    assert [j["id"] for j in done] == [first["jobId"]]
    unknown = client.get("/api/admin/jobs?jobType=teleport", headers=AUTH)
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "jobType"
    twice = client.get("/api/admin/jobs?limit=1&limit=2", headers=AUTH)
    assert twice.status_code == 422 and twice.json()["error"]["field"] == "limit"
    assert len(client.get("/api/admin/jobs?limit=1", headers=AUTH).json()["jobs"]) == 1
    for bad in ("0", "101", "x"):
        response = client.get(f"/api/admin/jobs?limit={bad}", headers=AUTH)
        assert response.status_code == 422 and response.json()["error"]["field"] == "limit"
    assert client.get("/api/admin/jobs?status=running", headers=AUTH).status_code == 422


def test_cancel_is_the_only_change(client, many_topics):
    many_topics(80)
    job_id = _create(client)["jobId"]
    client.post(f"/api/admin/jobs/{job_id}/process", headers=AUTH)
    bad = client.patch(f"/api/admin/jobs/{job_id}", json={"status": "completed"}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
    response = client.patch(f"/api/admin/jobs/{job_id}", json={"status": "cancelled"},
                            headers=AUTH)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = client.patch(f"/api/admin/jobs/{job_id}", json={"status": "cancelled"}, headers=AUTH)
    assert again.status_code == 409
    refused = client.post(f"/api/admin/jobs/{job_id}/process", headers=AUTH)
    assert refused.status_code == 409 and "cancelled" in refused.json()["error"]["message"]


def test_rollback_and_retry_errors(client, make_topic, engine):
    make_topic("Luxury SUV Intenders")
    make_topic("Qqqz Wxyv")
    job_id = _create(client)["jobId"]
    client.post(f"/api/admin/jobs/{job_id}/process", headers=AUTH)
    rollback = client.post(f"/api/admin/jobs/{job_id}/rollback", headers=AUTH)
    assert rollback.status_code == 201 and rollback.json()["totalItems"] == 1
    second = client.post(f"/api/admin/jobs/{job_id}/rollback", headers=AUTH)
    assert second.status_code == 409 and "already has a rollback" in second.text
    retry = client.post(f"/api/admin/jobs/{job_id}/retry-errors", headers=AUTH)
    # its one error is a rule miss, under the rules that are still current: said, not retried
    assert retry.status_code == 409 and "a local retry cannot classify them" in retry.text
    rules_changed_since(engine, job_id)
    retry = client.post(f"/api/admin/jobs/{job_id}/retry-errors", headers=AUTH)
    assert retry.status_code == 201 and retry.json()["totalItems"] == 1
    record = client.get(f"/api/admin/jobs/{retry.json()['jobId']}", headers=AUTH).json()
    assert record["config"]["retryOf"] == job_id and record["createdBy"] == "ana@example.com"
    nothing = client.post(f"/api/admin/jobs/{rollback.json()['jobId']}/retry-errors",
                          headers=AUTH)
    assert nothing.status_code == 409


def test_error_statuses_and_shape(client):
    missing = client.get("/api/admin/jobs/job_1_missing", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found",
                                        "message": "No job with id 'job_1_missing'.",
                                        "field": None}}
    assert client.post("/api/admin/jobs/job_1_missing/process", headers=AUTH).status_code == 404
    bad_config = _create(client, {"limit": 0}, status=422)
    assert bad_config["error"]["field"] == "config.limit"
    unknown_key = _create(client, {"colour": "red"}, status=422)
    assert unknown_key["error"]["field"] == "config.colour"
    not_a_category = _create(client, {"parentCategoryFilter": "Automotiv"}, status=422)
    assert not_a_category["error"]["field"] == "parentCategoryFilter"
    assert "did you mean 'Automotive'" in not_a_category["error"]["message"]
    bad_type = client.post("/api/admin/jobs", json={"jobType": "teleport", "config": {}},
                           headers=AUTH)
    assert bad_type.status_code == 422 and bad_type.json()["error"]["field"] == "jobType"
    assert "reclassify" in bad_type.json()["error"]["message"]
    no_org = client.post("/api/admin/jobs", json={"jobType": "reclassify", "orgId": 999},
                         headers=AUTH)
    assert no_org.status_code == 422 and no_org.json()["error"]["field"] == "orgId"
    assert client.get("/api/admin/jobs/not-a-job-id", headers=AUTH).status_code == 422


def test_token_is_required_and_checked(client):
    none = client.get("/api/admin/jobs")
    assert none.status_code == 401 and none.headers["WWW-Authenticate"] == "Bearer"
    wrong = client.get("/api/admin/jobs", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden"


def test_busy_job_is_409(client, engine, many_topics):
    from jobcore.jobs import store

    many_topics(5)
    job_id = _create(client)["jobId"]
    with engine.begin() as conn:
        store.lock_job(conn, job_id)
        busy = client.post(f"/api/admin/jobs/{job_id}/process", headers=AUTH)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "busy"


def test_token_entries_are_parsed_from_settings_format():
    digest = hash_token("abc")
    assert parse_token_entries([f"ci-bot:{digest}", "broken", "x:short", f"v:viewer:{digest[::-1]}",
                                f"x:root:{digest}"]) == {
        digest: ("ci-bot", Role.OPERATOR), digest[::-1]: ("v", Role.VIEWER)}


def test_openapi_describes_every_route_and_error(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths) == {"/api/admin/jobs", "/api/admin/jobs/{job_id}",
                          "/api/admin/jobs/{job_id}/process", "/api/admin/jobs/{job_id}/rollback",
                          "/api/admin/jobs/{job_id}/retry-errors",
                          "/api/admin/jobs/{job_id}/resume",
                          "/api/admin/jobs/{job_id}/background",
                          "/api/admin/jobs/{job_id}/take-over",
                          "/api/admin/bulk/cancel", "/api/admin/bulk/retry-errors",
                          "/api/admin/audit"}
    process = paths["/api/admin/jobs/{job_id}/process"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(process["responses"])
    assert "ProcessResult" in spec["components"]["schemas"]


@pytest.mark.parametrize(("config", "field"), [
    ({"model": "a\u0000b", "mode": "local"}, "model"),
    ({"parentCategoryFilter": "Sports\u0000"}, "parentCategoryFilter"),
])
def test_strings_postgres_cannot_store_are_a_422_naming_the_field(client, config, field):
    response = client.post("/api/admin/jobs", json={"jobType": "reclassify", "config": config},
                           headers=AUTH)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert "PostgreSQL cannot store" in response.json()["error"]["message"]
    assert client.get("/api/admin/jobs", headers=AUTH).status_code == 200  # still serving


def test_a_nul_in_a_config_key_is_a_422_too(client):
    response = client.post("/api/admin/jobs", headers=AUTH, json={
        "jobType": "reclassify", "config": {"mode": "local", "bad\u0000key": 1}})
    assert response.status_code == 422
    assert response.json()["error"]["field"].startswith("config")
