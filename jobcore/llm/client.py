"""The Anthropic client from settings, and which model an LLM job uses.

The SDK (about 1.5 s to import) is imported when a client is first made, so that a local
job, or a command that never calls Claude, does not pay for it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from jobcore.config import get_settings
from jobcore.errors import JobcoreError

if TYPE_CHECKING:
    import anthropic


class LLMUnavailable(JobcoreError):
    """The Anthropic API did not take the request (after the SDK's retries); the job is
    unchanged and the next call tries again.
    """

    transient = True


def client() -> anthropic.Anthropic:
    """The SDK client from settings (its own retries for 429 and 5xx), made once."""
    settings = get_settings()
    return _client(settings.anthropic_api_key, settings.anthropic_base_url,
                   settings.anthropic_max_retries)


@lru_cache(maxsize=4)
def _client(api_key: str | None, base_url: str | None, max_retries: int) -> anthropic.Anthropic:
    import anthropic

    return anthropic.Anthropic(api_key=api_key, base_url=base_url, max_retries=max_retries,
                               timeout=60.0)


def api_error() -> type[Exception]:
    """The SDK's APIError (for an ``except`` clause: evaluated only when something raised)."""
    import anthropic

    return anthropic.APIError


def model_of(config) -> str:
    """The model of an LLM job: its config's, else CLASSIFICATION_MODEL."""
    return config.model or get_settings().classification_model


def version_of(config) -> str:
    return f"llm:{model_of(config)}"
