"""sync_trade_desk against the loopback fake: create missing, update changed, report orphans."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jobcore.activations import credentials
from jobcore.activations.credentials import PlatformCredentials
from jobcore.errors import Conflict, JobNotRunnable
from jobcore.jobs import drive, runner
from jobcore.schema import activations, org_topics, sync_credentials


@pytest.fixture
def org(engine, make_org, make_topic, fake_platforms):
    """An org linked to 60 topics; on the platform: 2 current, 1 outdated, 1 orphan."""
    org_id = make_org("Acme")
    topic_ids = [make_topic(f"Yoga Fans {i}", f"desc {i}") for i in range(60)]
    with engine.begin() as conn:
        credentials.save(conn, org_id, "the_trade_desk", PlatformCredentials(
            account_id="acct-1", secret="fake-secret-123"))
        conn.execute(sa.insert(org_topics), [{"org_id": org_id, "topic_id": t}
                                             for t in topic_ids])
    for i, topic_id in enumerate(topic_ids[:3]):
        fake_platforms.state.elements[f"topic-{topic_id}"] = {
            "ProviderId": "acct-1", "ProviderElementId": f"topic-{topic_id}",
            "ParentElementId": "audiencegpt", "DisplayName": f"Yoga Fans {i}",
            "Description": "stale" if i == 2 else f"desc {i}"}
    fake_platforms.state.elements["topic-999999"] = {
        "ProviderElementId": "topic-999999", "DisplayName": "Gone", "Description": ""}
    return org_id, topic_ids


def test_sync_creates_updates_and_reports_orphans(engine, fake_platforms, org):
    org_id, topic_ids = org
    created = runner.create_job("sync_trade_desk", {}, org_id=org_id, engine=engine)
    assert created.total_items == 60
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.status, report.success_count, report.skip_count) == ("completed", 58, 2)
    result = runner.get_job(created.id, engine=engine).result
    assert (result["createdCount"], result["updatedCount"]) == (57, 1)
    assert result["updated"] == [f"topic-{topic_ids[2]}"]
    assert result["orphaned"] == ["topic-999999"] and result["orphanedCount"] == 1
    assert fake_platforms.state.elements[f"topic-{topic_ids[2]}"]["Description"] == "desc 2"
    assert len(fake_platforms.state.elements) == 61
    with engine.connect() as conn:
        rows = conn.execute(sa.select(activations).where(activations.c.org_id == org_id)).all()
    assert len(rows) == 58 and {r.status for r in rows} == {"active"}
    again = runner.create_job("sync_trade_desk", {}, org_id=org_id, engine=engine)
    assert drive.run_to_completion(again.id, engine=engine).skip_count == 60


def test_dry_run_reads_but_changes_nothing(engine, fake_platforms, org):
    org_id, _ = org
    created = runner.create_job("sync_trade_desk", {"dryRun": True}, org_id=org_id,
                                engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.success_count, report.skip_count) == (0, 60)
    assert fake_platforms.state.requests and all(
        (method, path) == ("POST", "/v3/thirdpartydata/query")
        for method, path in fake_platforms.state.requests)
    assert runner.get_job(created.id, engine=engine).result["createdCount"] == 57
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(activations)).scalar() == 0


def test_refused_without_trade_desk_credentials(engine, make_org):
    org_id = make_org("No creds")
    with pytest.raises(Conflict, match="no Trade Desk credentials"):
        runner.create_job("sync_trade_desk", {}, org_id=org_id, engine=engine)


def test_credentials_gone_after_the_start_fail_the_job_with_the_reason(
        engine, fake_platforms, org):
    org_id, _ = org
    created = runner.create_job("sync_trade_desk", {}, org_id=org_id, engine=engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(sync_credentials).where(sync_credentials.c.org_id == org_id))
    report = runner.process_chunk(created.id, engine=engine)
    assert (report.status, report.done, report.processed_items) == ("failed", True, 0)
    with engine.connect() as conn:
        name = conn.execute(sa.text("SELECT name FROM organizations WHERE id = :id"),
                            {"id": org_id}).scalar_one()
    assert report.failure_message == (f"{name} (organisation {org_id}) has no Trade Desk "
                                      "credentials.")
    with pytest.raises(JobNotRunnable, match="no Trade Desk credentials"):
        runner.process_chunk(created.id, engine=engine)


def test_cli_sync_trade_desk(app_env, engine, fake_platforms, org, capsys):
    from jobcore.cli.main import main

    org_id, _ = org
    assert main(["sync-trade-desk", "--org", str(org_id), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would be created: 57" in out and "orphaned: 1 (topic-999999)" in out
    assert main(["sync-trade-desk", "--org", str(org_id)]) == 0
    assert "58 created or updated" in capsys.readouterr().out
