"""Tables and the score histogram of the Dedup Clusters screen (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from pandas.io.formats.style import Styler

from jobcore.dedup import proposals, thresholds
from jobcore.dedup.calibration import BandAgreement, BandOutcome
from jobcore.dedup.cluster_review import Member, ReviewedCluster
from jobcore.dedup.explain import PairExplanation
from jobcore.dedup.sweep_result import SweepResult
from jobcore.ui.charts import count_axis

_EVIDENCE = ("Score", "Semantic", "Lexical", "Shared identifiers", "Only one has",
             "Claude")  # vs the winner
_FIELDS = (*_EVIDENCE, "Name", "Description", "Classification", "Segment type",
           "Audience type", "Org links", "Activations", "Created")
_DIFFERENT = "background-color: #fff3bf"
CLUSTERS_PER_PAGE = 50  # rows of the clusters table (and choices of the Cluster box)


def clusters_frame(clusters: list[ReviewedCluster], names: Mapping[int, str], *,
                   verified: bool = False, current: int | None = None) -> pd.DataFrame:
    """One row per cluster, weakest link first (the order given), ``names`` by topic id;
    with ``verified`` (a sweep that asked Claude) how many of its losers Claude verified;
    the ``current`` cluster (the one under review) marked in the first column.
    """
    rows = []
    for r in clusters:
        rows.append({
            "": "▶" if r.number == current else "",
            "#": r.number,
            "Winner": names.get(r.cluster.winner, f"topic {r.cluster.winner}"),
            "Losers": ", ".join(names.get(i, str(i)) for i, _ in r.cluster.losers),
            "Members": len(r.cluster.members),
            "Weakest link": r.weakest,
            "Claude": _verified_count(r.cluster),
            "State": r.state + (" (edited)" if r.edited else ""),
            "Review": review_text(r),
        })
    columns = ["", "#", "Winner", "Losers", "Members", "Weakest link", "Claude", "State",
               "Review"]
    return pd.DataFrame(rows, columns=columns if verified
                        else [c for c in columns if c != "Claude"])


def review_text(r: ReviewedCluster, *, when: bool = False) -> str:
    """Analysts' last decision on the cluster: 'accepted · ana' (with ``when``: 'Accepted by
    ana, 2026-12-06 14:02 UTC'); '' when nobody decided anything on it.
    """
    d = r.decision
    if d.decided_by is None:
        return ""
    what = "accepted" if d.accepted else "edited" if d.changes else "looked at"
    if not when or d.decided_at is None:
        return f"{what} · {d.decided_by}"
    at = d.decided_at.astimezone(UTC)
    return f"{what.capitalize()} by {d.decided_by}, {at:%Y-%m-%d %H:%M} UTC"


def _verified_count(cluster: proposals.Cluster) -> str:
    """'1 verified' when Claude verified losers of the cluster (below the threshold)."""
    verified = sum(1 for i, _ in cluster.losers
                   if i in cluster.evidence and cluster.evidence[i].claude is not None)
    return f"{verified} verified" if verified else ""


def claude_text(verdict: proposals.ClaudeVerdict | None, score: float | None = None,
                threshold: float | None = None) -> str:
    """How the comparison shows Claude's verdict on a loser (scored ``score`` against the
    winner shown, of a sweep at ``threshold``).
    """
    if verdict is None:
        if score is not None and threshold is not None and score < threshold:
            return "not asked about this winner (an analyst chose it)"
        return "not asked (at or above the threshold)"
    when = ", in an earlier sweep" if verdict.earlier else ""
    return f"Claude{when}: the same ({verdict.confidence:.0%} sure): {verdict.reason}"


def cluster_label(r: ReviewedCluster, names: Mapping[int, str]) -> str:
    """'#17 · Education Jobs Hobbyists - SE': the cluster's number and the winner the sweep
    proposed. The same whatever the edits: a keyed selectbox keeps its choice by this label,
    so a label that changed with Make winner lost the cluster under review.
    """
    return f"#{r.number} · {names.get(r.proposed_winner, r.proposed_winner)}"


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _values(member: Member, score: float | None, evidence: proposals.Evidence | None,
            winner: Member, threshold: float | None = None) -> dict[str, Any]:
    if score is None:
        why = dict.fromkeys(_EVIDENCE, "winner")
    else:
        if evidence is None:  # a cluster proposed before evidence was kept: the names' part
            evidence = proposals.pair_evidence(winner.name, member.name, None, None)
        why = {"Score": f"{score:.3f}", "Semantic": _score(evidence.semantic),
               "Lexical": _score(evidence.lexical),
               "Shared identifiers": ", ".join(evidence.shared) or "none",
               "Only one has": ", ".join(evidence.unshared) or "none",
               "Claude": claude_text(evidence.claude, score, threshold)}
    return {
        **why,
        "Name": member.name,
        "Description": member.description or "",
        "Classification": member.classification,
        "Segment type": member.segment_type or "",
        "Audience type": member.audience_type or "",
        "Org links": ", ".join(member.org_links) or "none",
        "Activations": ", ".join(member.activations) or "none",
        "Created": f"{member.created_at:%Y-%m-%d}",
    }


def comparison_frame(r: ReviewedCluster, details: dict[int, Member], *,
                     verified: bool = False, threshold: float | None = None) -> pd.DataFrame:
    """The members side by side (a column each, the winner first), a row per field; the
    first rows say why each member matched the winner (its score; the embeddings' and the
    names' similarity; the identifiers both names carry and those only one does; with
    ``verified``, a sweep that asked Claude, its verdict).
    """
    winner = details[r.cluster.winner]
    # the id first: names that differ in a letter or a provider path cut off the same way
    columns = {f"#{r.cluster.winner} (winner) · {winner.name}":
               _values(winner, None, None, winner)}
    for topic_id, score in r.cluster.losers:
        columns[f"#{topic_id} · {details[topic_id].name}"] = _values(
            details[topic_id], score, r.cluster.evidence.get(topic_id), winner, threshold)
    frame = pd.DataFrame(columns, index=list(_FIELDS))
    return frame if verified else frame.drop(index="Claude")


def highlight_differences(frame: pd.DataFrame) -> Styler:
    """Cells that differ from the winner's (first column) are highlighted, case included
    (an analyst merging two spellings wants to see which one stays)."""
    def styles(data: pd.DataFrame) -> pd.DataFrame:
        winner = data.iloc[:, 0]
        marks = pd.DataFrame("", index=data.index, columns=data.columns)
        for column in data.columns[1:]:
            differs = data[column].astype(str) != winner.astype(str)
            differs[[f for f in _EVIDENCE if f in differs.index]] = False
            marks.loc[differs, column] = _DIFFERENT
        return marks

    return frame.style.apply(styles, axis=None)


def differing_fields(frame: pd.DataFrame) -> list[str]:
    """The fields where some member differs from the winner (case included)."""
    winner = frame.iloc[:, 0].astype(str)
    return [f for f in frame.index if f not in _EVIDENCE and any(
        frame[c].astype(str)[f] != winner[f] for c in frame.columns[1:])]


def bands_frame(outcomes: list[BandOutcome], threshold: float | None) -> pd.DataFrame:
    """One row per score band that holds a proposed pair, highest first: the analysts'
    merges and refusals there and the precision they imply.
    """
    rows = []
    for band in reversed(outcomes):
        if not band.proposed:
            continue
        decided = band.merged + band.marked_apart
        rows.append({
            "Score band": f"{band.low:.2f}–{band.high:.2f}"
                          + (" (threshold)" if threshold is not None
                             and band.low <= threshold < band.high else ""),
            "Proposed pairs": band.proposed, "Merged": band.merged, "Refused": band.marked_apart,
            "Undecided": band.undecided,
            "Precision": (f"{band.precision:.0%} of {decided:,} decided"
                          if band.precision is not None else "no decisions yet"),
        })
    return pd.DataFrame(rows, columns=["Score band", "Proposed pairs", "Merged", "Refused",
                                       "Undecided", "Precision"])


def agreement_frame(agreements: list[BandAgreement]) -> pd.DataFrame:
    """One row per score band Claude was asked about, highest first: its verdicts and how
    often the analysts' later decisions agreed.
    """
    rows = []
    for band in reversed(agreements):
        rows.append({
            "Score band": f"{band.low:.2f}–{band.high:.2f}",
            "Claude: same": band.said_same,
            "merged": band.same_merged, "refused": band.same_marked_apart,
            "Claude: different": band.said_different,
            "merged anyway": band.different_merged,
            "Agreement": (f"{band.agreement:.0%} of {band.decided:,} decided"
                          if band.agreement is not None else "no decisions yet"),
        })
    return pd.DataFrame(rows, columns=["Score band", "Claude: same", "merged", "refused",
                                       "Claude: different", "merged anyway", "Agreement"])


def histogram_figure(result: SweepResult) -> go.Figure | None:
    """Each swept topic's closest allowed neighbour, binned, with the threshold marked and,
    on the right axis, how many topics would have a duplicate at each threshold.
    """
    histogram = result.histogram
    if histogram is None:
        return None
    start, step, counts = histogram.start, histogram.step, histogram.counts
    lefts = [round(start + i * step, 4) for i in range(len(counts))]
    at_or_above = [sum(counts[i:]) for i in range(len(counts))]
    threshold = result.threshold if result.threshold is not None else 0.95
    figure = go.Figure()
    figure.add_bar(x=[x + step / 2 for x in lefts], y=counts, width=step * 0.95,
                   name="topics by closest neighbour", marker_color="#4c6ef5",
                   hovertemplate="score %{x:.3f}: %{y:,} topics<extra></extra>")
    figure.add_scatter(x=lefts, y=at_or_above, yaxis="y2", mode="lines", line_shape="hv",
                       name="topics with a duplicate at ≥ x", line={"color": "#e8590c"},
                       hovertemplate="threshold %{x:.3f}: %{y:,} topics<extra></extra>")
    figure.add_vline(x=threshold, line_dash="dash", line_color="#c92a2a",
                     annotation_text=f"threshold {threshold:.3f}")
    if result.verification is not None:  # the pairs scoring in its band went to Claude
        low, high = result.verification.band
        figure.add_vrect(x0=low, x1=high, fillcolor="#ffe066", opacity=0.25,
                         line_width=0, annotation_text="Claude verifies",
                         annotation_position="top left")
    figure.update_layout(
        height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10}, bargap=0,
        title="Closest neighbour of each swept topic"
              + (f" ({histogram.below:,} below {start:.2f} not shown)"
                 if histogram.below else ""),
        xaxis={"title": f"{result.matching or 'semantic'} score", "range": [start, 1.0]},
        yaxis={"title": "topics", **count_axis(max(counts, default=1))},
        yaxis2={"title": "at ≥ threshold", "overlaying": "y", "side": "right",
                "showgrid": False, **count_axis(max(at_or_above, default=1))},
        legend={"orientation": "h", "y": -0.25})
    return figure


def score_caption(mode: str, threshold: float) -> str:
    """How a sweep's score is made, for the review screen."""
    if mode == thresholds.SEMANTIC:
        return (f"Score: the cosine similarity of the two topics' embeddings (semantic "
                f"matching); a pair is proposed from {threshold:.2f}.")
    weight = thresholds.SEMANTIC_WEIGHT
    return (f"Score = {weight:.2f} × semantic (cosine of the embeddings of each segment: its "
            f"leaf, parent and market) + {1 - weight:.2f} × lexical (character trigrams of "
            "the leaves as read: bands, generations and model codes in one notation, "
            f"abbreviations expanded); a pair is proposed from {threshold:.2f} when no guard "
            "refuses it (market, bands, generation, gender, framing, qualifiers, codes, "
            "versions, numbers, parent and child) and both names are about the same thing. "
            "Ask about any two topics under *Why not?*.")


def explanation_lines(found: PairExplanation) -> list[str]:
    """The answer to "Why not?" for two topics, line by line (markdown)."""
    return [
        f"**{found.verdict()}**",
        f"#{found.a.id} · {found.a.name}  ↔  #{found.b.id} · {found.b.name}",
        f"`{found.arithmetic()}` (threshold {found.threshold:.2f}, {found.mode} matching)",
        f"Read as: `{found.reading[0]}`  ↔  `{found.reading[1]}`",
    ]
