"""Sign-in: with [auth] configured only listed admins get in, and jobs carry their e-mail."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from jobcore.config import get_settings
from jobcore.jobs import runner

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s3cret",
        "client_id": "id", "client_secret": "x",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


@pytest.fixture
def admins(monkeypatch):
    monkeypatch.setenv("ADMIN_EMAILS", "lead@example.com, Analyst@Example.com")
    get_settings.cache_clear()


def _app(user: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = user
    return at.run()


def test_signed_out_visitor_is_asked_to_sign_in(app_env, admins):
    at = _app({"is_logged_in": False})
    assert not at.exception
    assert any("Sign in" in w.value for w in at.warning)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.dataframe and not at.metric


def test_signed_in_stranger_is_refused(app_env, admins):
    at = _app({"is_logged_in": True, "email": "someone@else.com"})
    assert any("not on the admin, operator or viewer lists" in w.value for w in at.warning)
    assert [b.label for b in at.button] == ["Sign out"]


def test_listed_admin_gets_in_and_is_the_creator(app_env, admins, many_topics):
    many_topics(5)
    at = _app({"is_logged_in": True, "email": "analyst@example.com"})
    assert not at.exception
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "analyst@example.com" in sidebar
    next(b for b in at.button if b.label == "Create job").click().run()
    assert runner.list_jobs()[0].created_by == "analyst@example.com"


@pytest.fixture
def roles(monkeypatch):
    monkeypatch.setenv("ADMIN_EMAILS", "lead@example.com")
    monkeypatch.setenv("OPERATOR_EMAILS", "op@example.com")
    monkeypatch.setenv("VIEWER_GROUPS", "audience-readers")
    get_settings.cache_clear()


def test_a_viewer_reads_but_any_action_is_refused_naming_the_role(app_env, roles, many_topics):
    many_topics(5)
    job = runner.create_job("reclassify", {"mode": "local"}).id
    viewer = {"is_logged_in": True, "email": "reader@example.com",
              "groups": ["audience-readers"]}
    at = _app(viewer)
    assert not at.exception
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "reader@example.com" in sidebar and "viewer" in sidebar
    assert job in set(at.dataframe[0].value["id"])  # reads the list
    labels = [b.label for b in at.button]
    assert "Cancel all matching..." not in labels  # bulk actions are an admin's
    create = next(b for b in at.button if b.label == "Create job")
    assert create.disabled and "needs the operator role" in create.help
    assert [j.id for j in runner.list_jobs()] == [job]  # nothing created
    at.query_params["job"] = job
    at.switch_page("app_pages/job_detail.py").run()
    assert not at.exception
    assert any("Read-only" in c.value for c in at.caption)
    assert not {"Run", "Cancel", "Process next chunk"} & {b.label for b in at.button}


def test_an_operator_acts_but_bulk_actions_and_the_audit_log_are_an_admins(
        app_env, roles, many_topics):
    many_topics(5)
    at = _app({"is_logged_in": True, "email": "op@example.com"})
    assert not at.exception
    assert "Cancel all matching..." not in [b.label for b in at.button]
    next(b for b in at.button if b.label == "Create job").click().run()
    assert runner.list_jobs()[0].created_by == "op@example.com"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/audit.py")  # not a page of an operator's app
    lead = _app({"is_logged_in": True, "email": "lead@example.com"})
    lead.switch_page("app_pages/audit.py").run()
    assert not lead.exception
    assert "op@example.com" in set(lead.dataframe[0].value["actor"])


def test_a_viewers_callback_acts_as_the_viewer_not_as_the_local_admin(
        app_env, roles, many_topics):
    """A callback (or a fragment rerun) may run on a thread of its own: it still acts as
    the signed-in visitor, read from the session, and is refused with the role named.
    """
    many_topics(5)
    job = runner.create_job("reclassify", {"mode": "local"}).id
    at = _app({"is_logged_in": True, "email": "reader@example.com",
               "groups": ["audience-readers"]})
    from jobcore import access
    from jobcore.ui.access import ACTOR_KEY

    actor = at.session_state[ACTOR_KEY]
    assert (actor.name, str(actor.role), actor.via) == ("reader@example.com", "viewer", "page")
    # what the page's on_click callbacks call, run in a script context of that session
    at2 = AppTest.from_string(CALLBACK_PAGE, default_timeout=60)
    at2.session_state[ACTOR_KEY] = actor
    at2.session_state["probe_job"] = job
    at2.run()
    assert not at2.exception
    at2.button[0].click().run()
    assert any("Only an operator or an admin may cancel a job; reader@example.com is a "
               "viewer." in e.value for e in at2.error)
    assert runner.get_job_summary(job).status == "pending"
    assert access.current_actor().via != "page"  # outside a script run: not the visitor


CALLBACK_PAGE = """
import streamlit as st
from jobcore import access
from jobcore.errors import Forbidden
from jobcore.jobs import runner
from jobcore.ui.access import page_actor

access.use_page_actor(page_actor)


def cancel():
    try:
        runner.cancel_job(st.session_state["probe_job"])
    except Forbidden as refused:
        st.session_state["refused"] = str(refused)


st.button("Cancel", on_click=cancel)
if "refused" in st.session_state:
    st.error(st.session_state["refused"])
"""
