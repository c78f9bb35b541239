"""Every HTTP route against a viewer's, an operator's and an admin's token: allowed for the
right role, refused with 403 naming the role needed for the others (#30)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from jobcore.access import Role
from jobcore.api import create_app, hash_token
from jobcore.jobs import runner

TOKENS = {role: f"{role}-token-0123456789abcdef0123456789abcdef" for role in Role}


@pytest.fixture
def client(engine, app_env, make_topic):
    make_topic("Golf Fans")
    app = create_app(engine=engine, tokens={
        hash_token(token): (f"{role}@example.com", role) for role, token in TOKENS.items()})
    with TestClient(app) as test_client:
        yield test_client


def _job() -> str:
    return runner.create_job("reclassify", {"mode": "local"}).id


BULK = {"status": "pending", "dryRun": True}
# (method, path, body, least role); {job} is a fresh pending job
ROUTES = [
    ("GET", "/api/admin/jobs", None, Role.VIEWER),
    ("GET", "/api/admin/jobs/{job}", None, Role.VIEWER),
    ("POST", "/api/admin/jobs", {"jobType": "reclassify", "config": {"mode": "local"}},
     Role.OPERATOR),
    ("POST", "/api/admin/jobs/{job}/process", None, Role.OPERATOR),
    ("PATCH", "/api/admin/jobs/{job}", {"status": "cancelled"}, Role.OPERATOR),
    ("POST", "/api/admin/jobs/{job}/resume", None, Role.OPERATOR),
    ("POST", "/api/admin/jobs/{job}/rollback", None, Role.OPERATOR),
    ("POST", "/api/admin/jobs/{job}/retry-errors", None, Role.OPERATOR),
    ("POST", "/api/admin/jobs/{job}/background", None, Role.OPERATOR),
    ("POST", "/api/admin/jobs/{job}/take-over", None, Role.OPERATOR),
    ("POST", "/api/admin/bulk/cancel", BULK, Role.ADMIN),
    ("POST", "/api/admin/bulk/retry-errors", BULK, Role.ADMIN),
    ("GET", "/api/admin/audit", None, Role.ADMIN),
]


def test_every_route_is_in_the_matrix(client):
    paths = client.get("/openapi.json").json()["paths"]
    served = {(method.upper(), path.replace("{job_id}", "{job}"))
              for path, methods in paths.items() for method in methods}
    assert served == {(m, p) for m, p, _, _ in ROUTES}


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize(("method", "path", "body", "least"), ROUTES,
                         ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_each_route_for_each_role(client, method, path, body, least, role):
    response = client.request(method, path.format(job=_job()), json=body,
                              headers={"Authorization": f"Bearer {TOKENS[role]}"})
    if role >= least:
        assert response.status_code != 403, response.text
    else:
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "forbidden"
        assert f"Only an {least}" in error["message"]
        assert f"{role}@example.com is a" in error["message"]


def test_a_token_acts_with_its_owner_in_the_audit_log(client):
    job = _job()
    headers = {"Authorization": f"Bearer {TOKENS[Role.OPERATOR]}"}
    assert client.patch(f"/api/admin/jobs/{job}", json={"status": "cancelled"},
                        headers=headers).status_code == 200
    admin = {"Authorization": f"Bearer {TOKENS[Role.ADMIN]}"}
    entries = client.get("/api/admin/audit", params={"action": "cancel"},
                         headers=admin).json()["entries"]
    assert [(e["actor"], e["role"], e["via"], e["target"], e["outcome"]) for e in entries] == [
        ("operator@example.com", "operator", "api", job, "done")]
    uses = client.get("/api/admin/audit", params={"action": "token_use"},
                      headers=admin).json()["entries"]
    # each token's first call is logged (then once an hour), not every call
    assert sorted((e["actor"], e["details"]["route"]) for e in uses) == [
        ("admin@example.com", "GET /api/admin/audit"),
        ("operator@example.com", f"PATCH /api/admin/jobs/{job}")]
