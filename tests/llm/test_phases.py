"""reclassify in llm and column modes against the fake Message Batches API, driven by the
real anthropic SDK: phases, failures, no double submission, cancel, column mode.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from jobcore.errors import ConfigError
from jobcore.jobs import drive, runner
from jobcore.llm.client import LLMUnavailable
from jobcore.llm.progress import batch_progress
from jobcore.schema import batch_results_staging, topic_history
from tests.fakes.anthropic_batches import errored, succeeded

YOGA = {"segment_type": "b2c", "taxonomy_type": "Interest",
        "parent_category": "Hobbies & Interests", "subcategory": None,
        "audience_type": "interest"}


def _staged(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(
            batch_results_staging)).scalar_one()


def test_three_phases_over_several_calls(engine, make_topic, get_topic, fake_anthropic):
    ids = [make_topic(f"Yoga Enthusiasts {chr(65 + i)}") for i in range(130)]
    created = runner.create_job("reclassify", {"mode": "llm"}, engine=engine)
    assert created.total_items == 130
    first = runner.process_chunk(created.id, engine=engine)  # submit: 2 sub-batches
    assert (first.processed_items, first.done) == (0, False)
    assert fake_anthropic.state.count("POST", "/v1/messages/batches") == 2
    sent = next(b["_requests"][0] for b in fake_anthropic.state.batches.values()
                if len(b["_requests"]) == 100)
    assert sent["custom_id"] == str(ids[0])
    # the narrow question: the local classifier's candidates, and only their ids allowed
    offered = sent["params"]["output_config"]["format"]["schema"]["properties"]["node_id"]
    assert offered["enum"][0] == "iab_audience_1_1:408"  # Fitness and Exercise, its best
    assert all(f"{node_id}: " in sent["params"]["messages"][0]["content"]
               for node_id in offered["enum"])
    assert sent["params"]["tools"][0]["type"].startswith("web_search")
    second = runner.process_chunk(created.id, engine=engine)  # polled: still in progress
    assert (second.processed_items, second.done) == (0, False)
    third = runner.process_chunk(created.id, engine=engine)  # ended: staged, post-processed
    assert third.done and (third.processed_items, third.success_count) == (130, 130)
    job = runner.get_job(created.id, engine=engine)
    assert job.result["usage"]["inputTokens"] == 130 * 1200
    assert job.result["phase"] == "done"
    assert [(b["status"], b["requests"], b["staged"]) for b in batch_progress(
        job, engine=engine).batches] == [("ended", 100, 100), ("ended", 30, 30)]
    topic = get_topic(ids[5])
    assert (topic.parent_category, topic.classification_source) == ("Healthy Living", "llm")
    assert topic.taxonomy_node_id == "iab_audience_1_1:408"
    assert topic.classification_version.startswith("llm:")
    assert _staged(engine) == 0
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(topic_history)
                            .where(topic_history.c.job_id == created.id)).scalar_one() == 130


def test_failed_results_and_bad_answers_are_topic_errors(engine, make_topic, get_topic,
                                                         fake_anthropic):
    names = ["Good Topic", "Errored Topic", "Expired Topic", "Canceled Topic",
             "Outside Topic", "Broken Topic"]
    ids = {n: make_topic(n) for n in names}
    fake_anthropic.state.special.update({
        "Errored Topic": errored("Overloaded"),
        "Expired Topic": {"type": "expired"},
        "Canceled Topic": {"type": "canceled"},
        "Outside Topic": succeeded(json.dumps({**YOGA, "parent_category": "Made Up"})),
        "Broken Topic": succeeded('{"segment_type": "b2c", '),
    })
    created = runner.create_job("reclassify", {"mode": "llm", "enableWebSearch": False},
                                engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.success_count, report.error_count) == (1, 5)
    errors = {e["name"]: e["message"] for e in runner.get_job(created.id, engine=engine).errors}
    assert "overloaded_error" in errors["Errored Topic"]
    assert "expired" in errors["Expired Topic"] and "canceled" in errors["Canceled Topic"]
    assert "outside the taxonomy" in errors["Outside Topic"]
    assert "not JSON" in errors["Broken Topic"]
    broken = get_topic(ids["Broken Topic"])
    assert broken.review_status == "needs_review" and "not JSON" in broken.review_reason
    assert get_topic(ids["Good Topic"]).review_status == "ok"


def test_429_and_500_are_retried_by_the_sdk(engine, make_topic, fake_anthropic):
    make_topic("Golf Fans")
    fake_anthropic.state.fail("POST", "/v1/messages/batches", 429)
    fake_anthropic.state.fail("GET", "/v1/messages/batches/", 500)
    created = runner.create_job("reclassify", {"mode": "llm"}, engine=engine)
    report = drive.run_to_completion(created.id, engine=engine)
    assert report.success_count == 1
    assert fake_anthropic.state.count("POST", "/v1/messages/batches") == 2  # 429, then ok


def test_an_unavailable_api_leaves_the_job_to_retry_and_never_submits_twice(
        engine, make_topic, fake_anthropic):
    make_topic("Golf Fans")
    created = runner.create_job("reclassify", {"mode": "llm"}, engine=engine)
    for _ in range(3):  # more failures than the SDK retries
        fake_anthropic.state.fail("POST", "/v1/messages/batches", 500)
    with pytest.raises(LLMUnavailable, match="did not take the batch"):
        runner.process_chunk(created.id, engine=engine)
    job = runner.get_job(created.id, engine=engine)
    assert job.status == "pending" and batch_progress(job, engine=engine).batches == []
    runner.process_chunk(created.id, engine=engine)  # submitted now
    runner._parsed_configs.clear()  # as a fresh process would start
    report = drive.run_to_completion(created.id, engine=engine)
    assert report.success_count == 1
    assert len(fake_anthropic.state.batches) == 1  # one batch, never a second submission


def _refuse_the_nth_create(state, n: int) -> None:
    """The fake answers the n-th batch create with a 400, which the SDK does not retry."""
    original, creates = state._scripted, iter(range(1, 10_000))

    def scripted(method: str, path: str) -> int | None:
        if method == "POST" and path == "/v1/messages/batches" and next(creates) == n:
            return 400
        return original(method, path)

    state._scripted = scripted


_DIE_BEFORE_COMMIT = """
import os, sys
from jobcore.jobs import runner
from jobcore.jobs import store
store.update_progress = lambda *args, **kwargs: os._exit(3)  # the process dies right there
runner.process_chunk(sys.argv[1])
"""


def test_a_process_dying_after_anthropic_took_its_batches_never_submits_them_again(
        engine, database_url, make_topic, get_topic, fake_anthropic,
        until_its_chunk_is_gone):
    ids = [make_topic(f"Chess Players {i:03d}") for i in range(250)]
    created = runner.create_job("reclassify", {"mode": "llm", "concurrency": 1},
                                engine=engine)
    _refuse_the_nth_create(fake_anthropic.state, 2)  # 1 and 3 taken, 2 refused
    died = subprocess.run([sys.executable, "-c", _DIE_BEFORE_COMMIT, created.id],
                          env={**os.environ, "DATABASE_URL": database_url},
                          cwd=Path(__file__).resolve().parents[2], capture_output=True,
                          text=True, timeout=120)
    assert died.returncode == 3, died.stderr
    assert len(fake_anthropic.state.batches) == 2  # taken; the job's chunk never committed
    job = runner.get_job(created.id, engine=engine)
    assert job.cursor["lastId"] == 0 and job.cursor["submitted"] == 0
    until_its_chunk_is_gone(created.id)  # the server lets go of the dead driver's lock

    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.status, report.success_count) == ("completed", 250)
    assert len(fake_anthropic.state.batches) == 3  # 2 adopted, the refused one submitted
    sent = [r["custom_id"] for b in fake_anthropic.state.batches.values()
            for r in b["_requests"]]
    assert sorted(sent) == sorted(str(i) for i in ids)  # each topic exactly once
    assert get_topic(ids[-1]).classification_source == "llm"


def test_a_refused_sub_batch_is_submitted_again_on_the_next_call(
        engine, make_topic, fake_anthropic):
    ids = [make_topic(f"Chess Players {i:03d}") for i in range(250)]
    created = runner.create_job("reclassify", {"mode": "llm", "concurrency": 1},
                                engine=engine)
    _refuse_the_nth_create(fake_anthropic.state, 2)
    first = runner.process_chunk(created.id, engine=engine)
    assert not first.done and len(fake_anthropic.state.batches) == 2
    job = runner.get_job(created.id, engine=engine)
    assert job.cursor["retryIds"] == ids[100:200] and job.cursor["submitted"] == 150
    report = drive.run_to_completion(created.id, engine=engine)
    assert (report.status, report.success_count) == ("completed", 250)
    sent = [r["custom_id"] for b in fake_anthropic.state.batches.values()
            for r in b["_requests"]]
    assert sorted(sent) == sorted(str(i) for i in ids)  # each topic exactly once


def test_cancel_during_polling_cancels_the_batches(engine, make_topic, fake_anthropic):
    make_topic("Golf Fans")
    fake_anthropic.state.polls_to_end = None
    created = runner.create_job("reclassify", {"mode": "llm"}, engine=engine)
    runner.process_chunk(created.id, engine=engine)
    runner.process_chunk(created.id, engine=engine)
    runner.cancel_job(created.id, engine=engine)
    batch = next(iter(fake_anthropic.state.batches.values()))
    assert fake_anthropic.state.count("POST", f"/v1/messages/batches/{batch['id']}/cancel") == 1
    assert batch["processing_status"] == "ended"
    assert batch["request_counts"]["canceled"] == 1


def test_column_mode_changes_only_that_field(engine, make_topic, get_topic, fake_anthropic):
    topic_id = make_topic("Golf Fans", segment_type="b2c", taxonomy_type="Interest",
                          parent_category="Sports", subcategory="Golf",
                          audience_type="interest", classification_version="rules-old",
                          classification_source="rules")
    fake_anthropic.state.answers["Golf Fans"] = {"audience_type": "interest",
                                                 "subcategory": None}
    created = runner.create_job("reclassify", {"mode": "column", "targetColumn": "subcategory",
                                               "force": True}, engine=engine)
    drive.run_to_completion(created.id, engine=engine)
    sent = next(iter(fake_anthropic.state.batches.values()))["_requests"][0]["params"]
    assert sent["output_config"]["format"]["schema"]["required"] == ["subcategory"]
    topic = get_topic(topic_id)
    assert (topic.parent_category, topic.subcategory) == ("Sports", None)


@pytest.mark.parametrize(("config", "field"), [
    ({"mode": "column"}, "targetColumn"),
    ({"mode": "llm", "targetColumn": "subcategory"}, "targetColumn"),
    ({"mode": "column", "targetColumn": "name"}, "targetColumn"),
])
def test_llm_config_errors_name_the_field(engine, fake_anthropic, config, field):
    with pytest.raises(ConfigError) as info:
        runner.create_job("reclassify", config, engine=engine)
    assert info.value.field == field


def test_without_an_api_key_llm_mode_says_how_to_set_one(engine, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    from jobcore.config import get_settings

    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY") as info:
        runner.create_job("reclassify", {"mode": "llm"}, engine=engine)
    assert info.value.field == "mode"


def test_ticks_finish_a_job_with_no_page_open(app_env, engine, make_topic, fake_anthropic,
                                              capsys):
    from jobcore.cli.main import main
    from jobcore.jobs.store import lock_job

    make_topic("Golf Fans")
    created = runner.create_job("reclassify", {"mode": "llm"})
    runner.process_chunk(created.id)  # submitted by the page, then the page is closed
    with engine.begin() as conn:  # a page holds the job during this tick
        lock_job(conn, created.id)
        assert main(["tick"]) == 0
    assert "busy" in capsys.readouterr().out
    assert main(["tick"]) == 0  # batch still processing
    assert main(["tick"]) == 0  # ended: staged and post-processed
    assert "completed, 1 of 1 processed" in capsys.readouterr().out
    assert main(["tick"]) == 0
    assert "no LLM job is waiting" in capsys.readouterr().out


def test_fallback_local_classifies_failed_topics_with_the_rules(engine, make_topic, get_topic,
                                                                fake_anthropic):
    suv = make_topic("Luxury SUV Intenders")
    odd = make_topic("Qqqz Wxyv")
    fake_anthropic.state.special.update({"Luxury SUV Intenders": errored(),
                                         "Qqqz Wxyv": errored()})
    created = runner.create_job("reclassify", {"mode": "llm", "fallbackLocal": True},
                                engine=engine)
    drive.run_to_completion(created.id, engine=engine)
    errors = {e["id"]: e["message"] for e in runner.get_job(created.id, engine=engine).errors}
    assert "classified by the local rules instead" in errors[suv]
    assert get_topic(suv).subcategory == "SUV" and get_topic(suv).review_status == "ok"
    assert "local rules" not in errors[odd]  # the rules have nothing either: flagged
    assert get_topic(odd).review_status == "needs_review"
