"""Claude as a second reviewer (issue 17), first figure: tokens and dollars per pair when
one request asks about 1, 5, 10, 20 or 50 pairs, on the estimator (jobcore.llm.cost) with
the default prices.

In a fresh database on the configured server: the 2,000-topic demo, embedded, swept with
hybrid matching at threshold 0.50 (the lowest a sweep takes); the pairs it proposes are the
sample (those below the default threshold 0.60, the uncertain band, are counted apart: the
demo plants few). Each pair is asked about
with its topics' names, descriptions, classifications and evidence
(jobcore.dedup.verify_prompt). Prints, per pairs-a-request, the requests per 1,000 pairs,
the input and output tokens per pair, and the dollars per 1,000 pairs; then the cheapest.

    python bench/verify_tokens.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jobcore.catalog.demo import seed_demo  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.dedup import cluster_review, embeddings, thresholds  # noqa: E402
from jobcore.dedup.verify_prompt import (  # noqa: E402
    DEFAULT_PAIRS_PER_REQUEST,
    PairQuestion,
    PairTopic,
    verify_profile,
)
from jobcore.jobs import drive, runner  # noqa: E402
from jobcore.llm.cost import estimate  # noqa: E402

DATABASE = "jobcore_bench_verify"
TOPICS = 2000
BAND = (0.50, thresholds.DEFAULT_THRESHOLDS[thresholds.HYBRID])
PAIRS_PER_REQUEST = (1, 5, 10, 20, 50)


def _sample(engine) -> list[PairQuestion]:
    """The pairs a 0.50 sweep proposes, as questions."""
    sweep = runner.create_job("dedup_sweep", {"threshold": BAND[0]}, engine=engine)
    drive.run_to_completion(sweep.id, engine=engine)
    _, reviewed = cluster_review.load_review(sweep.id, engine=engine)
    details = cluster_review.load_members({m for r in reviewed for m in r.cluster.members},
                                  engine=engine)
    questions = []
    for r in reviewed:
        winner = details[r.cluster.winner]
        for loser_id, score in r.cluster.losers:
            loser = details[loser_id]
            questions.append(PairQuestion(
                PairTopic(winner.id, winner.name, winner.description, winner.classification),
                PairTopic(loser.id, loser.name, loser.description, loser.classification),
                score, r.cluster.evidence[loser_id]))
    return questions


def main() -> None:
    server = resolve_url()
    drop_database(server, DATABASE)
    engine = create_engine_for(create_database(server, DATABASE))
    try:
        seed_demo(engine, topics_count=TOPICS, seed=17)
        embeddings.refresh_all(engine, embeddings.get_provider())
        questions = _sample(engine)
    finally:
        engine.dispose()
        drop_database(server, DATABASE)
    in_band = sum(BAND[0] <= q.score < BAND[1] for q in questions)
    print(f"sample: {len(questions):,} pairs a 0.50 hybrid sweep of the {TOPICS:,}-topic demo "
          f"proposes ({in_band:,} of them scoring {BAND[0]:.2f}-{BAND[1]:.2f})")
    if not questions:
        return
    print(f"{'pairs/request':>13}  {'requests/1k pairs':>17}  {'input tok/pair':>14}  "
          f"{'output tok/pair':>15}  {'$ per 1k pairs':>14}")
    costs = {}
    for k in PAIRS_PER_REQUEST:
        profile = verify_profile(questions, k)
        requests = -(-1000 // k)
        cost = estimate(requests, profile)
        usage = cost.usage
        read = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
        costs[k] = cost.dollars
        print(f"{k:>13}  {requests:>17,}  {read / 1000:>14,.0f}  "
              f"{usage.output_tokens / 1000:>15,.0f}  {cost.dollars:>14.3f}")
    best = min(costs, key=costs.get)
    chosen = DEFAULT_PAIRS_PER_REQUEST
    print(f"cheapest: {best} pairs a request ({costs[best]:.3f} $ per 1,000 pairs, "
          f"{costs[1] / costs[best]:.1f}x cheaper than one a request); chosen default: "
          f"{chosen} ({costs[chosen]:.3f} $, {costs[1] / costs[chosen]:.1f}x cheaper than one, "
          f"a malformed answer loses {chosen} pairs); instructions {profile.system_tokens} "
          f"tokens, {'cached' if profile.cached else 'too short to cache'}")


if __name__ == "__main__":
    main()
