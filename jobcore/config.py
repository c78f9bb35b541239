"""One typed settings object, read from the environment once.

No other module of the project reads ``os.environ``.
"""

from __future__ import annotations

import getpass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    admin_user: str = Field(default_factory=_default_user,
                            description="Who creates jobs when no sign-in is configured.")
    admin_emails: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="With [auth] in .streamlit/secrets.toml: e-mails let in as admins "
                    "(comma-separated in ADMIN_EMAILS).")
    unsafe_serve_without_signin: bool = Field(
        default=False,
        description="Without [auth] in .streamlit/secrets.toml the app serves only browsers "
                    "on its own machine. True lets anyone who can reach its port in, with "
                    "every right: for a trusted network only (UNSAFE_SERVE_WITHOUT_SIGNIN=1).")
    operator_emails: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="With sign-in: e-mails let in as operators (run and review jobs; "
                    "comma-separated in OPERATOR_EMAILS).")
    viewer_emails: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="With sign-in: e-mails let in as viewers (read and export only).")
    admin_groups: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="With sign-in: groups of the OIDC provider's 'groups' claim whose members "
                    "are admins (likewise OPERATOR_GROUPS, VIEWER_GROUPS).")
    operator_groups: Annotated[list[str], NoDecode] = Field(default_factory=list)
    viewer_groups: Annotated[list[str], NoDecode] = Field(default_factory=list)
    chunk_time_budget_seconds: float = Field(default=60.0, gt=0, le=600)
    page_slice_seconds: float = Field(
        default=0.7, ge=0, le=10,
        description="How long a Run from a job page drives chunks before the page shows "
                    "the progress again (0: one chunk per rerun). A Stop lands between two "
                    "chunks of a slice at the latest.")
    chunk_commit: Literal["durable", "fast"] = Field(
        default="durable",
        description="'durable': a chunk's commit waits for the WAL flush, so a chunk the "
                    "caller was told is done stays done after a server crash. 'fast' "
                    "(synchronous_commit off): the commit does not wait; a crash of the "
                    "server (not of a driver) can forget the last chunks acknowledged "
                    "within ~0.6 s (three WAL writer delays), whole, and the next call "
                    "does them again: a refresh_activations chunk then pushes to the "
                    "platform twice.")
    api_tokens: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="HTTP API tokens as owner:role:sha256hex entries (role: viewer, operator "
                    "or admin; owner:sha256hex is an operator's), comma-separated in "
                    "API_TOKENS (make one with: python -m jobcore api-token --owner NAME "
                    "--role ROLE).")
    liveramp_base_url: str = "https://api.liveramp.com"
    trade_desk_base_url: str = "https://api.thetradedesk.com"
    platform_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    platform_retries: int = Field(default=3, ge=0, le=10)
    platform_concurrency: int = Field(default=8, ge=1, le=32,
                                      description="Pushes in flight at once within a chunk.")
    embedding_provider: Literal["static", "torch", "local", "onnx", "openai"] = Field(
        default="static", description="static: all-MiniLM-L6-v2 distilled locally on first "
                                      "use into a static model (~100x faster than torch); "
                                      "torch (or local): all-MiniLM-L6-v2 in fp32 through "
                                      "sentence-transformers; onnx: the same model as an "
                                      "int8 ONNX Runtime model built locally on first use "
                                      "(~3-4x faster); openai: an OpenAI-compatible "
                                      "/embeddings endpoint.")
    embed_on_write: bool = Field(
        default=False, description="Writes re-embed the topics they change inside their "
                                   "chunk (waiting for the encoder). Off: they mark the "
                                   "embeddings stale, and a dedup sweep or `embed` "
                                   "refreshes them before anything searches.")
    embedding_base_url: str = "https://api.openai.com/v1"
    embedding_api_key: str | None = None
    embedding_model: str = "text-embedding-3-small"
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = Field(
        default=None, description="Anthropic API endpoint (unset: the SDK's default).")
    anthropic_max_retries: int = Field(default=3, ge=0, le=10,
                                       description="The SDK's retries of 429 and 5xx.")
    classification_model: str = "claude-sonnet-4-5"
    # Prices in US dollars (list prices; the batch discount applies to tokens).
    price_input_per_mtok: float = Field(default=3.0, ge=0)
    price_output_per_mtok: float = Field(default=15.0, ge=0)
    price_cache_read_per_mtok: float = Field(default=0.30, ge=0)
    price_cache_write_per_mtok: float = Field(default=3.75, ge=0)
    batch_discount: float = Field(default=0.5, gt=0, le=1,
                                  description="Share of the token price a batch pays.")
    price_web_search_per_thousand: float = Field(default=10.0, ge=0)
    credentials_key: str | None = None
    chunk_log_retention_days: int | None = Field(
        default=30, ge=1, le=36_500,
        description="Finished jobs keep their chunk log and staged LLM results this many "
                    "days after they ended ('never' keeps them); python -m jobcore prune "
                    "and the workers apply it.")
    job_retention_days: int | None = Field(
        default=None, ge=1, le=36_500,
        description="Finished jobs themselves (with their errors, events, chunk log and "
                    "batches, and a sweep's clusters) are removed this many days after they "
                    "ended, unless a job that may still run names them; unset or 'never' (the "
                    "default) keeps them. Topics keep their history and merges; a removed "
                    "job cannot be rolled back or undone.")
    audit_retention_days: int | None = Field(
        default=730, ge=1, le=36_500,
        description="The audit log keeps each action this many days ('never' keeps it "
                    "forever); pruned with the jobs. The application never edits it.")
    prune_every_seconds: float = Field(
        default=3600.0, gt=0, description="How often a worker applies the retention settings.")

    @field_validator("chunk_log_retention_days", "job_retention_days", "audit_retention_days",
                     mode="before")
    @classmethod
    def _never_is_none(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "never", "none"):
            return None
        return value

    @field_validator("admin_emails", "operator_emails", "viewer_emails", mode="before")
    @classmethod
    def _split_emails(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("api_tokens", "admin_groups", "operator_groups", "viewer_groups",
                     mode="before")
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
