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
    assert any("not on the admin list" in w.value for w in at.warning)
    assert [b.label for b in at.button] == ["Sign out"]


def test_listed_admin_gets_in_and_is_the_creator(app_env, admins, many_topics):
    many_topics(5)
    at = _app({"is_logged_in": True, "email": "analyst@example.com"})
    assert not at.exception
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "analyst@example.com" in sidebar
    next(b for b in at.button if b.label == "Create job").click().run()
    assert runner.list_jobs()[0].created_by == "analyst@example.com"
