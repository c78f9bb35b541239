"""Claude as a second reviewer of a sweep's uncertain pairs, against the loopback Message
Batches fake driven by the real SDK: band routing, answers same / different / malformed /
errored / expired, no pair asked twice across sweeps, a crash after submit, cancel, the
cost estimate, no chaining through verified pairs.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from jobcore.dedup import cluster_review, verify_band
from jobcore.errors import ConfigError
from jobcore.jobs import drive, runner
from jobcore.schema import claude_pair_verdicts, dedup_verify_pairs
from tests.dedup.vectors import set_vector, unit
from tests.fakes.anthropic_batches import errored, pair_verdicts

VERIFYING = {"matching": "semantic", "verify": "claude"}  # threshold 0.95, band from 0.90


def _pair(engine, make_topic, word: str, cosine: float, axis: int) -> tuple[int, int]:
    """Two topics named alike ("<word> Kayak Fans" and "<word> Kayak Lovers") whose
    embeddings have exactly this cosine similarity (semantic score).
    """
    a = make_topic(f"{word} Kayak Fans", f"People who follow {word} kayaking.")
    b = make_topic(f"{word} Kayak Lovers", f"Fans of {word} kayaking.")
    set_vector(engine, a, unit(0.0, axis=axis))
    set_vector(engine, b, unit(math.acos(cosine), axis=axis))
    return a, b


def _sweep(engine, **config) -> runner.ChunkReport:
    created = runner.create_job("dedup_sweep", {**VERIFYING, **config}, engine=engine)
    return drive.run_to_completion(created.id, engine=engine)


def _asked(fake) -> list[str]:
    """The pairs every request sent so far asked about, as "A name ~ B name"."""
    asked = []
    for batch in fake.state.batches.values():
        for request in batch["_requests"]:
            lines = request["params"]["messages"][0]["content"].splitlines()
            names = [line.split(": ", 1)[1] for line in lines
                     if line.startswith(("  A: ", "  B: "))]
            asked += [f"{a} ~ {b}" for a, b in zip(names[::2], names[1::2], strict=True)]
    return sorted(asked)


def _clusters(engine, job_id: str) -> list[dict]:
    return runner.get_job(job_id, engine=engine).result["clusters"]


def test_only_the_band_goes_to_claude_and_its_verdicts_shape_the_clusters(
        engine, make_topic, fake_anthropic):
    sure = _pair(engine, make_topic, "Alpha", 0.97, 0)  # above the threshold: proposed
    same = _pair(engine, make_topic, "Beta", 0.93, 4)  # in the band, Claude: same
    different = _pair(engine, make_topic, "Gamma", 0.92, 8)  # in the band, Claude: different
    _pair(engine, make_topic, "Delta", 0.85, 12)  # below the band: dropped, never asked
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: not a.startswith("Gamma"))

    report = _sweep(engine)

    assert report.status == "completed"
    assert _asked(fake_anthropic) == ["Beta Kayak Fans ~ Beta Kayak Lovers",
                                      "Gamma Kayak Fans ~ Gamma Kayak Lovers"]
    # the job's total grew by the two pairs it sent, and they count as processed
    assert (report.total_items, report.processed_items) == (8 + 2, 8 + 2)
    job = runner.get_job(report.job_id, engine=engine)
    clusters = job.result["clusters"]
    assert [{c["winner"], *(m["id"] for m in c["losers"])} for c in clusters] == [
        set(sure), set(same)]
    assert "claude" not in clusters[0]["losers"][0]  # proposed on its score alone
    verified = clusters[1]["losers"][0]
    assert verified["score"] == pytest.approx(0.93, abs=1e-6)
    assert verified["claude"] == {
        "confidence": 0.9, "reason": "Both names describe the same people, worded differently.",
        "earlier": False}
    assert job.result["verification"].items() >= {"pairs": 2, "requests": 1, "same": 1,
                                               "different": 1, "failed": 0}.items()
    assert (job.result["clusterCount"], job.result["duplicateCount"]) == (2, 2)
    with engine.connect() as conn:
        remembered = {(r.low_topic_id, r.high_topic_id): r.same for r in conn.execute(
            sa.select(claude_pair_verdicts))}
    assert remembered == {tuple(sorted(same)): True, tuple(sorted(different)): False}


def test_no_pair_is_asked_twice_across_sweeps(engine, make_topic, fake_anthropic):
    same = _pair(engine, make_topic, "Beta", 0.93, 4)
    _pair(engine, make_topic, "Gamma", 0.92, 8)
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: a.startswith("Beta"))
    _sweep(engine)
    batches = len(fake_anthropic.state.batches)

    again = _sweep(engine)

    assert len(fake_anthropic.state.batches) == batches  # nothing sent the second time
    clusters = _clusters(engine, again.job_id)
    assert [{c["winner"], *(m["id"] for m in c["losers"])} for c in clusters] == [set(same)]
    assert clusters[0]["losers"][0]["claude"]["earlier"] is True
    result = runner.get_job(again.job_id, engine=engine).result
    assert result["verification"]["remembered"] == 1
    assert result["verification"]["pairs"] == 0 and result["phase"] == "done"


def test_malformed_errored_and_expired_answers_leave_pairs_unverified(
        engine, make_topic, fake_anthropic, monkeypatch):
    monkeypatch.setattr(verify_band, "PAIRS_PER_REQUEST", 1)  # one request per pair
    answers = {"Beta": "malformed", "Gamma": errored("Overloaded"),
               "Delta": {"type": "expired"}, "Epsilon": True}
    pairs = {word: _pair(engine, make_topic, word, 0.93, 4 * i)
             for i, word in enumerate(answers)}
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: answers[a.split()[0]])

    report = _sweep(engine)

    assert report.status == "completed"
    job = runner.get_job(report.job_id, engine=engine)
    assert [{c["winner"], *(m["id"] for m in c["losers"])} for c in job.result["clusters"]
            ] == [set(pairs["Epsilon"])]  # never merged silently
    messages = {e["pairWithName"].split()[0]: e["message"] for e in job.errors}
    assert set(messages) == {"Beta", "Gamma", "Delta"}
    assert "same must be true or false" in messages["Beta"]
    assert "errored (overloaded_error: Overloaded)" in messages["Gamma"]
    assert "expired" in messages["Delta"]
    assert all("stays unverified" in m for m in messages.values())
    assert job.result["verification"].items() >= {"same": 1, "failed": 3}.items()
    with engine.connect() as conn:
        states = dict(conn.execute(sa.select(dedup_verify_pairs.c.loser_topic_id,
                                             dedup_verify_pairs.c.state)).all())
    assert sorted(states.values()) == ["failed", "failed", "failed", "same"]

    # unverified pairs are not remembered: the next sweep asks about them again
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: True)
    again = _sweep(engine)
    assert len(_clusters(engine, again.job_id)) == 4


def test_verified_pairs_do_not_chain(engine, make_topic, fake_anthropic):
    # B is close to A (0.93, in the band) and C to B (0.93), but C to A only 0.73:
    # each topic is in one pair, so no cluster holds A and C through B
    a = make_topic("Omega Kayak Fans")
    b = make_topic("Omega Kayak Lovers")
    c = make_topic("Omega Kayak Admirers")
    step = math.acos(0.93)
    for topic_id, angle in ((a, 0.0), (b, step), (c, 2 * step)):
        set_vector(engine, topic_id, unit(angle))
    fake_anthropic.state.responder = pair_verdicts(lambda x, y: True)

    report = _sweep(engine)

    clusters = [{cl["winner"], *(m["id"] for m in cl["losers"])}
                for cl in _clusters(engine, report.job_id)]
    assert all(len(members) == 2 for members in clusters)
    assert not any({a, c} <= members for members in clusters)


_DIE_BEFORE_COMMIT = """
import os, sys
from jobcore.jobs import runner
from jobcore.jobs import store
store.update_progress = lambda *args, **kwargs: os._exit(3)  # the process dies right there
runner.process_chunk(sys.argv[1])
"""


def test_a_crash_after_submit_is_adopted_and_nothing_is_sent_twice(
        engine, database_url, make_topic, fake_anthropic, until_its_chunk_is_gone):
    same = _pair(engine, make_topic, "Beta", 0.93, 4)
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: True)
    created = runner.create_job("dedup_sweep", VERIFYING, engine=engine)
    runner.process_chunk(created.id, engine=engine)  # the sweep, to the submit phase
    assert runner.get_job(created.id, engine=engine).cursor["phase"] == "submit"
    died = subprocess.run([sys.executable, "-c", _DIE_BEFORE_COMMIT, created.id],
                          env={**os.environ, "DATABASE_URL": database_url},
                          cwd=Path(__file__).resolve().parents[2], capture_output=True,
                          text=True, timeout=120)
    assert died.returncode == 3, died.stderr
    assert len(fake_anthropic.state.batches) == 1  # taken; its chunk never committed
    until_its_chunk_is_gone(created.id)  # the server lets go of the dead driver's lock

    report = drive.run_to_completion(created.id, engine=engine)

    assert report.status == "completed"
    assert len(fake_anthropic.state.batches) == 1  # adopted, not sent again
    assert [{c["winner"], *(m["id"] for m in c["losers"])}
            for c in _clusters(engine, created.id)] == [set(same)]


def test_cancel_cancels_the_batches_and_merges_nothing(engine, make_topic, fake_anthropic):
    _pair(engine, make_topic, "Beta", 0.93, 4)
    fake_anthropic.state.polls_to_end = None
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: True)
    created = runner.create_job("dedup_sweep", VERIFYING, engine=engine)
    for _ in range(3):  # sweep, submit, a poll
        runner.process_chunk(created.id, engine=engine)
    runner.cancel_job(created.id, engine=engine)
    batch = next(iter(fake_anthropic.state.batches.values()))
    assert fake_anthropic.state.count("POST", f"/v1/messages/batches/{batch['id']}/cancel") == 1
    assert batch["request_counts"]["canceled"] == 1
    job = runner.get_job(created.id, engine=engine)
    assert job.status == "cancelled" and job.result["clusters"] == []


def test_the_cost_estimate_is_within_20_percent_of_the_tokens_used(
        engine, make_topic, fake_anthropic):
    for i in range(30):
        _pair(engine, make_topic, f"Word{chr(65 + i // 26)}{chr(65 + i % 26)}", 0.93,
              4 * i)
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: True)
    preview = runner.cost_preview("dedup_sweep", VERIFYING, 60, engine=engine)
    assert "About 30 pairs score 0.90–0.95" in preview and "3 requests" in preview

    report = _sweep(engine)

    result = runner.get_job(report.job_id, engine=engine).result
    estimate, usage = result["costEstimate"]["usage"], result["usage"]
    for key in ("inputTokens", "outputTokens"):
        assert estimate[key] == pytest.approx(usage[key], rel=0.20), key


def test_max_pairs_caps_what_is_sent_highest_scores_first(engine, make_topic,
                                                          fake_anthropic):
    _pair(engine, make_topic, "Beta", 0.94, 4)
    _pair(engine, make_topic, "Gamma", 0.91, 8)
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: True)
    report = _sweep(engine, maxPairs=1)
    assert _asked(fake_anthropic) == ["Beta Kayak Fans ~ Beta Kayak Lovers"]
    result = runner.get_job(report.job_id, engine=engine).result
    assert result["verification"].items() >= {"pairs": 1, "skipped": 1, "same": 1}.items()


@pytest.mark.parametrize(("config", "field"), [
    ({"verifyFrom": 0.96}, "verifyFrom"),  # not below the threshold 0.95
    ({"verify": "off", "verifyFrom": 0.9}, "verifyFrom"),
    ({"verify": "off", "maxPairs": 5}, "maxPairs"),
    ({"threshold": 0.9, "verifyFrom": None}, "threshold"),  # semantic: no room for a band
    ({"model": "gpt-4o"}, "model"),
    ({"maxPairs": 0}, "maxPairs"),
])
def test_verify_config_errors_name_the_field(engine, fake_anthropic, config, field):
    with pytest.raises(ConfigError) as caught:
        runner.create_job("dedup_sweep", {**VERIFYING, **config}, engine=engine)
    assert caught.value.field == field


def test_verifying_without_an_api_key_says_how_to_set_one(engine, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    from jobcore.config import get_settings
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        runner.create_job("dedup_sweep", VERIFYING, engine=engine)
    get_settings.cache_clear()


def test_agreement_with_analysts_per_band(engine, make_topic, fake_anthropic):
    same = _pair(engine, make_topic, "Beta", 0.93, 4)
    different = _pair(engine, make_topic, "Gamma", 0.92, 8)
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: a.startswith("Beta"))
    report = _sweep(engine)
    assert cluster_review.claude_agreement_by_band("hybrid", engine=engine) == []  # another scale
    [band] = cluster_review.claude_agreement_by_band("semantic", engine=engine)
    assert (band.low, band.said_same, band.said_different, band.decided) == (0.9, 1, 1, 0)
    assert band.agreement is None

    _job, reviewed = cluster_review.load_review(report.job_id, engine=engine)
    merge = cluster_review.start_merge(reviewed, report.job_id, created_by="analyst", engine=engine)
    drive.run_to_completion(merge.id, engine=engine)  # the analyst agrees: merged
    cluster_review.mark_not_duplicates(*same, created_by="analyst", sweep_id=None, engine=engine)
    [band] = cluster_review.claude_agreement_by_band("semantic", engine=engine)
    assert (band.same_merged, band.same_marked_apart, band.decided) == (0, 1, 1)  # the mark wins
    assert band.agreement == 0.0
    cluster_review.unmark_not_duplicates(*same, engine=engine)
    cluster_review.mark_not_duplicates(*different, created_by="analyst", sweep_id=None,
                               engine=engine)
    [band] = cluster_review.claude_agreement_by_band("semantic", engine=engine)
    assert (band.same_merged, band.different_marked_apart, band.agreement) == (1, 1, 1.0)


def test_ticks_finish_a_verifying_sweep_with_no_page_open(app_env, engine, make_topic,
                                                           fake_anthropic, capsys):
    from jobcore.cli.main import main

    same = _pair(engine, make_topic, "Beta", 0.93, 4)
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: True)
    created = runner.create_job("dedup_sweep", VERIFYING)
    runner.process_chunk(created.id)  # swept by the page,
    runner.process_chunk(created.id)  # submitted, then the page is closed
    assert main(["tick"]) == 0  # the batch still processing
    assert main(["tick"]) == 0  # ended: staged and post-processed
    assert "completed, 3 of 3 processed" in capsys.readouterr().out
    assert [{c["winner"], *(m["id"] for m in c["losers"])}
            for c in _clusters(engine, created.id)] == [set(same)]


def _vector(parts: dict[int, float]) -> list[float]:
    from jobcore.schema import EMBEDDING_DIMENSIONS

    vector = [0.0] * EMBEDDING_DIMENSIONS
    for axis, value in parts.items():
        vector[axis] = value
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


def test_verifying_proposes_what_a_plain_sweep_proposes_above_the_threshold(
        engine, make_topic, make_org, fake_anthropic):
    # S~X 0.96 (above the threshold), S~W 0.92 (in the band), W the preferred winner: the
    # band partner must not take S away from X
    w = make_topic("Beta Kayak Followers", "Follow beta kayaking.")
    s = make_topic("Beta Kayak Fans", "People who follow beta kayaking.")
    x = make_topic("Beta Kayak Lovers", "Fans of beta kayaking.")
    set_vector(engine, s, unit(0.0))
    set_vector(engine, x, unit(math.acos(0.96)))
    set_vector(engine, w, unit(-math.acos(0.92)))
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO org_topics (org_id, topic_id) VALUES (:o, :t)"),
                     {"o": make_org("Acme"), "t": w})
    plain = runner.create_job("dedup_sweep", {"matching": "semantic"}, engine=engine)
    drive.run_to_completion(plain.id, engine=engine)
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: False)

    verifying = _sweep(engine)

    def groups(job_id):
        return [{c["winner"], *(m["id"] for m in c["losers"])}
                for c in _clusters(engine, job_id)]
    assert groups(plain.id) == groups(verifying.job_id) == [{s, x}]


def test_a_remembered_different_pair_of_two_unscored_losers_keeps_them_apart(
        engine, make_topic, fake_anthropic):
    # W with two band losers A and B that are not each other's candidates (each has closer
    # decoys) but that Claude judged different: only one may join W
    t = math.acos(0.93)
    w = make_topic("Beta Kayak Paddlers", "x")
    a = make_topic("Beta Kayak Fans", "y")
    b = make_topic("Beta Kayak Lovers", "z")
    va, vb = {0: math.cos(t), 1: math.sin(t)}, {0: math.cos(t), 1: -math.sin(t)}
    set_vector(engine, w, _vector({0: 1.0}))
    set_vector(engine, a, _vector(va))
    set_vector(engine, b, _vector(vb))
    axis = 2
    for base, label in ((va, "Aa"), (vb, "Bb")):
        for k in range(9):
            decoy = make_topic(f"Decoy {label} Number{k} Gardening{k}", "d")
            set_vector(engine, decoy, _vector({**{i: 0.8 * v for i, v in base.items()},
                                              axis: 0.6}))
            axis += 1
    with engine.begin() as conn:
        conn.execute(sa.insert(claude_pair_verdicts).values(
            low_topic_id=min(a, b), high_topic_id=max(a, b), same=False, confidence=0.9,
            reason="Different.", score=0.92, matching="semantic", model="m"))
    fake_anthropic.state.responder = pair_verdicts(lambda x, y: True)

    report = _sweep(engine)

    assert report.status == "completed"
    [cluster] = _clusters(engine, report.job_id)
    assert cluster["winner"] == w and len(cluster["losers"]) == 1


def test_a_verified_loser_of_a_cluster_merged_meanwhile_gets_an_open_cluster(
        engine, make_topic, fake_anthropic):
    w = make_topic("Beta Kayak Paddlers", "x")
    x = make_topic("Beta Kayak Fans", "y")
    late = make_topic("Beta Kayak Lovers", "z")
    set_vector(engine, w, unit(0.0))
    set_vector(engine, x, unit(math.acos(0.97)))
    set_vector(engine, late, unit(-math.acos(0.93)))
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: True)
    created = runner.create_job("dedup_sweep", VERIFYING, engine=engine)
    while runner.get_job(created.id, engine=engine).cursor.get("phase") != "poll":
        runner.process_chunk(created.id, engine=engine)
    _job, reviewed = cluster_review.load_review(created.id, engine=engine)
    merge = cluster_review.start_merge(reviewed, created.id, created_by="analyst", engine=engine)
    drive.run_to_completion(merge.id, engine=engine)  # {w, x} merged while Claude works

    drive.run_to_completion(created.id, engine=engine)

    _job, reviewed = cluster_review.load_review(created.id, engine=engine)
    states = sorted((r.state, r.cluster.winner, tuple(i for i, _ in r.cluster.losers))
                    for r in reviewed)
    assert states == [("merged", w, (x,)), ("open", w, (late,))]
