"""LiveRamp: an OAuth client-credentials token (cached until shortly before it expires),
then segment create (POST /v2/segments) and update (PUT /v2/segments/{id}).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from jobcore.activations.credentials import PlatformCredentials
from jobcore.activations.platforms.base import SegmentPush, SegmentState
from jobcore.http import PlatformError, RetryPolicy, send

TOKEN_PATH = "/oauth/token"
SEGMENTS_PATH = "/v2/segments"
REFRESH_MARGIN_SECONDS = 60.0

_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_tokens_lock = threading.RLock()


def forget_tokens() -> None:
    """Drop every cached token (tests, and after credentials change)."""
    with _tokens_lock:
        _tokens.clear()


class LiveRampClient:
    platform = "liveramp"

    def __init__(self, base_url: str, credentials: PlatformCredentials, http: httpx.Client, *,
                 policy: RetryPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._base = base_url.rstrip("/")
        self._credentials = credentials
        self._http = http
        self._policy = policy or RetryPolicy()
        self._clock = clock

    def _token(self) -> str:
        key = (self._base, self._credentials.account_id)
        with _tokens_lock:  # held while fetching, so that concurrent pushes share one token
            cached = _tokens.get(key)
            if cached is not None and cached[1] > self._clock():
                return cached[0]
            return self._fetch_token(key)

    def _fetch_token(self, key: tuple[str, str]) -> str:
        try:
            response = send(self._http, self.platform, "POST", self._base + TOKEN_PATH,
                            policy=self._policy, data={
                                "grant_type": "client_credentials",
                                "client_id": self._credentials.account_id,
                                "client_secret": self._credentials.secret.get_secret_value(),
                            })
        except PlatformError as exc:
            if exc.status in (400, 401, 403):
                raise PlatformError(f"liveramp rejected the organisation's credentials "
                                    f"({exc.status}); check account {self._credentials.account_id}",
                                    status=exc.status) from None
            raise
        body = response.json()
        token, lifetime = body["access_token"], float(body.get("expires_in", 3600))
        _tokens[key] = (token, self._clock() + lifetime - REFRESH_MARGIN_SECONDS)
        return token

    def push(self, segment: SegmentPush) -> str:
        """Create the segment, or update it when it already has a LiveRamp id."""
        payload = {"name": segment.name, "description": segment.description or ""}
        headers = {"Authorization": f"Bearer {self._token()}"}
        if segment.external_id:
            send(self._http, self.platform, "PUT",
                 f"{self._base}{SEGMENTS_PATH}/{segment.external_id}", policy=self._policy,
                 json=payload, headers=headers)
            return segment.external_id
        response = send(self._http, self.platform, "POST", self._base + SEGMENTS_PATH,
                        policy=self._policy, json=payload, headers=headers)
        return str(response.json()["id"])

    def read(self, external_id: str) -> SegmentState | None:
        """GET /v2/segments/{id}; None when LiveRamp does not know it."""
        try:
            response = send(self._http, self.platform, "GET",
                            f"{self._base}{SEGMENTS_PATH}/{external_id}", policy=self._policy,
                            headers={"Authorization": f"Bearer {self._token()}"})
        except PlatformError as exc:
            if exc.status == 404:
                return None
            raise
        body = response.json()
        return SegmentState(str(body["id"]), body.get("name", ""), body.get("description", ""))
