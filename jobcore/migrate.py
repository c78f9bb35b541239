"""Apply the Alembic migrations in ``jobcore/migrations`` (automatically on start).

A process that finds its database at the newest revision (the everyday case) reads that
from ``alembic_version`` and the migration files' own ``revision`` lines, without importing
Alembic (a tenth of a second a command would pay for nothing).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it keeps two processes from migrating one database at once.
_MIGRATION_LOCK_KEY = 727_001
_REVISION = re.compile(r'^revision\s*=\s*"([^"]+)"', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision\s*=\s*(?:"([^"]+)"|None)', re.MULTILINE)


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration of this code base: the one revision no other revises."""
    revisions, revised = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text("utf-8")
        if (found := _REVISION.search(text)) is not None:
            revisions.add(found[1])
            down = _DOWN_REVISION.search(text)
            if down is not None and down[1]:
                revised.add(down[1])
    heads = revisions - revised
    if len(heads) != 1:
        raise RuntimeError(f"The migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT to_regclass('alembic_version')")).scalar() is None:
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the database to ``revision``; a no-op when it is there already."""
    if revision == "head" and current_revision(engine) == head_revision():
        return head_revision()
    from alembic import command

    config = _alembic_config()
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return current_revision(engine)
