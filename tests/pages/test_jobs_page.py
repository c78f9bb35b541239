"""The Jobs page in AppTest: database in use, job list, demo data on an empty catalogue."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from jobcore import runner

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def test_empty_catalogue_offers_demo_data_and_loads_it(app_env):
    at = _app()
    assert not at.exception
    assert "catalogue is empty" in at.info[0].value
    at.select_slider[0].set_value(500)
    load = next(b for b in at.button if b.label == "Load demo data")
    load.click().run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert labels["Live topics"] == "500"
    assert not at.info


def test_sidebar_shows_database_and_user(app_env):
    at = _app()
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "External" in sidebar and "(DATABASE_URL)" in sidebar
    assert "test-analyst" in sidebar
    assert "secret" not in sidebar


def test_job_list_shows_jobs_newest_first_and_filters_by_status(app_env, many_topics):
    many_topics(60)
    first = runner.create_job("reclassify", {})
    runner.run_to_completion(first.id)
    second = runner.create_job("reclassify", {"force": True, "limit": 5})
    at = _app()
    frame = at.dataframe[0].value
    assert list(frame["id"]) == [second.id, first.id]
    assert list(frame["status"]) == ["pending", "completed"]
    assert frame.loc[frame["id"] == first.id, "processed"].item() == 60
    status = next(s for s in at.selectbox if s.label == "Status")
    status.set_value("completed").run()
    assert list(at.dataframe[0].value["id"]) == [first.id]
