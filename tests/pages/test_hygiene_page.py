"""The hygiene screen in AppTest: stale segments side by side, credentials, Refresh All."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jobcore.activations import credentials
from jobcore.activations.credentials import PlatformCredentials
from jobcore.jobs import runner
from jobcore.schema import activations

PAGE = "app_pages/hygiene.py"




@pytest.fixture
def stale_org(engine, make_org, make_topic):
    org = make_org("Acme")
    with engine.begin() as conn:
        credentials.save(conn, org, "liveramp", PlatformCredentials(
            account_id="acct-1", secret="fake-secret-123"))
        for i in range(3):
            topic = make_topic(f"Yoga Fans {i}", "People who love yoga")
            conn.execute(sa.insert(activations).values(
                org_id=org, topic_id=topic, platform="liveramp", pushed_name=f"Old {i}",
                pushed_description="People who love yoga", pushed_topic_version=1,
                status="active"))
    return org


def test_empty_database_renders(open_app):
    at = open_app(PAGE)
    assert not at.exception
    assert any("No organisations yet" in i.value for i in at.info)


def test_stale_segments_side_by_side_and_credentials_presence_only(open_app, fake_platforms,
                                                                  stale_org):
    at = open_app(PAGE)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Stale on LiveRamp"] == "3" and metrics["Stale on The Trade Desk"] == "0"
    assert metrics["LiveRamp credentials"] == "present"
    assert metrics["The Trade Desk credentials"] == "absent"
    frame = at.dataframe[0].value
    assert set(frame["changed"]) == {"name"} and set(frame["platform"]) == {"LiveRamp"}
    assert list(frame["pushed name"]) == ["Old 0", "Old 1", "Old 2"]
    assert list(frame["current name"]) == ["Yoga Fans 0", "Yoga Fans 1", "Yoga Fans 2"]
    page_text = " ".join(str(e.value) for e in at.markdown) + frame.to_string()
    assert "fake-secret-123" not in page_text


def test_refresh_all_stale_runs_the_job_and_shows_its_progress(open_app, fake_platforms, stale_org,
                                                              button):
    at = open_app(PAGE)
    button(at, "Refresh All Stale").click().run()
    assert not at.exception
    assert any("3 refreshed, 0 errors" in s.value for s in at.success)
    job = runner.list_jobs(job_type="refresh_activations")[0]
    assert (job.status, job.org_id, job.success_count) == ("completed", stale_org, 3)
    assert len(fake_platforms.state.segments) == 3
    at = open_app(PAGE)
    assert any("matches its topic" in s.value for s in at.success)


def test_refresh_is_refused_before_the_click_when_no_platform_can_take_the_segments(
        open_app, fake_platforms, stale_org, engine, button):
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM sync_credentials"))
    at = open_app(PAGE)
    assert button(at, "Refresh All Stale").disabled
    assert any("Acme has no LiveRamp credentials" in w.value and "set-credentials" in w.value
               for w in at.warning)


def test_a_platform_without_credentials_is_named_and_its_failures_explained_here(
        open_app, fake_platforms, stale_org, engine, make_topic, button):
    with engine.begin() as conn:
        topic = make_topic("Golf Fans", "People who love golf")
        conn.execute(sa.insert(activations).values(
            org_id=stale_org, topic_id=topic, platform="the_trade_desk", pushed_name="Golf",
            pushed_description="People who love golf", pushed_topic_version=1,
            status="active"))
    at = open_app(PAGE)
    assert not button(at, "Refresh All Stale").disabled
    assert any("no The Trade Desk credentials: 1 of its stale segments would be errors"
               in w.value for w in at.warning)
    button(at, "Refresh All Stale").click().run()
    assert any("3 refreshed, 1 error." in w.value for w in at.warning)
    reasons = at.dataframe[-1].value
    assert reasons["pattern"].tolist() == [
        "Acme (organisation N) has no The Trade Desk credentials"]
    assert reasons["errors"].tolist() == [1]


def test_a_refresh_that_fails_says_why_instead_of_a_green_zero(open_app, fake_platforms,
                                                               stale_org, monkeypatch, button):
    """Credentials another key encrypted: the job fails, and the screen says so with the
    reason (it showed a green 'failed: 0 refreshed, 0 errors.').
    """
    from cryptography.fernet import Fernet

    from jobcore.config import get_settings

    monkeypatch.setenv("CREDENTIALS_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    at = open_app(PAGE)
    button(at, "Refresh All Stale").click().run()
    assert not at.exception
    assert not at.success
    [message] = [e.value for e in at.error]
    assert " failed: " in message and "CREDENTIALS_KEY" in message
