"""Build the client of a platform from settings and an organisation's credentials."""

from __future__ import annotations

from functools import lru_cache

import httpx

from jobcore.activations.credentials import PlatformCredentials
from jobcore.activations.platforms.base import PlatformClient
from jobcore.activations.platforms.liveramp import LiveRampClient
from jobcore.activations.platforms.trade_desk import TradeDeskClient
from jobcore.config import get_settings
from jobcore.http import RetryPolicy


@lru_cache(maxsize=4)
def _shared_client(timeout: float) -> httpx.Client:
    return httpx.Client(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=32))


def http_client() -> httpx.Client:
    """The process-wide keep-alive HTTP client (thread-safe; building one costs an SSL
    context and new connections, so chunks share it).
    """
    return _shared_client(get_settings().platform_timeout_seconds)


def client_for(platform: str, credentials: PlatformCredentials,
               http: httpx.Client) -> PlatformClient:
    settings = get_settings()
    policy = RetryPolicy(retries=settings.platform_retries)
    if platform == "liveramp":
        return LiveRampClient(settings.liveramp_base_url, credentials, http, policy=policy)
    if platform == "the_trade_desk":
        return TradeDeskClient(settings.trade_desk_base_url, credentials, http, policy=policy)
    raise ValueError(f"unknown platform {platform!r}")
