"""Roles on every action (jobcore's operations check them, whatever calls), and the audit
log: a row for each action with who, through what and the outcome; append-only (#30)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from jobcore import access, audit, bulk
from jobcore.access import ACTIONS, Actor, Role
from jobcore.activations import credentials
from jobcore.catalog import demo
from jobcore.catalog import review as topic_review
from jobcore.classify import exemplars
from jobcore.dedup import cluster_review
from jobcore.errors import Forbidden, JobcoreError
from jobcore.jobs import retention, runner, store, supervision
from jobcore.schema import audit_log
from jobcore.trees import browse


@pytest.fixture
def world(app_env, make_topic, make_org, engine):
    """A job, two topics and an organisation to act on (as the local admin)."""
    a, b = make_topic("Golf Fans"), make_topic("Golf Enthusiasts")
    job = runner.create_job("reclassify", {"mode": "local"}).id
    return {"job": job, "a": a, "b": b, "org": make_org("Acme"), "engine": engine}


@pytest.fixture
def credentials_key(monkeypatch):
    from cryptography.fernet import Fernet

    from jobcore.config import get_settings

    monkeypatch.setenv("CREDENTIALS_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _bulk(w):
    planned = bulk.plan(bulk.CANCEL, store.JobFilter(status="pending"))
    return bulk.apply(planned, by="x")


def _the_embed_command_check():
    with audit.action("embed"):  # as `python -m jobcore embed` wraps its work
        pass


def _encrypt(w):
    with w["engine"].begin() as conn:
        credentials.encrypt_all(conn)


def _credentials(w):
    with w["engine"].begin() as conn:
        credentials.save(conn, w["org"], "liveramp", credentials.PlatformCredentials(
            account_id="acct", secret="s3cret"))


# every action of jobcore.access.ACTIONS, taken the way the screens, API and CLI take it
OPERATIONS: dict[str, Callable[[dict], object]] = {
    "create": lambda w: runner.create_job("reclassify", {"mode": "local", "force": True}),
    "process": lambda w: runner.process_chunk(w["job"]),
    "cancel": lambda w: runner.cancel_job(w["job"]),
    "resume": lambda w: runner.resume_job(w["job"]),
    "background": lambda w: runner.run_in_background(w["job"]),
    "take_over": lambda w: runner.take_over(w["job"]),
    "stop_stuck": lambda w: supervision.stop_stuck_chunk(w["job"], created_by="x"),
    "review_edit": lambda w: topic_review.edit(w["a"], {"parent_category": "Sports"}, user="x"),
    "review_resolve": lambda w: topic_review.resolve([w["a"]], user="x"),
    "exemplar_remove": lambda w: exemplars.remove([12345], user="x"),
    "mark_not_duplicates": lambda w: cluster_review.mark_not_duplicates(
        w["a"], w["b"], created_by="x", sweep_id=None),
    "unmark_not_duplicates": lambda w: cluster_review.unmark_not_duplicates(w["a"], w["b"]),
    # the catalogue is not empty: refused by its state, once past the role
    "seed_demo": lambda w: demo.load_demo(topics_count=5),
    "credentials": _credentials,
    "prune": lambda w: retention.prune(),
    "bulk": _bulk,
    "audit_read": lambda w: audit.entries(),
    "token_use": lambda w: None,  # every role may use its token (tests/test_api_roles.py)
    "seed_trees": lambda w: browse.load_trees(),
    "embed": lambda w: _the_embed_command_check(),
    "encrypt_credentials": lambda w: _encrypt(w),
}


def test_every_action_is_covered():
    assert set(OPERATIONS) == set(ACTIONS)


def _rows(engine, action: str) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.execute(sa.select(audit_log).where(audit_log.c.action == action)
                            .order_by(audit_log.c.id)).all()


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("action", list(OPERATIONS))
def test_each_action_is_allowed_for_its_role_and_refused_below(world, action, role,
                                                              credentials_key):
    actor = Actor("ana@example.com", role, "page")
    with access.acting_as(actor):
        if role >= ACTIONS[action][0]:
            try:
                OPERATIONS[action](world)
            except Forbidden:
                pytest.fail(f"{role} was refused {action}")
            except JobcoreError:
                pass  # allowed, refused by the job's state (a pending job cannot resume...)
        else:
            wanted = re.escape(f"may {ACTIONS[action][1]}; ana@example.com is ")
            with pytest.raises(Forbidden, match=f"{wanted}an? {role}"):
                OPERATIONS[action](world)
            needed = str(ACTIONS[action][0])
            assert needed in access.refusal(action, actor)
            if action != "token_use":  # refusals are logged, chunks and reads included
                last = _rows(world["engine"], action)[-1]
                assert (last.actor, last.role, last.via, last.outcome) == (
                    "ana@example.com", str(role), "page", "refused")


def test_actions_are_logged_with_who_what_through_what_and_outcome(world):
    engine = world["engine"]
    with access.acting_as(Actor("bo@example.com", Role.OPERATOR, "api")):
        runner.cancel_job(world["job"])
        with pytest.raises(JobcoreError):
            runner.cancel_job(world["job"])  # a second cancel fails, and says so
        cluster_review.mark_not_duplicates(world["a"], world["b"], created_by="bo",
                                           sweep_id=None)
    cancels = _rows(engine, "cancel")
    assert [(r.actor, r.via, r.target, r.outcome) for r in cancels] == [
        ("bo@example.com", "api", world["job"], "done"),
        ("bo@example.com", "api", world["job"], "failed")]
    assert cancels[1].message
    mark = _rows(engine, "mark_not_duplicates")[-1]
    assert mark.target == f"#{world['a']}, #{world['b']}" and mark.outcome == "done"
    create = _rows(engine, "create")[-1]  # the fixture's job, by the local admin
    assert create.target == world["job"] and create.details["jobType"] == "reclassify"
    assert (create.role, create.via) == ("admin", "library")


def test_a_bulk_action_records_its_filter(world):
    _bulk(world)
    row = _rows(world["engine"], "bulk")[-1]
    assert row.details["filters"] == "with status pending" or "pending" in row.details["filters"]
    assert row.details["succeeded"] == 1


def test_credentials_are_logged_without_the_secret(world, credentials_key):
    _credentials(world)
    row = _rows(world["engine"], "credentials")[-1]
    assert (row.target, row.details, row.outcome) == (
        f"org {world['org']}", {"platform": "liveramp"}, "done")
    assert "s3cret" not in str(row._mapping)


def test_the_audit_log_is_append_only(world):
    engine = world["engine"]
    runner.cancel_job(world["job"])
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert _rows(engine, "cancel")


def test_retention_prunes_old_audit_rows_by_its_own_setting(world):
    engine = world["engine"]
    runner.cancel_job(world["job"])
    with engine.begin() as conn:  # an old row, as a year-old log would hold
        conn.execute(sa.insert(audit_log).values(
            at=sa.func.now() - sa.text("interval '400 days'"), actor="old", role="admin",
            via="cli", action="cancel", outcome="done"))
    report = retention.prune(policy=retention.Policy(None, None, 365))
    assert report.audit_rows == 1
    assert [r.actor for r in _rows(engine, "cancel")] == [access.local_admin().name]
    assert _rows(engine, "prune")[-1].details["auditRows"] == 1


def test_the_audit_log_reads_filtered_newest_first(world):
    runner.cancel_job(world["job"])
    with access.acting_as(Actor("v@example.com", Role.VIEWER, "page")), \
            pytest.raises(Forbidden):
        runner.resume_job(world["job"])
    refused = audit.entries(audit.AuditFilter(outcome="refused"))
    assert [(e.actor, e.action) for e in refused] == [("v@example.com", "resume")]
    newest = audit.entries(limit=2)
    assert newest[0].id > newest[1].id


def test_the_command_line_acts_as_the_local_admin_and_reads_the_log(world, capsys):
    from jobcore.cli.main import main

    assert main(["jobs", "cancel", world["job"]]) == 0
    assert main(["audit", "--action", "cancel"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert f"(admin, cli) cancel {world['job']}: done" in line


def test_an_audit_row_that_cannot_be_written_does_not_undo_a_committed_action(
        world, monkeypatch, caplog):
    def database_gone(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(audit, "record", database_gone)
    job = runner.cancel_job(world["job"])  # committed: no error reaches the caller
    assert job.status == "cancelled"
    assert "audit row not written: cancel done" in caplog.text
    with pytest.raises(JobcoreError):  # the real error, not the audit write's
        runner.cancel_job(world["job"])
