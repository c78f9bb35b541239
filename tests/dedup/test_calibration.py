"""Per-band counts of the analysts' decisions: they follow merges, undos and not-duplicates
marks, per matching mode.
"""

from __future__ import annotations

from jobcore.dedup import cluster_review
from jobcore.dedup.calibration import BAND_START, BAND_WIDTH
from jobcore.dedup.follow_ups import UNDO_MERGE
from jobcore.jobs import drive, runner


def _run(engine, job_type: str, config: dict) -> str:
    created = runner.create_job(job_type, config, engine=engine)
    drive.run_to_completion(created.id, engine=engine)
    return created.id


def _band_of(score: float) -> float:
    return round(BAND_START + int((score - BAND_START) / BAND_WIDTH + 1e-9) * BAND_WIDTH, 4)


def _by_band(engine, mode: str = "hybrid") -> dict[float, tuple[int, int, int]]:
    return {b.low: (b.proposed, b.merged, b.marked_apart)
            for b in cluster_review.decisions_by_band(mode, engine=engine) if b.proposed}


def test_band_counts_follow_merges_undos_and_not_duplicate_marks(demo_engine):
    sweep_id = _run(demo_engine, "dedup_sweep", {})
    _job, reviewed = cluster_review.load_review(sweep_id, engine=demo_engine)
    proposed = sum(len(r.cluster.losers) for r in reviewed)
    before = _by_band(demo_engine)
    assert sum(p for p, _, _ in before.values()) == proposed
    assert all((m, r) == (0, 0) for _, m, r in before.values())
    assert _by_band(demo_engine, "semantic") == {}  # another scale, other sweeps

    merged, marked_apart = reviewed[0], reviewed[1]
    merge_id = cluster_review.start_merge([merged], sweep_id, created_by="analyst",
                                  engine=demo_engine).id
    drive.run_to_completion(merge_id, engine=demo_engine)
    loser, score = marked_apart.cluster.losers[0]
    cluster_review.mark_not_duplicates(loser, marked_apart.cluster.winner, created_by="analyst",
                               sweep_id=sweep_id, engine=demo_engine)
    after = _by_band(demo_engine)
    assert sum(m for _, m, _ in after.values()) == len(merged.cluster.losers)
    assert after[_band_of(score)][2] == 1 and sum(r for *_, r in after.values()) == 1
    for _, merged_score in merged.cluster.losers:
        assert after[_band_of(merged_score)][1] >= 1
    bands = cluster_review.decisions_by_band("hybrid", engine=demo_engine)
    decided = [b for b in bands if b.merged + b.marked_apart]
    assert all(b.precision == b.merged / (b.merged + b.marked_apart) for b in decided)

    undo_id = UNDO_MERGE.create(merge_id, engine=demo_engine).id
    drive.run_to_completion(undo_id, engine=demo_engine)
    undone = _by_band(demo_engine)
    assert sum(m for _, m, _ in undone.values()) == 0
    assert sum(r for *_, r in undone.values()) == 1
