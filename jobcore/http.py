"""The one retrying request loop the project's HTTP clients share (the ad platforms, a
hosted embeddings endpoint).

429 waits for Retry-After (capped); 5xx and timeouts are retried a bounded number of times
with exponential backoff; any other 4xx is the caller's error, with the service's message.
Secrets never appear in messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from jobcore.errors import JobcoreError

MAX_RETRY_AFTER_SECONDS = 30.0


class PlatformError(JobcoreError):
    """The platform (or service) refused a request (4xx) or stayed unavailable after retries.

    Unavailable (a timeout, no connection, 429 or 5xx after the retries) is ``transient``: a
    job's chunk that meets it is left as it was, to be tried again; a refusal is not.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.transient = status is None or status == 429 or status >= 500


@dataclass
class RetryPolicy:
    retries: int = 3
    backoff_seconds: float = 0.2
    sleep: Callable[[float], None] = time.sleep



def _tries(attempts: int) -> str:
    return f"{attempts} attempt{'' if attempts == 1 else 's'}"

def _retry_after(response: httpx.Response, fallback: float) -> float:
    value = response.headers.get("Retry-After")
    if value is None:
        return fallback
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return fallback
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("message", "Message", "error_description", "error", "detail"):
            if isinstance(body.get(key), str):
                return body[key][:300]
    return str(body)[:300]


def send(client: httpx.Client, platform: str, method: str, url: str, *,
         policy: RetryPolicy, **kwargs) -> httpx.Response:
    """One request with the shared retry rules; PlatformError when it cannot succeed."""
    attempts = policy.retries + 1
    for attempt in range(attempts):
        last = attempt == attempts - 1
        backoff = policy.backoff_seconds * 2 ** attempt
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            if last:
                raise PlatformError(f"{platform} did not answer {method} {url} in time "
                                    f"({_tries(attempts)})") from None
            policy.sleep(backoff)
            continue
        except httpx.TransportError as exc:
            if last:
                raise PlatformError(f"{platform} is unreachable ({type(exc).__name__}, "
                                    f"{_tries(attempts)})") from None
            policy.sleep(backoff)
            continue
        if response.status_code == 429 or response.status_code >= 500:
            if last:
                raise PlatformError(f"{platform} answered {response.status_code} to {method} "
                                    f"{url} {attempts} times: {_message(response)}",
                                    status=response.status_code)
            wait = _retry_after(response, backoff) if response.status_code == 429 else backoff
            policy.sleep(wait)
            continue
        if response.status_code >= 400:
            raise PlatformError(f"{platform} refused {method} {url} ({response.status_code}): "
                                f"{_message(response)}", status=response.status_code)
        return response
    raise AssertionError("unreachable")
