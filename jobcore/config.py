"""One typed settings object, read from the environment once.

No other module of the project reads ``os.environ``.
"""

from __future__ import annotations

import getpass
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "admin"


class Settings(BaseSettings):
    """Settings of the whole project; every field can be set by an environment variable."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str | None = Field(
        default=None, description="Any PostgreSQL 15+ with pgvector; unset -> embedded server."
    )
    data_dir: Path = Field(default=PROJECT_ROOT / ".data", description="Embedded database home.")
    admin_user: str = Field(default_factory=_default_user, description="Who creates jobs.")
    chunk_time_budget_seconds: float = Field(default=60.0, gt=0, le=600)
    stuck_after_minutes: float = Field(default=5.0, gt=0)
    anthropic_api_key: str | None = None
    classification_model: str = "claude-sonnet-4-5"
    credentials_key: str | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
