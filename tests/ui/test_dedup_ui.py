"""Pure helpers of the Dedup Clusters screen: histogram, comparison, highlighting."""

from __future__ import annotations

from datetime import UTC, datetime

from jobcore.dedup import proposals
from jobcore.dedup.calibration import BandAgreement
from jobcore.dedup.cluster_review import OPEN, Member, ReviewedCluster
from jobcore.dedup.sweep_result import SweepResult
from jobcore.ui.dedup import (
    agreement_frame,
    clusters_frame,
    comparison_frame,
    differing_fields,
    highlight_differences,
    histogram_figure,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _member(topic_id: int, name: str, classification: str = "Interest > Sports",
            orgs: tuple[str, ...] = ()) -> Member:
    return Member(id=topic_id, name=name, merged_into=None, deleted=False,
                  description="Fans of it.", classification=classification,
                  segment_type="b2c", audience_type="interest", org_links=orgs,
                  activations=(), created_at=T0)


def test_histogram_marks_the_threshold_and_counts_topics_at_or_above():
    counts = [0] * 40
    counts[30], counts[39] = 5, 2  # 0.95-0.955 and 0.995-1.0
    figure = histogram_figure(SweepResult.of({"threshold": 0.95, "histogram": {
        "start": 0.8, "step": 0.005, "counts": counts, "below": 7}}))
    bars, cumulative = figure.data
    assert sum(bars.y) == 7
    assert cumulative.y[0] == 7 and cumulative.y[30] == 7 and cumulative.y[31] == 2
    assert figure.layout.shapes[0].x0 == 0.95
    assert "7 below 0.80" in figure.layout.title.text
    assert histogram_figure(SweepResult.of({})) is None
    verifying = histogram_figure(SweepResult.of({
        "threshold": 0.6, "verification": {"band": [0.5, 0.6]},
        "histogram": {"start": 0.5, "step": 0.0125, "counts": counts, "below": 0}}))
    assert (verifying.layout.shapes[1].x0, verifying.layout.shapes[1].x1) == (0.5, 0.6)


def test_comparison_highlights_what_differs_from_the_winner():
    details = {1: _member(1, "Golf Fans", orgs=("Acme",)),
               2: _member(2, "golf fans", classification="Interest > Golf")}
    evidence = proposals.pair_evidence("Golf Fans", "golf fans", 0.97, 1.0)
    reviewed = ReviewedCluster(1, proposals.Cluster(1, ((2, 0.991),), {2: evidence}), 1, OPEN,
                               False)
    frame = comparison_frame(reviewed, details)
    assert frame.columns[0] == "#1 (winner) · Golf Fans" and frame.loc["Score"].iloc[1] == "0.991"
    # a difference of case is one: which spelling stays matters to the analyst
    assert differing_fields(frame) == ["Name", "Classification", "Org links"]
    assert frame.loc["Semantic"].tolist() == ["winner", "0.970"]
    assert frame.loc["Lexical"].tolist() == ["winner", "1.000"]
    assert frame.loc["Shared identifiers"].iloc[1] == "none"
    styles = highlight_differences(frame)._compute().ctx
    name_row = list(frame.index).index("Name")
    assert styles[(name_row, 1)] and not styles.get((name_row, 0))  # the loser's name marked
    table = clusters_frame([reviewed], {i: m.name for i, m in details.items()})
    assert table.loc[0, "Winner"] == "Golf Fans" and table.loc[0, "Weakest link"] == 0.991
    assert table.loc[0, ""] == ""  # the one under review is marked
    assert clusters_frame([reviewed], {}, current=reviewed.number).loc[0, ""] == "▶"


def test_a_loser_claude_verified_shows_its_verdict_and_the_agreement_table():
    details = {1: _member(1, "Kayak Fans"), 2: _member(2, "Kayak Lovers"),
               3: _member(3, "Kayak Fans!")}
    verified = proposals.Evidence(0.93, 0.5, (), (),
                                 proposals.ClaudeVerdict(0.9, "Same people, other words."))
    earlier = proposals.Evidence(0.9, 0.5, (), (), proposals.ClaudeVerdict(0.8, "Same.", True))
    cluster = proposals.Cluster(1, ((3, 0.99), (2, 0.93), (4, 0.91)),
                               {2: verified, 3: proposals.pair_evidence("a", "b", 0.99, 1.0),
                                4: earlier})
    details[4] = _member(4, "Kayak Admirers")
    reviewed = ReviewedCluster(1, cluster, 1, OPEN, False)
    assert "Claude" not in comparison_frame(reviewed, details).index  # a sweep not verifying
    frame = comparison_frame(reviewed, details, verified=True)
    assert frame.loc["Claude"].tolist() == [
        "winner", "not asked (at or above the threshold)",
        "Claude: the same (90% sure): Same people, other words.",
        "Claude, in an earlier sweep: the same (80% sure): Same."]
    assert "Claude" not in differing_fields(frame)
    assert clusters_frame([reviewed], {i: m.name for i, m in details.items()},
                          verified=True).loc[0, "Claude"] == "2 verified"
    names = {i: m.name for i, m in details.items()}
    assert "Claude" not in clusters_frame([reviewed], names).columns

    table = agreement_frame([BandAgreement(0.85, 0.9, 1, 0, 0, 0, 0, 0),
                             BandAgreement(0.9, 0.95, 4, 2, 2, 1, 1, 0)])  # by band
    assert table["Score band"].tolist() == ["0.90–0.95", "0.85–0.90"]  # highest first
    assert table.loc[table["Score band"] == "0.90–0.95", "Agreement"].item() \
        == "50% of 4 decided"
    assert table.loc[table["Score band"] == "0.85–0.90", "Agreement"].item() \
        == "no decisions yet"


def test_count_axes_tick_whole_round_numbers():
    """The histogram's right axis read 26.9, 53.8, 80.7 topics."""
    from jobcore.ui.charts import count_axis

    assert [count_axis(n)["dtick"] for n in (3, 6, 11, 27, 80.7, 1000)] == [1, 2, 5, 10, 20, 200]
    counts = [0] * 40
    counts[39] = 81
    figure = histogram_figure(SweepResult.of({"threshold": 0.95, "histogram": {
        "start": 0.8, "step": 0.005, "counts": counts, "below": 0}}))
    for axis in (figure.layout.yaxis, figure.layout.yaxis2):
        assert axis.tickformat == ",d" and axis.dtick == 20 and axis.tick0 == 0
