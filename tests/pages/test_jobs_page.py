"""The Jobs page in AppTest: catalogue, demo data, job list, new-job form."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jobcore.db import get_engine
from jobcore.jobs import drive, runner
from jobcore.schema import admin_jobs
from tests.conftest import rules_changed_since


def test_empty_catalogue_offers_demo_data_and_loads_it(open_app, button):
    at = open_app()
    assert not at.exception
    assert "catalogue is empty" in at.info[0].value
    at.select_slider[0].set_value(500)
    button(at, "Load demo data").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Live topics"] == "500"
    assert not [i for i in at.info if "catalogue is empty" in i.value]


def test_sidebar_shows_database_and_user(open_app):
    at = open_app()
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "External" in sidebar and "(DATABASE_URL)" in sidebar
    assert "test-analyst" in sidebar
    assert any("Local single-user mode" in c.value for c in at.sidebar.caption)


def test_job_list_shows_jobs_newest_first_and_filters_by_status(open_app, many_topics):
    many_topics(60)
    first = runner.create_job("reclassify", {})
    drive.run_to_completion(first.id)
    second = runner.create_job("reclassify", {"force": True, "limit": 5})
    at = open_app()
    frame = at.dataframe[0].value
    assert list(frame["id"]) == [second.id, first.id]
    assert list(frame["status"]) == ["pending", "completed"]
    assert frame.loc[frame["id"] == first.id, "processed"].item() == 60
    status = next(s for s in at.selectbox if s.label == "Status")
    status.set_value("completed").run()
    assert list(at.dataframe[0].value["id"]) == [first.id]


def test_a_job_nobody_drives_is_listed_as_paused(open_app, many_topics, engine):
    many_topics(60)
    created = runner.create_job("reclassify", {})
    runner.process_chunk(created.id)
    with engine.begin() as conn:
        conn.execute(sa.update(admin_jobs).where(admin_jobs.c.id == created.id)
                     .values(last_progress_at=sa.func.now() - sa.text("interval '20 minutes'")))
    at = open_app()
    assert at.dataframe[0].value["status"].tolist() == ["paused"]
    assert any("1 paused" in c.value and "press Run" in c.value for c in at.caption)


def test_create_job_from_the_form_shows_the_count_then_creates(open_app, many_topics, engine,
                                                              button):
    many_topics(30)
    at = open_app()
    assert [s.label for s in at.selectbox][:1] == ["Job type"]
    at.text_input(key="new_limit").set_value("12")
    button(at, "Count items").click().run()
    assert any("would process 12 items" in i.value for i in at.info)
    button(at, "Create job").click().run()
    assert not at.exception
    assert any("12 items to process" in s.value for s in at.success)
    with engine.connect() as conn:
        job = conn.execute(sa.select(admin_jobs)).one()
    assert (job.status, job.total_items, job.created_by, job.config["limit"]) == (
        "pending", 12, "test-analyst", 12)


def test_form_shows_validation_messages_beside_the_field_while_they_hold(
        open_app, many_topics, engine, button, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    many_topics(3)
    at = open_app()
    at.selectbox(key="new_mode").set_value("llm").run()
    assert any("mode" in e.value and "ANTHROPIC_API_KEY" in e.value for e in at.error)
    assert button(at, "Create job").disabled and button(at, "Count items").disabled
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(admin_jobs)).scalar() == 0
    at.selectbox(key="new_mode").set_value("local").run()  # the message goes with its cause
    assert not at.error
    assert not button(at, "Create job").disabled


def test_the_form_shows_only_the_fields_of_the_chosen_mode(open_app, many_topics,
                                                          fake_anthropic):
    many_topics(3)
    at = open_app()
    llm_fields = {"new_model", "new_concurrency", "new_enableWebSearch", "new_fallbackLocal"}
    shown = {w.key for w in (*at.text_input, *at.number_input, *at.checkbox, *at.selectbox)}
    assert not llm_fields & shown and "new_targetColumn" not in shown
    at.selectbox(key="new_mode").set_value("llm").run()
    shown = {w.key for w in (*at.text_input, *at.number_input, *at.checkbox, *at.selectbox)}
    assert llm_fields <= shown and "new_targetColumn" not in shown
    at.selectbox(key="new_mode").set_value("column").run()
    shown = {w.key for w in (*at.text_input, *at.number_input, *at.checkbox, *at.selectbox)}
    assert llm_fields | {"new_targetColumn"} <= shown


def test_a_count_error_goes_when_its_field_is_emptied(open_app, many_topics, button):
    many_topics(3)
    at = open_app()
    at.selectbox(key="new_job_type").set_value("dedup_sweep").run()
    at.text_input(key="new_sourceBatchId").set_value("job_1_nosuchjob")
    button(at, "Count items").click().run()
    assert any("job_1_nosuchjob" in e.value for e in at.error)
    at.text_input(key="new_sourceBatchId").set_value("").run()
    assert not at.error


def test_creating_a_job_with_no_items_asks_first(open_app, many_topics, engine, button):
    many_topics(1)
    at = open_app()
    at.text_input(key="new_limit").set_value("1")
    button(at, "Count items").click().run()
    assert any("would process 1 item." in i.value for i in at.info)  # not "1 items"
    at.checkbox(key="new_force").uncheck()
    at.selectbox(key="new_parentCategoryFilter").set_value(
        at.selectbox(key="new_parentCategoryFilter").options[-1]).run()
    button(at, "Create job").click().run()
    assert any("would process no items" in w.value for w in at.warning)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(admin_jobs)).scalar() == 0
    button(at, "Create the empty job").click().run()
    assert any("0 items to process" in s.value for s in at.success)
    with engine.connect() as conn:
        assert conn.execute(sa.select(admin_jobs.c.total_items)).scalar_one() == 0


def test_count_items_shows_the_estimated_cost_of_an_llm_job(open_app, many_topics, button,
                                                            fake_anthropic):
    many_topics(12)
    at = open_app()
    at.selectbox(key="new_mode").set_value("llm")
    button(at, "Count items").click().run()
    assert not at.exception
    assert any("would process 12 items" in i.value and "Estimated cost" in i.value
               for i in at.info)


def test_a_nul_character_typed_into_the_form_is_named_beside_its_field(
        open_app, many_topics, engine, button, fake_anthropic):
    many_topics(3)
    at = open_app()
    at.selectbox(key="new_mode").set_value("llm").run()
    at.text_input(key="new_model").set_value("claude\x00sonnet").run()
    assert not at.exception
    assert any("NUL character" in e.value for e in at.error)  # beside the Model field
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(admin_jobs)).scalar() == 0


@pytest.mark.parametrize(("job_type", "field", "bad"), [
    ("reclassify", "limit", -5), ("reclassify", "limit", 99_999_999),
    ("dedup_sweep", "threshold", 0.2), ("dedup_sweep", "threshold", 1.5)])
def test_an_out_of_range_number_blocks_count_and_create_with_the_message_beside_it(
        open_app, many_topics, engine, button, job_type, field, bad):
    many_topics(5)
    at = open_app()
    at.selectbox(key="new_job_type").set_value(job_type).run()
    if isinstance(bad, int):  # a whole-number field is typed as text
        at.text_input(key=f"new_{field}").set_value(str(bad)).run()
    else:
        at.number_input(key=f"new_{field}").set_value(bad).run()
    assert button(at, "Count items").disabled and button(at, "Create job").disabled
    assert not at.exception
    # beside the field, which names it: the message says what is wrong with the value
    [message] = [e.value for e in at.error]
    assert message.startswith("Input should be ") and message.endswith(f"(got {bad})")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(admin_jobs)).scalar() == 0


def test_a_verifying_sweep_shows_its_fields_and_the_band_estimate(open_app, many_topics,
                                                                  button, fake_anthropic):
    many_topics(12)
    at = open_app()
    at.selectbox(key="new_job_type").set_value("dedup_sweep").run()
    verify_fields = {"new_verifyFrom", "new_maxPairs", "new_model", "new_concurrency"}
    shown = {w.key for w in (*at.text_input, *at.number_input, *at.selectbox)}
    assert not verify_fields & shown
    at.selectbox(key="new_verify").set_value("claude").run()
    shown = {w.key for w in (*at.text_input, *at.number_input, *at.selectbox)}
    assert verify_fields <= shown
    at.number_input(key="new_verifyFrom").set_value(0.7).run()  # above the threshold 0.60
    assert any("must be below the threshold" in e.value for e in at.error)
    assert button(at, "Count items").disabled
    at.number_input(key="new_verifyFrom").set_value(0.55).run()
    button(at, "Count items").click().run()
    assert not at.exception
    # not embedded yet: the estimate says so rather than promising nothing to send
    assert any("would process 12 items" in i.value and "No pair scores 0.55–0.60" in i.value
               and "12 topics have no current embedding yet" in i.value for i in at.info)


def _reclassify(make_topic, by: str, *, errors: bool, finish: bool = True) -> str:
    topic = make_topic("Qqqz Wxyv" if errors else "Yoga Fans")
    created = runner.create_job("reclassify", {"force": True, "topicIds": [topic]},
                                created_by=by)
    if finish:
        drive.run_to_completion(created.id)
        rules_changed_since(get_engine(), created.id)  # its rule miss is worth a retry
    return created.id


def test_bulk_retry_over_the_filters_counts_confirms_and_says_what_it_did(
        open_app, make_topic, button, engine):
    failed = [_reclassify(make_topic, "ana", errors=True) for _ in range(2)]
    clean = _reclassify(make_topic, "ana", errors=False)
    others = _reclassify(make_topic, "bo", errors=True)
    at = open_app()
    next(t for t in at.text_input if t.label == "Created by").set_value("ana").run()
    assert set(at.dataframe[0].value["id"]) == {*failed, clean}
    button(at, "Retry errors of all matching...").click().run()
    assert any("Retry the errors of 2 jobs matching created by ana?" in m.value
               and "1 is left out: no errors to retry" in m.value for m in at.markdown)
    assert not runner.list_jobs(status="pending")  # nothing before the confirmation
    button(at, "Retry the errors of 2 jobs").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Created retry jobs for 2 jobs matching created "
                                             "by ana."]
    retries = runner.list_jobs(status="pending")
    assert sorted(j.config["retryOf"] for j in retries) == sorted(failed)
    assert all(j.created_by == "test-analyst" for j in retries)
    assert others not in {j.config["retryOf"] for j in retries}

    # the same filters again: the pending retries are cancelled, the finished refused
    next(t for t in at.text_input if t.label == "Created by").set_value("test-analyst").run()
    button(at, "Cancel all matching...").click().run()
    assert any("Cancel 2 jobs matching created by test-analyst?" in m.value
               for m in at.markdown)
    drive.run_to_completion(retries[0].id)  # finishes before the click
    button(at, "Cancel 2 jobs").click().run()
    assert [w.value for w in at.warning] == ["Cancelled 1 job matching created by "
                                             "test-analyst; refused 1 (reasons below)."]
    refused = at.dataframe[0].value
    assert refused["job"].tolist() == [retries[0].id]
    assert "already completed" in refused["refused because"].item()
    assert runner.get_job_summary(retries[1].id).status == "cancelled"


def test_a_bulk_action_with_nothing_to_take_says_why(open_app, make_topic, button):
    _reclassify(make_topic, "ana", errors=False)
    at = open_app()
    next(s for s in at.selectbox if s.label == "Status").set_value("completed").run()
    button(at, "Cancel all matching...").click().run()
    assert any("1 job matches status completed. None of them can be taken" in i.value
               and "already completed" in i.value for i in at.info)
    assert any("finished jobs themselves are kept" in c.value for c in at.caption)


def test_filters_and_the_search_live_in_the_url(open_app, make_topic):
    """A link with filters opens the list filtered (the widgets showing them); changing a
    filter or searching writes the URL, so a reload keeps the list as it was.
    """
    sports = runner.create_job("reclassify", {"parentCategoryFilter": "Sports"},
                               created_by="ana").id
    runner.create_job("reclassify", {"parentCategoryFilter": "Travel"}, created_by="ana")
    at = open_app(None, q="sports", by="ana", status="pending", limit="5")
    assert not at.exception
    assert at.dataframe[0].value["id"].tolist() == [sports]
    assert next(t for t in at.text_input if t.label == "Search what jobs were given"
                ).value == "sports"
    assert next(s for s in at.selectbox if s.label == "Status").value == "pending"
    assert at.number_input(key="filter_limit").value == 5
    next(t for t in at.text_input if t.label == "Search what jobs were given"
         ).set_value("travel").run()
    assert at.query_params["q"] in ("travel", ["travel"])
    assert len(at.dataframe[0].value) == 1 and at.dataframe[0].value["id"].item() != sports
    bad = open_app(None, status="nonsense", limit="1000")  # a bad link falls back, whole
    assert not bad.exception
    assert next(s for s in bad.selectbox if s.label == "Status").value == "all"
    assert bad.number_input(key="filter_limit").value == 20



@pytest.mark.parametrize(("typed", "said"), [
    ("2.5", "(got '2.5')"), ("1e10", "(got '1e10')"),
    ("9223372036854775808", "(got 9223372036854775808)")])
def test_a_whole_number_field_never_counts_with_a_number_it_was_not(open_app, many_topics,
                                                                    button, typed, said):
    """'2.5' was counted as 2, '1e10' as 1, and an overflow with the previous value: each is
    now refused beside the field, naming what was typed, and nothing is counted.
    """
    many_topics(5)
    at = open_app()
    at.text_input(key="new_limit").set_value("3").run()
    button(at, "Count items").click().run()
    assert any("would process 3 items" in i.value for i in at.info)
    at.text_input(key="new_limit").set_value(typed).run()
    assert button(at, "Count items").disabled and button(at, "Create job").disabled
    assert any(e.value.endswith(said) for e in at.error), [e.value for e in at.error]
    assert not any("would process" in i.value for i in at.info)
    at.text_input(key="new_limit").set_value("1,000").run()  # separators are fine
    assert not at.error and not button(at, "Count items").disabled
