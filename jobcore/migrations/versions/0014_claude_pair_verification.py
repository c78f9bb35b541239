"""Claude as a second reviewer of uncertain duplicate pairs (dedup_sweep ``verify``).

- ``llm_batches.topic_ids`` becomes ``request_ids``: the custom ids of a batch's requests,
  a topic's id for reclassify and the node backfill, a request's number for a sweep's pair
  verification (one request asks about several pairs).
- ``dedup_verify_pairs``: the pairs of one sweep that scored in the verification band, a
  loser and its winner with the score and the evidence, the request that asks about them
  (its number and the pair's place in it) and what came back: ``pending`` until a verdict,
  then ``same``, ``different`` or ``failed`` (a malformed, errored or expired answer: never
  merged), or ``skipped`` (over the sweep's maxPairs, not sent).
- ``claude_pair_verdicts``: what Claude said about a pair, kept across sweeps so that no
  pair is asked twice; apart from ``not_duplicate_pairs`` (the analysts' marks).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE llm_batches RENAME COLUMN topic_ids TO request_ids")
    op.execute("""
    CREATE TABLE dedup_verify_pairs (
        job_id text NOT NULL REFERENCES admin_jobs(id) ON DELETE CASCADE,
        loser_topic_id bigint NOT NULL REFERENCES topics(id),
        winner_topic_id bigint NOT NULL REFERENCES topics(id),
        score double precision NOT NULL,
        evidence jsonb NOT NULL,
        request_no integer,
        position smallint,
        state text NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'same', 'different', 'failed', 'skipped')),
        confidence double precision,
        reason text,
        PRIMARY KEY (job_id, loser_topic_id)
    )""")
    op.execute("CREATE INDEX ix_dedup_verify_pairs_request "
               "ON dedup_verify_pairs (job_id, request_no)")
    op.execute("CREATE INDEX ix_dedup_verify_pairs_winner "
               "ON dedup_verify_pairs (job_id, winner_topic_id)")
    op.execute("""
    CREATE TABLE claude_pair_verdicts (
        low_topic_id bigint NOT NULL REFERENCES topics(id),
        high_topic_id bigint NOT NULL REFERENCES topics(id),
        same boolean NOT NULL,
        confidence double precision NOT NULL,
        reason text NOT NULL,
        score double precision NOT NULL,
        matching text NOT NULL,
        model text NOT NULL,
        job_id text REFERENCES admin_jobs(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (low_topic_id, high_topic_id),
        CHECK (low_topic_id < high_topic_id)
    )""")
    op.execute("CREATE INDEX ix_claude_pair_verdicts_high ON claude_pair_verdicts "
               "(high_topic_id)")


def downgrade() -> None:
    op.execute("DROP TABLE claude_pair_verdicts")
    op.execute("DROP TABLE dedup_verify_pairs")
    op.execute("ALTER TABLE llm_batches RENAME COLUMN request_ids TO topic_ids")
