"""The Dedup Clusters page in AppTest: review, change a winner, remove, not duplicates,
start a merge."""

from __future__ import annotations

import sqlalchemy as sa

from jobcore.jobs import detail as job_detail
from jobcore.jobs import drive, runner
from jobcore.schema import not_duplicate_pairs
from jobcore.ui.forms import plural
from tests.fakes.anthropic_batches import pair_verdicts

DEDUP = "app_pages/dedup.py"


def _sweep(engine) -> str:
    created = runner.create_job("dedup_sweep", {}, engine=engine)
    drive.run_to_completion(created.id, engine=engine)
    return created.id


def _select(at, label: str):
    return next(s for s in at.selectbox if s.label == label)


def _table(at, holding: str):
    """The first table with this column (or row)."""
    return next(d.value for d in at.dataframe
                if holding in d.value.columns or holding in d.value.index)


def test_without_sweeps_the_page_says_how_to_start(open_app):
    at = open_app(DEDUP)
    assert not at.exception
    assert any("No dedup sweep has run yet" in i.value for i in at.info)


def test_lists_clusters_weakest_first_with_histogram_and_comparison(open_demo_app,
                                                                    demo_engine):
    sweep_id = _sweep(demo_engine)
    at = open_demo_app(DEDUP, job=sweep_id)
    assert not at.exception
    result = runner.get_job(sweep_id).result
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Clusters"] == f"{len(result['clusters']):,}"
    assert metrics["Threshold"] == "0.600"
    table = _table(at, "Weakest link")
    assert len(table) == len(result["clusters"])
    assert table["Weakest link"].is_monotonic_increasing
    assert len(at.get("plotly_chart")) == 1
    bands = _table(at, "Score band")
    assert bands["Proposed pairs"].sum() == result["duplicateCount"]
    assert set(bands["Precision"]) == {"no decisions yet"}
    comparison = _table(at, "Score")
    assert list(comparison.index[:6]) == ["Score", "Semantic", "Lexical", "Shared identifiers",
                                          "Only one has", "Name"]
    assert comparison.iloc[0, 0] == "winner"


def test_change_winner_remove_and_not_duplicates_then_merge(open_demo_app, demo_engine,
                                                            button):
    sweep_id = _sweep(demo_engine)
    at = open_demo_app(DEDUP, job=sweep_id)
    cluster_box = _select(at, "Cluster")
    first = cluster_box.value
    proposed = runner.get_job(sweep_id).result["clusters"][first - 1]
    loser = proposed["losers"][0]["id"]

    _select(at, "Winner").set_value(loser).run()
    button(at, "Make winner").click().run()
    assert not at.exception
    assert _select(at, "Cluster").value == first  # the review keeps its place
    assert "(winner)" in _table(at, "Score").columns[0]
    assert f"#{loser} (winner)" in _table(at, "Score").columns[0]
    assert "edited" in _table(at, "Weakest link").set_index("#").loc[first, "State"]

    # another cluster: mark its first loser "not duplicates" with its winner
    other = next(n for n in cluster_box.options if int(n.split(" ")[0][1:]) != first)
    other_number = int(other.split(" ")[0][1:])
    _select(at, "Cluster").set_value(other_number).run()
    other_cluster = runner.get_job(sweep_id).result["clusters"][other_number - 1]
    other_loser = other_cluster["losers"][0]["id"]
    _select(at, "Member").set_value(other_loser).run()
    button(at, "Not duplicates").click().run()  # asks first
    assert not runner.list_jobs(job_type="merge")
    button(at, "Mark not duplicates").click().run()
    assert not at.exception
    assert _select(at, "Cluster").value == other_number
    with demo_engine.connect() as conn:
        pairs = conn.execute(sa.select(not_duplicate_pairs.c.low_topic_id,
                                       not_duplicate_pairs.c.high_topic_id)).all()
    assert [tuple(p) for p in pairs] == [tuple(sorted((other_cluster["winner"], other_loser)))]
    bands = _table(at, "Score band")
    assert bands["Refused"].sum() == 1 and bands["Merged"].sum() == 0
    assert any(p.startswith("0% of 1 decided") for p in bands["Precision"])

    at.multiselect[0].set_value([first]).run()
    button(at, "Merge 1 cluster").click().run()
    assert not at.exception
    merges = runner.list_jobs(job_type="merge")
    assert len(merges) == 1
    config = runner.get_job(merges[0].id).config
    assert config["sourceSweepId"] == sweep_id
    assert config["clusters"][0]["winner"] == loser
    assert proposed["winner"] in [m["id"] for m in config["clusters"][0]["losers"]]


def test_keyboard_speed_review_accept_next_open_select_all_and_undo(open_demo_app, demo_engine,
                                                                   button):
    sweep_id = _sweep(demo_engine)
    at = open_demo_app(DEDUP, job=sweep_id)
    first = _select(at, "Cluster").value
    from jobcore.dedup import cluster_review

    total = len(cluster_review.load_review(sweep_id, engine=demo_engine)[1])
    assert any(f"0 of {total} clusters reviewed" in p.text for p in at.get("progress"))
    button(at, "Accept").click().run()  # ticked for the merge, on to the next open one
    assert not at.exception
    assert at.multiselect[0].value == [first]
    second = _select(at, "Cluster").value
    assert second != first
    assert any(f"1 of {total} clusters reviewed" in p.text for p in at.get("progress"))
    button(at, "Previous").click().run()
    assert _select(at, "Cluster").value == first

    # not duplicates, then undone from the screen
    _select(at, "Cluster").set_value(second).run()
    winner = runner.get_job(sweep_id).result["clusters"][second - 1]["winner"]
    loser = runner.get_job(sweep_id).result["clusters"][second - 1]["losers"][0]["id"]
    _select(at, "Member").set_value(loser).run()
    button(at, "Not duplicates").click().run()
    assert any("as different segments?" in w.value for w in at.warning)
    button(at, "Keep them").click().run()  # changed their mind: nothing is marked
    assert not any("as different segments?" in w.value for w in at.warning)
    button(at, "Not duplicates").click().run()
    button(at, "Mark not duplicates").click().run()
    assert [c for c in at.caption if "Marked not duplicates" in c.value]
    assert not any(f"#{loser}" in column for column in _table(at, "Score").columns)
    undo = next(b for b in at.button if b.label == "Undo")
    undo.click().run()
    assert not at.exception
    with demo_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(
            not_duplicate_pairs)).scalar_one() == 0
    assert any(f"#{loser}" in column for column in _table(at, "Score").columns)  # back
    assert not [c for c in at.caption if "Marked not duplicates" in c.value]
    assert winner != loser

    button(at, "Select all open").click().run()  # raised StreamlitAPIException before
    assert not at.exception
    _, reviewed = cluster_review.load_review(sweep_id, engine=demo_engine)
    opened = sum(r.mergeable for r in reviewed)
    assert any(f"All {opened} open clusters are selected" in i.value for i in at.info)
    assert any(b.label == f"Merge {opened} clusters" for b in at.button)
    button(at, "Choose instead").click().run()  # back to ticking clusters one by one
    assert at.multiselect[0].value == [first]


def test_a_merge_with_another_winner_and_a_member_removed_reads_as_decided(open_demo_app,
                                                                           demo_engine):
    """After the merge the review shows the winner it was merged into and no longer lists
    or counts the member taken out (the screen forgot both edits once merged).
    """
    from jobcore.dedup import cluster_decisions, cluster_review

    sweep_id = _sweep(demo_engine)
    _, reviewed = cluster_review.load_review(sweep_id, engine=demo_engine)
    cluster = next(r for r in reviewed if r.mergeable and len(r.cluster.losers) >= 2)
    new_winner, removed = cluster.cluster.losers[0][0], cluster.cluster.losers[1][0]
    for action, topic in ((cluster_decisions.WINNER, new_winner),
                          (cluster_decisions.REMOVE, removed)):
        cluster_review.record_decision(sweep_id, cluster.number, action, topic, by="ana",
                                       engine=demo_engine)
    _, edited = cluster_review.load_review(sweep_id, engine=demo_engine)
    merge = cluster_review.start_merge([r for r in edited if r.number == cluster.number],
                                       sweep_id, created_by="ana", engine=demo_engine)
    drive.run_to_completion(merge.id, engine=demo_engine)
    _, after = cluster_review.load_review(sweep_id, engine=demo_engine)
    merged = next(r for r in after if r.number == cluster.number)
    assert merged.state == cluster_review.MERGED
    assert merged.cluster.winner == new_winner and removed not in merged.cluster.members
    assert sum(r.state == cluster_review.STALE for r in after) == 0

    at = open_demo_app(DEDUP, job=sweep_id)
    duplicates = {m.label: m.value for m in at.metric}["Duplicates"]
    assert duplicates == f"{sum(len(r.cluster.losers) for r in after):,}"
    _select(at, "Cluster").set_value(cluster.number).run()
    columns = list(_table(at, "Score").columns)
    assert columns[0].startswith(f"#{new_winner} (winner)")
    assert not any(c.startswith(f"#{removed} ") for c in columns)
    assert any("already merged" in i.value for i in at.info)
    # the merge job numbers its clusters as the review did
    rows = job_detail.detail_tables(runner.get_job(merge.id))[0].rows
    assert [row["#"] for row in rows] == [cluster.number]


def _as(monkeypatch, user: str) -> None:
    from jobcore.config import get_settings

    monkeypatch.setenv("ADMIN_USER", user)
    get_settings.cache_clear()


def test_review_decisions_survive_a_reload_and_two_analysts_share_a_sweep(
        open_demo_app, demo_engine, button, monkeypatch):
    """Accept and Make winner are saved as made: a reload (a new session) finds them, a
    second analyst sees them with who decided, Next open skips them, and each analyst undoes
    only their own last decision.
    """
    sweep_id = _sweep(demo_engine)
    _as(monkeypatch, "ana")
    at = open_demo_app(DEDUP, job=sweep_id)
    first = _select(at, "Cluster").value
    button(at, "Accept").click().run()
    second = _select(at, "Cluster").value
    loser = runner.get_job(sweep_id).result["clusters"][second - 1]["losers"][0]["id"]
    _select(at, "Winner").set_value(loser).run()
    button(at, "Make winner").click().run()
    assert not at.exception

    reloaded = open_demo_app(DEDUP, job=sweep_id)  # a reload: a new session
    total = len(runner.get_job(sweep_id).result["clusters"])
    assert any(f"2 of {total} clusters reviewed" in p.text for p in reloaded.get("progress"))
    assert reloaded.multiselect[0].value == [first]
    _select(reloaded, "Cluster").set_value(second).run()
    assert _table(reloaded, "Score").columns[0].startswith(f"#{loser} (winner)")

    _as(monkeypatch, "bob")
    bob = open_demo_app(DEDUP, job=sweep_id)
    _select(bob, "Cluster").set_value(first).run()
    assert any(c.value.startswith("Accepted by ana, ") for c in bob.caption)
    review = _table(bob, "Weakest link").set_index("#")["Review"]
    assert review[first] == "accepted · ana" and review[second] == "edited · ana"
    button(bob, "Next open").click().run()
    assert _select(bob, "Cluster").value not in (first, second)
    button(bob, "Undo mine").click().run()  # bob decided nothing: ana's stay
    assert any("no decision on this sweep left to undo" in i.value for i in bob.info)

    _as(monkeypatch, "ana")
    button(at, "Undo mine").click().run()
    assert any(f"Undone: your winner on cluster #{second}" in m.value for m in at.success)
    assert _select(at, "Cluster").value == second
    assert not _table(at, "Score").columns[0].startswith(f"#{loser} ")


def test_a_verifying_sweep_shows_claudes_verdicts_and_the_agreement(open_demo_app,
                                                                     demo_engine,
                                                                     fake_anthropic):
    fake_anthropic.state.responder = pair_verdicts(lambda a, b: True)
    created = runner.create_job("dedup_sweep", {"verify": "claude"}, engine=demo_engine)
    drive.run_to_completion(created.id, engine=demo_engine)
    result = runner.get_job(created.id, engine=demo_engine).result
    pairs = result["verification"]["pairs"]
    assert pairs > 0  # the demo holds pairs scoring 0.50-0.60
    at = open_demo_app(DEDUP, job=created.id)
    assert not at.exception
    assert any(f"verified {plural(pairs, 'pair')} scoring 0.50–0.60" in c.value
               for c in at.caption)
    table = _table(at, "Weakest link")
    assert (table["Claude"] != "").sum() >= 1
    verified = int(table.loc[table["Claude"] != "", "#"].iloc[0])
    at.selectbox(key=f"cluster_{created.id}").set_value(verified).run()
    claude_row = _table(at, "Score").loc["Claude"].tolist()
    assert any(text.startswith("Claude: the same (90% sure)") for text in claude_row)
    agreement = _table(at, "Claude: same")
    assert agreement["Claude: same"].sum() == pairs
    assert set(agreement["Agreement"]) == {"no decisions yet"}


def test_why_not_explains_a_pair_and_names_the_refusing_rule(open_demo_app, demo_engine):
    with demo_engine.begin() as conn:
        near = conn.execute(sa.text(
            "SELECT topic_id, other_topic_id, kind FROM demo_near_misses "
            "WHERE kind IN ('income', 'age', 'market') ORDER BY topic_id LIMIT 1")).one()
    sweep_id = _sweep(demo_engine)
    at = open_demo_app(DEDUP, job=sweep_id)
    assert any(c.value.startswith("Score = 0.25 × semantic") for c in at.caption)
    first, second = (t for t in at.text_input if t.label in ("First topic", "Second topic"))
    first.set_value(f"#{near.topic_id}")
    second.set_value(str(near.other_topic_id))
    next(b for b in at.button if b.label == "Explain").click().run()
    assert not at.exception
    said = [m.value for m in at.markdown]
    reason = {"income": "different bands", "age": "different bands",
              "market": "different markets"}[near.kind]
    assert any(s.startswith(f"**Not proposed: {reason}") for s in said), said
    assert any("score = 0.25 ×" in s and "lexical =" in s for s in said)
    second.set_value("no such topic at all").run()
    next(b for b in at.button if b.label == "Explain").click().run()
    assert any("No live topic is named 'no such topic at all'" in e.value for e in at.error)


def test_a_large_sweep_shows_a_page_of_clusters_that_follows_the_review(
        open_demo_app, demo_engine, button, monkeypatch):
    from jobcore.dedup import cluster_review
    from jobcore.ui import dedup as dedup_ui

    monkeypatch.setattr(dedup_ui, "CLUSTERS_PER_PAGE", 3)
    sweep_id = _sweep(demo_engine)
    reviewed = cluster_review.load_review(sweep_id, engine=demo_engine)[1]
    assert len(reviewed) > 6
    at = open_demo_app(DEDUP, job=sweep_id)
    assert _table(at, "Winner")["#"].tolist() == [r.number for r in reviewed[:3]]
    assert [o.split(" ")[0] for o in _select(at, "Cluster").options] == [
        f"#{r.number}" for r in reviewed[:3]]
    assert any(f"Clusters 1-3 of {len(reviewed)}" in c.value for c in at.caption)
    for _ in range(3):  # Next goes on past the page, and the table follows
        button(at, "Next").click().run()
    assert _select(at, "Cluster").value == reviewed[3].number
    assert _table(at, "Winner")["#"].tolist() == [r.number for r in reviewed[3:6]]
    page = next(n for n in at.number_input if n.label == "Page")
    page.set_value(3).run()  # a page chosen: its first cluster is under review
    assert not at.exception
    assert _select(at, "Cluster").value == reviewed[6].number


def test_clusters_sort_by_size_and_a_higher_threshold_is_tried_on_the_screen(open_demo_app,
                                                                             demo_engine):
    from jobcore.dedup import cluster_review

    sweep_id = _sweep(demo_engine)
    _, reviewed = cluster_review.load_review(sweep_id, engine=demo_engine)
    at = open_demo_app(DEDUP, job=sweep_id)
    label = _select(at, "Sweep").options[0]
    assert "hybrid ≥ 0.60" in label and "whole catalogue" in label  # not a bare id
    at.selectbox(key="cluster_sort").set_value("largest first").run()
    sizes = _table(at, "Weakest link")["Members"].tolist()
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]
    at.slider(key="tried_threshold").set_value(0.9).run()
    kept = sum(1 for r in reviewed if any(s >= 0.9 for _, s in r.cluster.losers))
    assert any(c.value.startswith(f"At 0.90: {kept:,} of {len(reviewed):,} clusters")
               for c in at.caption)


def test_a_higher_threshold_tried_counts_the_clusters_and_duplicates_it_keeps(
        open_demo_app, demo_engine):
    sweep_id = _sweep(demo_engine)
    at = open_demo_app(DEDUP, job=sweep_id)
    clusters = runner.get_job(sweep_id).result["clusters"]
    total = sum(len(c["losers"]) for c in clusters)
    tried = next(s for s in at.slider if s.label == "Try a higher threshold")
    tried.set_value(0.8).run()
    assert not at.exception
    kept = [sum(1 for m in c["losers"] if m["score"] >= 0.8) for c in clusters]
    expected = (f"At 0.80: {sum(1 for k in kept if k):,} of {len(clusters):,} clusters keep a "
                f"duplicate ({sum(kept):,} of {total:,} duplicates).")
    assert any(c.value == expected for c in at.caption), [c.value for c in at.caption]
    assert 0 < sum(kept) < total  # the demo's scores straddle 0.8: the count means something
