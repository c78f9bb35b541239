"""The audit log: every action with who, when, what, through what and its outcome. The
application only appends to it: a trigger refuses UPDATE, and DELETE unless the retention
pruner says so (``SET LOCAL jobcore.audit_prune = 'on'``, AUDIT_RETENTION_DAYS).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        role text NOT NULL,
        via text NOT NULL,
        action text NOT NULL,
        target text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        outcome text NOT NULL,
        message text,
        CONSTRAINT audit_log_outcome_check CHECK (outcome IN ('done', 'refused', 'failed')),
        CONSTRAINT audit_log_via_check
            CHECK (via IN ('page', 'api', 'cli', 'worker', 'library')))""")
    op.execute("CREATE INDEX ix_audit_log_at ON audit_log (at)")
    op.execute("CREATE INDEX ix_audit_log_actor_at ON audit_log (actor, at)")
    op.execute("""
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND current_setting('jobcore.audit_prune', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
    END $$""")
    op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
               "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")


def downgrade() -> None:
    op.execute("DROP TABLE audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
