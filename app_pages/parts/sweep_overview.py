"""The top of the Dedup Clusters screen: which sweep, its figures, its score histogram, and
how analysts' decisions and Claude's verdicts fall by score band.
"""

from datetime import UTC, datetime

import streamlit as st

from jobcore.dedup import cluster_review
from jobcore.dedup.review_figures import ReviewFigures
from jobcore.dedup.sweep_result import SweepCursor, SweepResult, verification_caption
from jobcore.dedup.thresholds import DEFAULT_MATCHING, DEFAULT_THRESHOLDS
from jobcore.jobs import runner
from jobcore.jobs.store import Job, JobSummary
from jobcore.ui.charts import is_paused
from jobcore.ui.dedup import agreement_frame, bands_frame, histogram_figure


def pick_sweep() -> str:
    """The sweep to review (from the URL's ``job`` when it names one), kept in the URL;
    stops the page when no sweep has run.
    """
    sweeps = [j for j in runner.list_jobs(job_type="dedup_sweep", limit=100)
              if j.processed_items > 0]
    if not sweeps:
        st.info("No dedup sweep has run yet. Create a **dedup_sweep** job on the Jobs page "
                "(or from a completed reclassify job's detail: *Dedup sweep these topics*), "
                "run it, and review its clusters here.")
        st.stop()
    ids = [j.id for j in sweeps]
    wanted = st.query_params.get("job")
    if wanted is not None and wanted not in ids:
        st.warning(f"{wanted[:80]!r} is not a dedup sweep that has swept topics (of the "
                   "latest 100): showing the newest one instead.")
    labels = {j.id: _label(j) for j in sweeps}
    sweep_id = st.selectbox("Sweep", ids, index=ids.index(wanted) if wanted in ids else 0,
                            format_func=labels.get)
    if sweep_id != wanted:
        st.query_params.pop("cluster", None)  # a cluster of the sweep the URL named
    st.query_params["job"] = sweep_id
    return sweep_id


def _state(job: JobSummary) -> str:
    """The sweep's status as the job list says it: 'paused' for one nobody drives."""
    return "paused" if is_paused(job, datetime.now(UTC), driven_here=False) else job.status


def _label(job: JobSummary) -> str:
    """'job_… · hybrid ≥ 0.60 · Sports · completed 800/800 swept' (not a bare id)."""
    matching = job.config.get("matching", DEFAULT_MATCHING)
    threshold = job.config.get("threshold") or DEFAULT_THRESHOLDS[matching]
    scope = job.config.get("parentCategoryFilter") or (
        f"topics of {job.config['sourceBatchId']}" if job.config.get("sourceBatchId")
        else "whole catalogue")
    done = "swept and verified" if job.config.get("verify") == "claude" else "swept"
    return (f"{job.id} · {matching} ≥ {threshold:.2f} · {scope} · {_state(job)} "
            f"{job.processed_items:,}/{job.total_items:,} {done} · "
            f"{job.created_at:%Y-%m-%d %H:%M}")


def figures(job: Job, result: SweepResult, counted: ReviewFigures) -> None:
    """Clusters, duplicates, open ones, threshold and search; the verification's progress
    and a note while the sweep still runs (``counted``: the listed clusters' figures).
    """
    cols = st.columns(5)
    cols[0].metric("Clusters", f"{len(counted.numbers):,}")
    cols[1].metric("Duplicates", f"{int(counted.sizes.sum()):,}",
                   help="Losers: topics that a merge folds (or folded) into a winner, with "
                        "your edits and not-duplicates marks applied")
    cols[2].metric("Open", f"{int(counted.mergeable.sum()):,}",
                   help="Clusters not merged yet with a loser left")
    cols[3].metric("Threshold", f"{result.threshold or 0.0:.3f}")
    cols[4].metric("Search", result.search or "–",
                   help="How candidates were found. lexical (hybrid matching): every name of "
                        "the same market and subject alike enough to reach the threshold; "
                        "exact (semantic, small catalogues): every vector compared; hnsw "
                        "(semantic): pgvector's index")
    if result.verification is not None:
        submitted = SweepCursor.of(job.cursor).submitted
        st.caption(verification_caption(result.verification, submitted,
                                        finished=job.is_finished))
    if job.status != "completed":
        what = ("topics swept and pairs verified" if job.config.get("verify") == "claude"
                else "topics swept")
        state = _state(job)
        now = {"processing": "the list grows as it runs.",
               "paused": "nobody drives it; the list holds what it found so far (Run on its "
                         "job page goes on).",
               "pending": "nobody has run it yet (Run on its job page)."}.get(
                   state, "the list holds what it found before it stopped.")
        st.warning(f"This sweep is {state} ({job.processed_items:,} of {job.total_items:,} "
                   f"{what}): {now}")
    figure = histogram_figure(result)
    if figure is not None:
        st.plotly_chart(figure, width="stretch")
    if counted.numbers and result.threshold is not None and result.threshold < 1.0:
        _try_a_threshold(result.threshold, counted)


def _try_a_threshold(threshold: float, counted: ReviewFigures) -> None:
    """What a higher threshold would keep of these clusters (a lower one needs a sweep:
    the histogram above counts the topics it would add).
    """
    tried = st.slider("Try a higher threshold", min_value=round(threshold, 2), max_value=1.0,
                      value=round(threshold, 2), step=0.01, key="tried_threshold",
                      help="Counted on this sweep's clusters as they stand (with your edits)")
    clusters, duplicates = counted.clusters_kept_at(tried)
    st.caption(f"At {tried:.2f}: {clusters:,} of {len(counted.numbers):,} clusters keep a "
               f"duplicate ({duplicates:,} of {int(counted.sizes.sum()):,} duplicates).")


def decisions_by_band(job: Job, result: SweepResult, matching_mode: str) -> None:
    """Analysts' decisions by score band, and Claude's verdicts against them."""
    bands = bands_frame(cluster_review.decisions_by_band(matching_mode), result.threshold)
    with st.expander(f"Analysts' decisions by score band (all {matching_mode} sweeps)",
                     expanded=not bands.empty):
        if bands.empty:
            st.caption("No proposed pairs yet.")
        else:
            st.caption("Every pair a sweep proposed (a loser and its winner) becomes a label "
                       "when it is merged or marked not duplicates. The precision in a band "
                       "is the share of its decided pairs that were merged: choose the "
                       "threshold where it is still high enough.")
            st.dataframe(bands, hide_index=True, width="stretch")
    agreement = agreement_frame(cluster_review.claude_agreement_by_band(matching_mode))
    if agreement.empty and job.config.get("verify") != "claude":
        return
    with st.expander(f"Claude's verdicts against analysts' decisions (all {matching_mode} "
                     "sweeps)"):
        if agreement.empty:
            st.caption("Claude has not verified a pair yet.")
        else:
            st.caption("Pairs a sweep was unsure of (scoring below its threshold) that "
                       "Claude was asked about. Agreement: of the pairs analysts later "
                       "merged or marked not duplicates, the share decided as Claude said (a "
                       "pair it called different is not proposed, so only a merge by hand "
                       "decides it).")
            st.dataframe(agreement, hide_index=True, width="stretch")
