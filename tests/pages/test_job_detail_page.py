"""The Job detail page in AppTest: stepping, Run, Cancel, actions, errors and export."""

from __future__ import annotations

import io

import pandas as pd
import sqlalchemy as sa

from jobcore.catalog.topic_store import error_categories
from jobcore.db import get_engine
from jobcore.jobs import detail as job_detail
from jobcore.jobs import drive, retention, runner
from jobcore.ui.errors import errors_csv, errors_frame, filter_errors
from tests.conftest import rules_changed_since

DETAIL = "app_pages/job_detail.py"


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_renders_without_jobs_and_for_an_unknown_job(open_app):
    at = open_app(DETAIL)
    assert not at.exception
    assert any("No jobs yet" in i.value for i in at.info)
    at = open_app(DETAIL, job="job_1_missing")
    assert not at.exception
    assert any("No job with id 'job_1_missing'" in e.value for e in at.error)
    assert [link.label for link in at.get("page_link")] == ["Back to the jobs"]


def test_process_next_chunk_moves_the_counters(open_app, many_topics, button):
    many_topics(120)
    created = runner.create_job("reclassify", {})
    at = open_app(DETAIL, job=created.id)
    assert not at.exception
    assert _metrics(at)["Processed"] == "0"
    button(at, "Process next chunk").click().run()
    assert _metrics(at)["Processed"] == "50"
    assert _metrics(at)["Success"] == "50"
    job = runner.get_job(created.id)
    # one chunk and no further: the page let the job go, and says so
    assert (job.status, job.driver) == ("processing", None)
    assert any("Paused" in m.value for m in at.markdown)


def test_run_completes_a_small_job(open_app, many_topics, make_topic, button):
    many_topics(130)
    make_topic("Qqqz Wxyv")
    created = runner.create_job("reclassify", {})
    at = open_app(DETAIL, job=created.id)
    button(at, "Run").click().run()
    assert not at.exception
    job = runner.get_job(created.id)
    assert (job.status, job.processed_items, job.chunk_count) == ("completed", 131, 3)
    assert _metrics(at)["Processed"] == "131"
    assert any("Completed" in m.value for m in at.markdown)
    assert at.dataframe[0].value["name"].tolist() == ["Qqqz Wxyv"]  # errors refreshed


def test_cancel_stops_between_chunks(open_app, many_topics, button):
    many_topics(150)
    created = runner.create_job("reclassify", {})
    at = open_app(DETAIL, job=created.id)
    button(at, "Process next chunk").click().run()
    button(at, "Cancel the job").click().run()  # in the Cancel popover: asks first
    job = runner.get_job(created.id)
    assert (job.status, job.processed_items) == ("cancelled", 50)
    labels = [b.label for b in at.button]
    assert not {"Process next chunk", "Run", "Cancel the job"} & set(labels)


def test_buttons_show_only_where_valid(open_app, many_topics, make_topic, button):
    many_topics(10)
    make_topic("Qqqz Wxyv")
    pending = runner.create_job("reclassify", {})
    at = open_app(DETAIL, job=pending.id)
    labels = {b.label for b in at.button}
    assert {"Process next chunk", "Run", "Cancel the job"} <= labels
    assert not {"Retry errors", "Create rollback job"} & labels

    drive.run_to_completion(pending.id)
    at = open_app(DETAIL, job=pending.id)
    labels = {b.label for b in at.button}
    assert {"Retry errors", "Create rollback job"} <= labels
    assert not {"Process next chunk", "Run", "Cancel the job"} & labels

    button(at, "Create rollback job").click().run()
    assert not at.exception
    rollback_id = at.query_params["job"]
    assert rollback_id != pending.id
    assert runner.get_job(rollback_id).config["rollbackOf"] == pending.id
    at = open_app(DETAIL, job=pending.id)  # rolled back already: no second rollback
    labels = {b.label for b in at.button}
    assert "Create rollback job" not in labels and "Retry errors" in labels


def test_retry_errors_opens_the_new_job(open_app, many_topics, make_topic, button):
    make_topic("Qqqz Wxyv")
    make_topic("Yoga Enthusiasts")
    source = runner.create_job("reclassify", {})
    drive.run_to_completion(source.id)
    rules_changed_since(get_engine(), source.id)
    at = open_app(DETAIL, job=source.id)
    button(at, "Retry errors").click().run()
    retry = runner.get_job(at.query_params["job"])
    assert (retry.config["retryOf"], retry.total_items) == (source.id, 1)


def test_errors_table_filters_and_groups(open_app, make_topic):
    for i in range(3):
        make_topic(f"Qqqz Wxyv {i}x")
    make_topic("=HYPERLINK(evil)")
    make_topic("Yoga Enthusiasts")
    source = runner.create_job("reclassify", {})
    drive.run_to_completion(source.id)
    at = open_app(DETAIL, job=source.id)
    table, patterns, categories = (d.value for d in at.dataframe)
    assert len(table) == 4
    assert patterns["errors"].tolist() == [4]  # one pattern: the same failure four times
    assert categories.to_dict("records") == [{"parent_category": "(none)", "errors": 4}]
    at.text_input[0].set_value("hyperlink").run()
    assert at.dataframe[0].value["name"].tolist() == ["=HYPERLINK(evil)"]
    assert any(b.label == "Export CSV" for b in at.get("download_button"))


def test_export_holds_the_filtered_rows_with_formulas_neutralised(engine, make_topic):
    make_topic("=HYPERLINK(evil)")
    make_topic("+1 Qqqz")
    make_topic("@SUM Qqqz")
    make_topic("-Qqqz Wxyv")
    make_topic("Qqqz Zzyx")
    source = runner.create_job("reclassify", {}, engine=engine)
    drive.run_to_completion(source.id, engine=engine)
    frame = errors_frame((job := runner.get_job(source.id, engine=engine)).errors,
                         error_categories(job.errors, engine=engine))
    shown = filter_errors(frame, "qqqz")
    exported = pd.read_csv(io.BytesIO(errors_csv(shown)))
    assert exported["name"].tolist() == ["'+1 Qqqz", "'@SUM Qqqz", "'-Qqqz Wxyv", "Qqqz Zzyx"]
    assert exported.columns.tolist() == ["id", "name", "message", "parent_category"]
    everything = pd.read_csv(io.BytesIO(errors_csv(frame)))
    assert "'=HYPERLINK(evil)" in everything["name"].tolist()
    assert not any(str(v).startswith(("=", "+", "-", "@")) for v in everything["name"])


def test_completed_reclassify_offers_a_dedup_sweep_of_its_topics(open_app, many_topics,
                                                                   button):
    many_topics(60)
    created = runner.create_job("reclassify", {})
    drive.run_to_completion(created.id)
    at = open_app(DETAIL, job=created.id)
    button(at, "Dedup sweep these topics").click().run()
    assert not at.exception
    sweeps = runner.list_jobs(job_type="dedup_sweep")
    assert len(sweeps) == 1 and sweeps[0].config["sourceBatchId"] == created.id
    assert sweeps[0].total_items == 60


def test_completed_merge_offers_undo(open_app, make_topic, button):
    a, b = make_topic("Golf Fans"), make_topic("golf fans")
    merged = runner.create_job("merge", {"clusters": [{"winner": a, "losers": [{"id": b}]}]})
    drive.run_to_completion(merged.id)
    at = open_app(DETAIL, job=merged.id)
    button(at, "Create undo job").click().run()
    assert not at.exception
    undo = [j for j in runner.list_jobs(job_type="merge") if j.id != merged.id]
    assert len(undo) == 1 and undo[0].config["undoOf"] == merged.id


def test_llm_job_shows_its_batches_staging_and_cost(open_app, many_topics, fake_anthropic):
    many_topics(20)
    created = runner.create_job("reclassify", {"mode": "llm"})
    runner.process_chunk(created.id)  # submitted
    at = open_app(DETAIL, job=created.id)
    assert not at.exception
    assert any("Message batches" in h.value for h in at.subheader)
    batches = next(d.value for d in at.dataframe if "batch" in d.value.columns)
    assert batches.loc[0, "requests"] == 20 and batches.loc[0, "status"] == "in_progress"
    costs = next(d.value for d in at.dataframe if "estimate" in d.value.columns)
    assert costs.iloc[-1]["estimate"] > 0


def test_a_failed_job_offers_resume_and_shows_its_history(open_app, many_topics, button,
                                                          engine):
    from jobcore.jobs import store

    many_topics(120)
    created = runner.create_job("reclassify", {})
    runner.process_chunk(created.id)
    with engine.begin() as conn:
        store.fail_job(conn, created.id, "PlatformError: the platform refused the token")
    at = open_app(DETAIL, job=created.id)
    assert any("Failed: PlatformError" in e.value for e in at.error)
    assert "History (1 event)" in [e.label for e in at.expander]
    button(at, "Resume").click().run()
    assert not at.exception
    assert runner.get_job(created.id).status == "processing"
    assert "History (2 events)" in [e.label for e in at.expander]
    assert any("resumed by test-analyst" in t.value for t in at.text)
    button(at, "Run").click().run()
    assert runner.get_job(created.id).status == "completed"
    assert _metrics(at)["Processed"] == "120"


def test_a_job_nobody_drives_shows_as_paused_without_rates(open_app, many_topics, engine):
    import sqlalchemy as sa

    from jobcore.schema import admin_jobs

    many_topics(120)
    created = runner.create_job("reclassify", {})
    runner.process_chunk(created.id, driven_by="ana (command line)")
    with engine.begin() as conn:  # its last chunk finished five minutes ago
        conn.execute(sa.update(admin_jobs).where(admin_jobs.c.id == created.id).values(
            last_progress_at=sa.func.now() - sa.text("interval '5 minutes'")))
    at = open_app(DETAIL, job=created.id)
    assert not at.exception
    assert any("Paused" in m.value for m in at.markdown)
    assert any("Nobody is driving this job" in i.value and "by **ana (command line)**"
               in i.value for i in at.info)  # who last drove it
    assert (_metrics(at)["Items/s"], _metrics(at)["ETA"]) == ("–", "–")
    assert not at.warning  # not "stuck"


def test_a_chunk_open_elsewhere_shows_as_running_there_then_stuck_and_can_be_stopped(
        open_app, many_topics, engine, button, monkeypatch):
    import threading

    from jobcore.classify.reclassify import ReclassifyHandler
    from jobcore.config import get_settings

    many_topics(120)
    created = runner.create_job("reclassify", {})
    runner.process_chunk(created.id)
    runner.process_chunk(created.id)  # a rate needs two chunks
    entered, release = threading.Event(), threading.Event()
    real_process = ReclassifyHandler.process

    def process_slowly(self, conn, job, config, deadline):
        outcome = real_process(self, conn, job, config, deadline)
        entered.set()
        release.wait(30)
        return outcome

    monkeypatch.setattr(ReclassifyHandler, "process", process_slowly)
    other_tab = threading.Thread(target=lambda: runner.process_chunk(
        created.id, engine=engine, driven_by="bob"))
    other_tab.start()
    try:
        assert entered.wait(30)
        at = open_app(DETAIL, job=created.id)
        assert not at.exception
        assert any("Running elsewhere" in m.value for m in at.markdown)
        assert any("**bob**" in i.value for i in at.info)
        assert _metrics(at)["Items/s"] != "–"  # chunks are arriving

        monkeypatch.setenv("CHUNK_TIME_BUDGET_SECONDS", "0.01")  # open far too long now
        get_settings.cache_clear()
        at = open_app(DETAIL, job=created.id)
        assert any("Stuck" in m.value for m in at.markdown)
        assert any("**bob**" in w.value and "rolls the chunk back whole" in w.value
                   for w in at.warning)
        entered.clear()
        button(at, "Stop the stuck chunk").click().run()
        assert not at.exception
        assert entered.wait(30)  # bob's process was alive: it redoes the chunk whole
    finally:
        release.set()
        other_tab.join(30)
    events = runner.job_events(created.id)
    assert [(e.kind, e.created_by) for e in events] == [("chunk_stopped", "test-analyst")]


def test_jobs_show_what_they_came_from_and_what_came_of_them(open_app, many_topics):
    from jobcore.classify.recovery import create_rollback

    many_topics(60)
    source = runner.create_job("reclassify", {})
    drive.run_to_completion(source.id)
    rollback = create_rollback(source.id)
    came_from, came_of = job_detail.related_jobs(runner.get_job_summary(rollback.id))
    assert [(r.relation, r.job.id) for r in came_from] == [("rollback of", source.id)]
    assert came_of == []
    _, came_of = job_detail.related_jobs(runner.get_job_summary(source.id))
    assert [(r.relation, r.job.id) for r in came_of] == [("rolled back by", rollback.id)]

    at = open_app(DETAIL, job=rollback.id)
    assert not at.exception
    assert at.title[0].value.startswith("Rollback · ")
    links = [e.proto.label for e in at.get("page_link")]
    assert f"From: rollback of {source.id} (completed)" in links
    at = open_app(DETAIL, job=source.id)
    links = [e.proto.label for e in at.get("page_link")]
    assert f"Then: rolled back by {rollback.id} (pending)" in links


def test_a_sweep_links_to_its_review_with_its_cluster_count(open_demo_app, demo_engine):
    created = runner.create_job("dedup_sweep", {}, engine=demo_engine)
    drive.run_to_completion(created.id, engine=demo_engine)
    clusters = runner.get_job(created.id, engine=demo_engine).result["clusterCount"]
    at = open_demo_app(DETAIL, job=created.id)
    assert not at.exception
    assert any(e.proto.label.startswith(f"Review its {clusters:,} clusters")
               for e in at.get("page_link"))


def test_a_merge_lists_the_clusters_it_merged_and_links_its_sweep(open_demo_app, demo_engine):
    from jobcore.dedup import cluster_review

    sweep = runner.create_job("dedup_sweep", {}, engine=demo_engine)
    drive.run_to_completion(sweep.id, engine=demo_engine)
    _, reviewed = cluster_review.load_review(sweep.id, engine=demo_engine)
    chosen = [r for r in reviewed if r.mergeable][:2]
    names = cluster_review.load_names({r.cluster.winner for r in chosen}, engine=demo_engine)
    merge = cluster_review.start_merge(chosen, sweep.id, created_by="ana", engine=demo_engine)
    at = open_demo_app(DETAIL, job=merge.id)
    assert not at.exception
    assert "Clusters to merge (2)" in [e.label for e in at.expander]  # not merged yet
    table = next(d.value for d in at.dataframe if "Winner" in d.value.columns)
    assert table["Winner"].tolist() == [
        f"{names[r.cluster.winner]} · #{r.cluster.winner}" for r in chosen]
    drive.run_to_completion(merge.id, engine=demo_engine)
    at = open_demo_app(DETAIL, job=merge.id)
    assert "Clusters merged (2)" in [e.label for e in at.expander]
    assert any(e.proto.label == f"From: merge of clusters proposed by {sweep.id} (completed)"
               for e in at.get("page_link"))


def test_run_in_background_then_take_over(open_app, many_topics, button):
    many_topics(60)
    created = runner.create_job("reclassify", {})
    at = open_app(DETAIL, job=created.id)
    button(at, "Run in background").click().run()
    assert not at.exception
    assert runner.get_job_summary(created.id).background
    assert any("In the background" in m.value for m in at.markdown)
    assert any("the next free worker takes it" in i.value for i in at.info)
    labels = [b.label for b in at.button]
    assert "Run" not in labels and "Process next chunk" not in labels
    button(at, "Take over").click().run()
    assert not runner.get_job_summary(created.id).background
    button(at, "Run").click().run()
    assert runner.get_job_summary(created.id).status == "completed"


def test_retry_this_group_opens_a_job_over_that_group(open_app, make_topic, button):
    sports = [make_topic(f"Qqqz Wxyv {c}", parent_category="Sports") for c in "ab"]
    make_topic("Qqqz Wxyv c", parent_category="Travel")
    source = runner.create_job("reclassify", {})
    drive.run_to_completion(source.id)
    at = open_app(DETAIL, job=source.id)
    picker = at.selectbox(key="retry_group")
    assert "parent category: Sports (2 topics)" in picker.options
    picker.set_value("parent category: Sports").run()
    button(at, "Retry this group").click().run()
    retry = runner.get_job(at.query_params["job"])
    assert (retry.config["retryGroup"], retry.config["topicIds"], retry.total_items) == (
        "parent category: Sports", sorted(sports), 2)


def test_no_group_retry_is_offered_while_a_retry_of_the_errors_is_pending(open_app, make_topic):
    make_topic("Qqqz Wxyv a", parent_category="Sports")
    source = runner.create_job("reclassify", {})
    drive.run_to_completion(source.id)
    rules_changed_since(get_engine(), source.id)
    runner.create_job("reclassify", {"mode": "local", "force": True, "retryOf": source.id})
    at = open_app(DETAIL, job=source.id)
    assert not at.exception
    assert "retry_group" not in {s.key for s in at.selectbox}
    assert not {"Retry errors", "Retry this group"} & {b.label for b in at.button}


def test_a_job_retention_removed_says_so_and_leads_back(open_app, many_topics, engine):
    many_topics(5)
    created = runner.create_job("reclassify", {})
    drive.run_to_completion(created.id)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE admin_jobs SET completed_at = now() - interval '90 days' "
                             "WHERE id = :id"), {"id": created.id})
    assert retention.prune(engine=engine, policy=retention.Policy(30, 60)).jobs == 1
    at = open_app(DETAIL, job=created.id)
    assert not at.exception and not at.error
    assert any(f"Job {created.id} (reclassify, completed" in w.value
               and "was pruned on" in w.value for w in at.warning)
    assert [link.label for link in at.get("page_link")] == ["Back to the jobs"]


def test_run_drives_slices_of_chunks_and_process_next_chunk_still_takes_one(
        open_app, many_topics, button, monkeypatch):
    from jobcore.config import get_settings

    monkeypatch.setenv("PAGE_SLICE_SECONDS", "10")  # the whole job fits in one slice
    get_settings.cache_clear()
    many_topics(160)
    created = runner.create_job("reclassify", {})
    at = open_app(DETAIL, job=created.id)
    button(at, "Process next chunk").click().run()
    assert _metrics(at)["Processed"] == "50" and runner.get_job(created.id).chunk_count == 1
    button(at, "Run").click().run()
    assert not at.exception
    job = runner.get_job(created.id)
    assert (job.status, job.processed_items, job.chunk_count) == ("completed", 160, 4)
    assert _metrics(at)["Processed"] == "160"
