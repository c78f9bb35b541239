"""AppTest helpers for the pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def _app(page: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    if page is not None:
        at.switch_page(page)
    return at.run()


@pytest.fixture
def open_app(app_env):
    """Builder: run the app (optionally on one page, with query params) and return it."""
    return _app


@pytest.fixture
def open_demo_app(demo_engine):
    """Builder: as open_app, on a copy of the embedded demo catalogue (demo_engine's)."""
    return _app


@pytest.fixture
def button():
    """Finder: the button with this label; fails the test, naming the buttons shown, when
    absent.
    """

    def find(at: AppTest, label: str):
        labels = [b.label for b in at.button]
        assert label in labels, f"no {label!r} button; buttons: {labels}"
        return next(b for b in at.button if b.label == label)

    return find
