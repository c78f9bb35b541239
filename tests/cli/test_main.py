"""python -m jobcore: exit codes, messages, dry run, progress to the end."""

from __future__ import annotations

import re
import subprocess
import sys

import sqlalchemy as sa

from jobcore.access import Role
from jobcore.cli.main import main
from jobcore.schema import admin_jobs, topic_history, topics
from jobcore.ui.forms import plural
from tests.fakes.anthropic_batches import pair_verdicts


def test_reclassify_global_drives_a_job_to_the_end(app_env, engine, many_topics, capsys):
    many_topics(120)
    assert main(["reclassify-global"]) == 0
    out = capsys.readouterr().out
    assert "completed; processed 120 of 120: 120 changed, 0 errors, 0 unchanged" in out
    with engine.connect() as conn:
        job = conn.execute(sa.select(admin_jobs)).one()
    assert (job.status, job.created_by, job.config["mode"]) == ("completed", "test-analyst",
                                                                "local")


def test_dry_run_prints_changes_and_writes_nothing(app_env, engine, make_topic, capsys):
    make_topic("Luxury SUV Intenders")
    make_topic("Qqqz Wxyv")
    assert main(["reclassify-global", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would change" in out and "'Luxury SUV Intenders'" in out and "'SUV'" in out
    assert "would fail" in out and "'Qqqz Wxyv'" in out
    assert "1 would change, 1 would fail" in out and "nothing was written" in out
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(admin_jobs)).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(topic_history)).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(topics)
                            .where(topics.c.review_status != "ok")).scalar() == 0


def test_usage_errors_exit_2_with_a_message(app_env, capsys):
    assert main(["reclassify-global", "--parent-category", "Automotiv"]) == 2
    assert "did you mean 'Automotive'" in capsys.readouterr().err
    assert main(["reclassify-global", "--llm"]) == 2
    assert "set ANTHROPIC_API_KEY" in capsys.readouterr().err
    assert main(["reclassify-global", "--concurrency", "4"]) == 2
    assert "--concurrency is for --llm" in capsys.readouterr().err
    assert main(["jobs", "show", "job_1_missing"]) == 2
    assert "No job with id 'job_1_missing'" in capsys.readouterr().err
    assert main(["jobs", "list", "--limit", "500"]) == 2
    assert "limit must be" in capsys.readouterr().err


def test_argument_errors_exit_2_without_traceback():
    result = subprocess.run([sys.executable, "-m", "jobcore", "reclassify-global", "--limit",
                             "0"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "--limit: must be at least 1" in result.stderr and "Traceback" not in result.stderr


def test_database_down_is_a_short_message(tmp_path):
    env = {"DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:9/nowhere", "PATH": "/usr/bin",
           "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "jobcore", "jobs", "list"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert "Cannot connect to PostgreSQL at 127.0.0.1/nowhere" in result.stderr
    assert "Traceback" not in result.stderr and "secret" not in result.stderr


def test_jobs_process_show_cancel(app_env, many_topics, capsys):
    many_topics(120)
    from jobcore.jobs import runner

    created = runner.create_job("reclassify", {})
    assert main(["jobs", "process", created.id]) == 0
    assert "chunk: 50 items" in capsys.readouterr().out
    assert main(["jobs", "list"]) == 0
    assert created.id in capsys.readouterr().out
    assert main(["jobs", "cancel", created.id]) == 0
    assert "cancelled after 50 of 120" in capsys.readouterr().out
    assert main(["jobs", "process", created.id]) == 2
    assert "cancelled; it takes no more chunks" in capsys.readouterr().err
    assert main(["jobs", "show", created.id]) == 0
    assert '"status": "cancelled"' in capsys.readouterr().out


def test_seed_demo_refuses_a_non_empty_catalogue(app_env, make_topic, capsys):
    make_topic("Existing topic")
    assert main(["seed-demo", "--topics", "50"]) == 2
    assert "already has topics" in capsys.readouterr().err


def test_api_token_prints_a_token_and_its_hashed_entry(capsys):
    from jobcore.api import hash_token, parse_token_entries

    assert main(["api-token", "--owner", "ci-bot"]) == 0
    lines = capsys.readouterr().out.splitlines()
    token = lines[0].rsplit(" ", 1)[1]
    entry = lines[1].rsplit(" ", 1)[1]
    assert len(token) >= 40 and token not in entry
    assert parse_token_entries([entry]) == {hash_token(token): ("ci-bot", Role.OPERATOR)}
    assert main(["api-token", "--owner", "a:b"]) == 2


def test_dedup_sweep_merge_and_undo_from_the_command_line(demo_engine, capsys):
    assert main(["dedup-sweep"]) == 0
    out = capsys.readouterr().out
    assert "completed; processed 800 of 800" in out and "clusters," in out
    sweep_id = out.split("merge --sweep ")[1].split("'")[0]
    with demo_engine.connect() as conn:
        live_before = conn.execute(sa.select(sa.func.count()).where(
            topics.c.merged_into.is_(None))).scalar_one()
    assert main(["merge", "--sweep", sweep_id, "--min-score", "0.99", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would merge #" in out and "nothing was written" in out
    assert main(["merge", "--sweep", sweep_id, "--min-similarity", "0.99"]) == 0
    out = capsys.readouterr().out
    assert "completed" in out and "merged, 0 errors" in out
    merge_id = out.split("job ")[1].split(":")[0]
    with demo_engine.connect() as conn:
        live_after = conn.execute(sa.select(sa.func.count()).where(
            topics.c.merged_into.is_(None))).scalar_one()
    assert live_after < live_before
    assert main(["merge", "--undo", merge_id]) == 0
    assert "restored, 0 errors" in capsys.readouterr().out
    assert main(["merge", "--undo", merge_id]) == 2  # one undo per merge
    assert "already has an undo" in capsys.readouterr().err
    assert main(["dedup-sweep", "--threshold", "2"]) == 2
    assert "threshold" in capsys.readouterr().err


def test_a_sweep_with_more_clusters_than_a_merge_job_takes_is_merged_by_several(
        demo_engine, capsys, monkeypatch):
    from jobcore.dedup import merge_job

    assert main(["dedup-sweep"]) == 0
    sweep_id = capsys.readouterr().out.split("merge --sweep ")[1].split("'")[0]
    assert main(["merge", "--sweep", sweep_id, "--dry-run"]) == 0
    open_clusters = int(capsys.readouterr().out.split("dry run: ")[1].split(" open")[0])
    assert open_clusters > 2
    monkeypatch.setattr(merge_job, "MAX_CLUSTERS", 2)
    assert main(["merge", "--sweep", sweep_id]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("created job") == -(-open_clusters // 2)
    assert f"(1-2 of {open_clusters})" in captured.err
    with demo_engine.connect() as conn:
        merged = conn.execute(sa.text(
            "SELECT count(*), sum(success_count) FROM admin_jobs WHERE job_type = 'merge' "
            "AND status = 'completed'")).one()
    assert tuple(merged) == (-(-open_clusters // 2), open_clusters)


def test_llm_reclassify_from_the_command_line(app_env, many_topics, fake_anthropic, capsys):
    many_topics(230)
    assert main(["reclassify-global", "--llm", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "230 topics would go to Claude in 3 message batches" in out and "$" in out
    assert fake_anthropic.state.requests == []  # a dry run sends nothing
    assert main(["reclassify-global", "--llm", "--poll-seconds", "0", "--concurrency",
                 "3"]) == 0
    out = capsys.readouterr().out
    assert "completed; processed 230 of 230" in out and "cost $" in out
    assert len(fake_anthropic.state.batches) == 3


def test_a_nul_character_in_an_argument_is_refused_naming_the_field(app_env, capsys):
    assert main(["reclassify-global", "--parent-category", "Sports\x00"]) == 2
    err = capsys.readouterr().err
    assert "parentCategoryFilter" in err and "NUL character" in err


def test_a_verifying_dedup_sweep_from_the_command_line(demo_engine, fake_anthropic, capsys):
    assert main(["dedup-sweep", "--verify", "claude", "--dry-run"]) == 0
    out = capsys.readouterr().out
    counted = re.search(r"dry run: 800 topics to sweep\. About (\d+) pairs? score 0\.50–0\.60",
                        out)
    assert counted is not None, out
    assert "estimated $" in out and "Nothing was created." in out
    assert fake_anthropic.state.requests == []  # a dry run sends nothing
    pairs = int(counted.group(1))
    assert pairs >= 1  # the demo holds pairs in the band
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: True)
    assert main(["dedup-sweep", "--verify", "claude", "--poll-seconds", "0"]) == 0
    out = capsys.readouterr().out
    assert f"Claude verified {plural(pairs, 'pair')}: {pairs:,} the same" in out
    assert f"completed; processed {800 + pairs:,} of {800 + pairs:,}" in out
    assert main(["dedup-sweep", "--verify", "claude", "--verify-from", "0.7"]) == 2
    assert "verifyFrom" in capsys.readouterr().err


def test_merge_from_the_command_line_follows_the_analysts_decisions(demo_engine, capsys):
    """`merge --sweep` merges the clusters as analysts edited them on the Dedup screen
    (another winner), and `--accepted` only those they accepted.
    """
    from jobcore.dedup import cluster_decisions, cluster_review

    assert main(["dedup-sweep"]) == 0
    sweep_id = capsys.readouterr().out.split("merge --sweep ")[1].split("'")[0]
    _, reviewed = cluster_review.load_review(sweep_id, engine=demo_engine)
    accepted, edited = [r for r in reviewed if r.mergeable][:2]
    new_winner = edited.cluster.losers[0][0]
    for number, action, topic in ((accepted.number, cluster_decisions.ACCEPT, None),
                                  (edited.number, cluster_decisions.WINNER, new_winner),
                                  (edited.number, cluster_decisions.ACCEPT, None)):
        cluster_review.record_decision(sweep_id, number, action, topic, by="ana",
                                       engine=demo_engine)
    assert main(["merge", "--sweep", sweep_id, "--accepted", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "2 accepted open clusters to merge" in out
    assert main(["merge", "--sweep", sweep_id, "--accepted"]) == 0
    assert "merged, 0 errors" in capsys.readouterr().out
    with demo_engine.connect() as conn:
        merged_into = dict(conn.execute(sa.select(topics.c.id, topics.c.merged_into).where(
            topics.c.merged_into.is_not(None))).all())
    assert set(merged_into.values()) == {accepted.cluster.winner, new_winner}
    assert merged_into[edited.cluster.winner] == new_winner  # the sweep's winner folded in
