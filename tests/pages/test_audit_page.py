"""The Audit log screen: every action with who, through what and the outcome, filtered and
exported (admins; the local single user is one)."""

from __future__ import annotations

import pytest

from jobcore import access
from jobcore.access import Actor, Role
from jobcore.errors import Forbidden
from jobcore.jobs import runner
from jobcore.ui import pages


def test_the_audit_screen_lists_filters_and_exports_actions(open_app, make_topic):
    make_topic("Golf Fans")
    job = runner.create_job("reclassify", {"mode": "local"}).id
    runner.cancel_job(job)
    with access.acting_as(Actor("vi@example.com", Role.VIEWER, "api")), \
            pytest.raises(Forbidden):
        runner.resume_job(job)
    at = open_app(pages.AUDIT)
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame["action"]) == ["resume", "cancel", "create"]  # newest first
    assert list(frame["outcome"]) == ["refused", "done", "done"]
    assert frame["actor"].iloc[0] == "vi@example.com" and frame["via"].iloc[0] == "api"
    assert "Only an operator or an admin may resume a job" in frame["message"].iloc[0]
    next(s for s in at.selectbox if s.label == "Outcome").set_value("refused").run()
    assert list(at.dataframe[0].value["action"]) == ["resume"]
    assert at.get("download_button")


def test_the_sidebar_offers_the_audit_log_to_the_local_admin(open_app):
    at = open_app()
    assert not at.exception
    assert any("admin" in m.value for m in at.sidebar.markdown)
