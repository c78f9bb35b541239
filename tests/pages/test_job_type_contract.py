"""Adding a job type is its handler (then the registry's list, a migration and its tests):
a small job type registered here, with no other file touched, is offered and run by the
new-job form, the API (its schema, create, list, process), the command line's jobs
commands and the job detail page. The database's constraint is widened for the test as
the type's migration would.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import Field
from sqlalchemy.engine import Connection

from jobcore.access import Role
from jobcore.api import create_app, hash_token
from jobcore.catalog.topic_store import LIVE
from jobcore.cli.main import main
from jobcore.jobs import registry, runner
from jobcore.jobs.base import (
    ChunkOutcome,
    ItemError,
    JobConfig,
    JobHandler,
    JobPlan,
    KeyCursor,
    take_slice,
)
from jobcore.jobs.store import Job
from jobcore.schema import topics

PROBE = "probe_names"
TOKEN = "contract-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class ProbeConfig(JobConfig):
    """Look at every live topic's name."""

    limit: int | None = Field(default=None, ge=1, le=1_000_000,
                              description="At most this many topics.")


class ProbeHandler(JobHandler[ProbeConfig]):
    """A job type from outside the package: 10 topics a chunk, an error for a name with
    'bad' in it.
    """

    job_type = PROBE
    label = "Probe names"
    description = "Look at each live topic's name (a job type a test registers)."
    config_model = ProbeConfig

    def plan(self, conn: Connection, config: ProbeConfig, *,
             org_id: int | None) -> JobPlan:
        count = conn.execute(sa.select(sa.func.count()).where(LIVE)).scalar_one()
        return JobPlan(min(count, config.limit or count), KeyCursor())

    def process(self, conn: Connection, job: Job, config: ProbeConfig,
                deadline: float) -> ChunkOutcome:
        cursor = KeyCursor.of(job.cursor)
        last_id = cursor.last_id
        chunk = take_slice(lambda n: conn.execute(
            sa.select(topics.c.id, topics.c.name).where(LIVE, topics.c.id > last_id)
            .order_by(topics.c.id).limit(n)).all(), size=10, deadline=deadline,
            limit=config.limit, processed=job.processed_items)
        outcome = ChunkOutcome(cursor=cursor, done=False)
        for row in chunk.within_budget():
            cursor.last_id = row.id
            if "bad" in row.name:
                outcome.errors.append(ItemError("a bad name", id=row.id, name=row.name))
            else:
                outcome.success += 1
        outcome.done = chunk.done(job.processed_items + outcome.processed)
        return outcome


@pytest.fixture
def probe_type(engine, app_env, monkeypatch, make_topic):
    """The probe type registered (for this test only) and allowed by the database, over
    25 topics of which 2 have a bad name.
    """
    registry.handlers()  # every package's handlers registered first, for good
    monkeypatch.setattr(registry, "_handlers", dict(registry._handlers))
    registry.register(ProbeHandler)
    allowed = ", ".join(f"'{t}'" for t in registry.job_types())
    with engine.begin() as conn:  # what the type's migration does
        conn.execute(sa.text("ALTER TABLE admin_jobs DROP CONSTRAINT admin_jobs_job_type_check"))
        conn.execute(sa.text("ALTER TABLE admin_jobs ADD CONSTRAINT admin_jobs_job_type_check "
                             f"CHECK (job_type IN ({allowed}))"))
    for i in range(25):
        make_topic(f"Probe topic {i}" + (" bad" if i in (3, 17) else ""))
    return PROBE


def test_the_new_job_form_offers_counts_and_creates_it(probe_type, open_app, button):
    at = open_app()
    picker = at.selectbox(key="new_job_type")
    assert probe_type in picker.options or any("Probe names" in o for o in picker.options)
    picker.set_value(probe_type).run()
    at.text_input(key="new_limit").set_value("20")
    button(at, "Count items").click().run()
    assert any("would process 20 items" in i.value for i in at.info)
    button(at, "Create job").click().run()
    assert not at.exception
    [job] = runner.list_jobs(job_type=probe_type)
    assert (job.total_items, job.config) == (20, {"limit": 20})


def test_the_api_schema_creates_lists_and_processes_it(probe_type, engine):
    app = create_app(engine=engine, tokens={hash_token(TOKEN): ("ana", Role.OPERATOR)})
    with TestClient(app) as client:
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
        assert "CreateProbeNamesJob" in schemas
        assert schemas["CreateProbeNamesJob"]["properties"]["config"]["$ref"].endswith(
            "ProbeConfig")
        created = client.post("/api/admin/jobs", headers=AUTH,
                              json={"jobType": probe_type, "config": {"limit": 12}})
        assert created.status_code == 201, created.text
        job_id = created.json()["jobId"]
        refused = client.post("/api/admin/jobs", headers=AUTH,
                              json={"jobType": probe_type, "config": {"limit": 0}})
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "config.limit"
        listed = client.get("/api/admin/jobs", params={"jobType": probe_type}, headers=AUTH)
        assert [j["id"] for j in listed.json()["jobs"]] == [job_id]
        while not client.post(f"/api/admin/jobs/{job_id}/process", headers=AUTH).json()["done"]:
            pass
        record = client.get(f"/api/admin/jobs/{job_id}", headers=AUTH).json()
    assert (record["status"], record["successCount"], record["errorCount"]) == (
        "completed", 11, 1)


def test_the_command_line_lists_shows_and_processes_it(probe_type, capsys):
    created = runner.create_job(probe_type, {})
    assert main(["jobs", "list", "--type", probe_type]) == 0
    assert created.id in capsys.readouterr().out
    assert main(["jobs", "process", created.id, "--all"]) == 0
    assert main(["jobs", "show", created.id]) == 0
    shown = capsys.readouterr().out
    assert re.search(r"completed", shown) and "a bad name" in shown
    job = runner.get_job(created.id)
    assert (job.success_count, job.error_count) == (23, 2)


def test_the_job_detail_page_runs_it_and_shows_its_errors(probe_type, open_app, button):
    created = runner.create_job(probe_type, {})
    at = open_app("app_pages/job_detail.py", job=created.id)
    assert not at.exception
    assert at.title[0].value == f"Probe names · {created.id}"
    button(at, "Process next chunk").click().run()
    assert runner.get_job_summary(created.id).processed_items == 10
    button(at, "Run").click().run()
    for _ in range(10):  # a rerun of the live panel per slice, as the browser does
        if runner.get_job_summary(created.id).is_finished:
            break
        at.run()
    assert not at.exception
    assert runner.get_job_summary(created.id).status == "completed"
    at = open_app("app_pages/job_detail.py", job=created.id)
    assert any(h.value == "Errors (2)" for h in at.subheader)
    # no follow-ups declared: the finished job offers no Rollback, Retry or Undo
    assert not {"Retry errors", "Rollback", "Undo merge"} & {b.label for b in at.button}
