"""refresh_activations against the loopback fakes: stale selection, pushes, errors, dry run."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jobcore.activations import credentials
from jobcore.activations.credentials import PlatformCredentials
from jobcore.errors import Conflict, UsageError
from jobcore.jobs import drive, runner
from jobcore.schema import activations


@pytest.fixture
def org_with_activations(engine, make_org, make_topic):
    """An org with creds for both platforms and five activations: three stale, two current."""
    org = make_org("Acme")
    with engine.begin() as conn:
        for platform in ("liveramp", "the_trade_desk"):
            credentials.save(conn, org, platform, PlatformCredentials(
                account_id="acct-1", secret="fake-secret-123"))
    topics = {
        "renamed": make_topic("Yoga Fans", "People who love yoga", version=2),
        "redescribed": make_topic("Coffee Lovers", "New description"),
        "new_version": make_topic("Luxury SUV Intenders", "SUV shoppers", version=3),
        "current": make_topic("Books Fans", "Readers"),
    }
    rows = [
        (topics["renamed"], "liveramp", None, "Yoga Enthusiasts", "People who love yoga", 1),
        (topics["redescribed"], "the_trade_desk", None, "Coffee Lovers", "Old description", 1),
        (topics["new_version"], "liveramp", None, "Luxury SUV Intenders", "SUV shoppers", 2),
        (topics["current"], "liveramp", "lr-1", "Books Fans", "Readers", 1),
        (topics["current"], "the_trade_desk", "topic-x", "Books Fans", "Readers", 1),
    ]
    with engine.begin() as conn:
        for topic_id, platform, external, name, description, version in rows:
            conn.execute(sa.insert(activations).values(
                org_id=org, topic_id=topic_id, platform=platform, external_segment_id=external,
                pushed_name=name, pushed_description=description, pushed_topic_version=version,
                status="active"))
    return org, topics


def _activation(engine, topic_id, platform):
    with engine.connect() as conn:
        return conn.execute(sa.select(activations).where(
            activations.c.topic_id == topic_id, activations.c.platform == platform)).one()


def test_stale_selection_takes_name_description_and_version_changes(engine, fake_platforms,
                                                                    org_with_activations):
    org, _ = org_with_activations
    created = runner.create_job("refresh_activations", {}, org_id=org, engine=engine)
    assert created.total_items == 3
    with pytest.raises(UsageError, match="needs an organisation"):
        runner.create_job("refresh_activations", {}, engine=engine)


def test_refresh_pushes_and_records_the_new_values(engine, fake_platforms, org_with_activations):
    org, topics = org_with_activations
    created = runner.create_job("refresh_activations", {}, org_id=org, engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.status, report.success_count, report.error_count) == ("completed", 3, 0)
    renamed = _activation(engine, topics["renamed"], "liveramp")
    assert (renamed.pushed_name, renamed.pushed_topic_version, renamed.status) == (
        "Yoga Fans", 2, "active")
    assert renamed.external_segment_id.startswith("lr-") and renamed.last_pushed_at
    assert fake_platforms.state.segments[renamed.external_segment_id]["name"] == "Yoga Fans"
    element = fake_platforms.state.elements[f"topic-{topics['redescribed']}"]
    assert element["Description"] == "New description"
    assert fake_platforms.state.count("POST", "/oauth/token") == 1  # one token for the whole job
    assert runner.create_job("refresh_activations", {}, org_id=org,
                             engine=engine).total_items == 0


def test_a_refused_push_is_that_activations_error_and_the_job_goes_on(engine, fake_platforms,
                                                                     org_with_activations):
    org, topics = org_with_activations
    fake_platforms.state.fail("/v3/thirdpartydata", 400, body={"Message": "DisplayName too long"})
    created = runner.create_job("refresh_activations", {}, org_id=org, engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.status, report.success_count, report.error_count) == ("completed", 2, 1)
    error = runner.get_job(created.id, engine=engine).errors[0]
    assert "DisplayName too long" in error["message"] and error["name"] == "Coffee Lovers"
    failed = _activation(engine, topics["redescribed"], "the_trade_desk")
    assert failed.status == "failed" and "DisplayName too long" in failed.last_error
    assert failed.pushed_description == "Old description"  # still stale: retried next time


def test_bad_credentials_are_errors_and_no_secret_leaks(engine, fake_platforms,
                                                        org_with_activations):
    org, _ = org_with_activations
    fake_platforms.state.secret = "rotated-on-the-platform"
    created = runner.create_job("refresh_activations", {}, org_id=org, engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert report.error_count == 3
    job = runner.get_job(created.id, engine=engine)
    text = str(job.errors) + str(job.result)
    assert "rejected the organisation's credentials" in text or "401" in text
    assert "fake-secret-123" not in text and "rotated-on-the-platform" not in text


def test_dry_run_calls_nothing_and_writes_nothing(engine, fake_platforms, org_with_activations):
    org, topics = org_with_activations
    before = _activation(engine, topics["renamed"], "liveramp")
    created = runner.create_job("refresh_activations", {"dryRun": True}, org_id=org,
                                engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.skip_count, report.success_count) == (3, 0)
    assert fake_platforms.state.requests == []
    assert _activation(engine, topics["renamed"], "liveramp") == before
    listed = runner.get_job(created.id, engine=engine).result["wouldRefresh"]
    assert {"from": "Yoga Enthusiasts", "to": "Yoga Fans"}.items() <= listed[0].items()


def test_missing_credentials_are_each_activations_error(engine, fake_platforms, make_org,
                                                        make_topic):
    org = make_org("No Creds Inc")
    topic = make_topic("Yoga Fans")
    with engine.begin() as conn:
        conn.execute(sa.insert(activations).values(org_id=org, topic_id=topic,
                                                   platform="liveramp", pushed_name="Yoga"))
    # no platform with stale segments has credentials: refused before anything runs
    with pytest.raises(Conflict, match=r"No Creds Inc \(organisation \d+\) has no LiveRamp "
                                       r"credentials, so none of its 1 stale segments"):
        runner.create_job("refresh_activations", {}, org_id=org, engine=engine)
    assert runner.create_job("refresh_activations", {"dryRun": True}, org_id=org,
                             engine=engine).total_items == 1  # a dry run may list them
    golf = make_topic("Golf Fans")
    with engine.begin() as conn:  # The Trade Desk has credentials: the job may run
        credentials.save(conn, org, "the_trade_desk", PlatformCredentials(
            account_id="acct-1", secret="fake-secret-123"))
        conn.execute(sa.insert(activations).values(org_id=org, topic_id=golf,
                                                   platform="the_trade_desk", pushed_name="Golf"))
    created = runner.create_job("refresh_activations", {}, org_id=org, engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.error_count, report.success_count) == (1, 1)
    error = runner.get_job(created.id, engine=engine).errors[0]
    activation_id = _activation(engine, topic, "liveramp").id
    # the organisation by name; the activation, its topic and platform in the error
    assert error == {"id": activation_id, "name": "Yoga Fans", "topicId": topic,
                     "platform": "liveramp", "message": f"No Creds Inc (organisation {org}) "
                                                        "has no LiveRamp credentials"}


def test_cli_refreshes_every_org_with_stale_segments(app_env, engine, fake_platforms,
                                                     org_with_activations, capsys):
    from jobcore.cli.main import main

    org, _ = org_with_activations
    assert main(["refresh-activations", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would push liveramp activation" in out and "'Yoga Enthusiasts' -> 'Yoga Fans'" in out
    assert "3 listed, not pushed (dry run)" in out and fake_platforms.state.requests == []
    assert main(["refresh-activations", "--org", str(org)]) == 0
    assert "completed; processed 3 of 3: 3 refreshed" in capsys.readouterr().out
    assert main(["refresh-activations"]) == 0
    assert "no stale activations" in capsys.readouterr().out
    assert main(["refresh-activations", "--org", "999"]) == 2
    assert "No organisation with id 999" in capsys.readouterr().err
