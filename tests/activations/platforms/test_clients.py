"""Platform clients against the loopback fakes: tokens, retries, refusals, timeouts."""

from __future__ import annotations

import httpx
import pytest

from jobcore.activations.credentials import PlatformCredentials
from jobcore.activations.platforms import liveramp
from jobcore.activations.platforms.base import SegmentPush
from jobcore.activations.platforms.liveramp import LiveRampClient
from jobcore.activations.platforms.trade_desk import TradeDeskClient, element_id
from jobcore.http import PlatformError, RetryPolicy
from tests.fakes.platforms import FakePlatforms, FakePlatformServer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake():
    liveramp.forget_tokens()
    with FakePlatformServer(FakePlatforms(timeout_seconds=1.0)) as server:
        yield server
    liveramp.forget_tokens()


@pytest.fixture
def waits():
    return []


def _policy(waits):
    return RetryPolicy(retries=2, backoff_seconds=0.01, sleep=waits.append)


def _creds(secret="fake-secret-123"):
    return PlatformCredentials(account_id="acct-1", secret=secret)


def _liveramp(fake, waits, clock=None, secret="fake-secret-123"):
    http = httpx.Client(timeout=0.3)
    return LiveRampClient(fake.url, _creds(secret), http, policy=_policy(waits),
                          clock=clock or Clock())


def test_read_returns_the_platforms_current_state(fake, waits):
    client = _liveramp(fake, waits)
    segment_id = client.push(SegmentPush(1, "Yoga Fans", "People who love yoga"))
    state = client.read(segment_id)
    assert (state.external_id, state.name, state.description) == (
        segment_id, "Yoga Fans", "People who love yoga")
    assert client.read("lr-unknown") is None
    ttd = TradeDeskClient(fake.url, _creds(), httpx.Client(timeout=1), policy=_policy(waits))
    ttd.push(SegmentPush(5, "Coffee Lovers", "beans"))
    assert ttd.read(element_id(5)).name == "Coffee Lovers" and ttd.read("topic-0") is None


def test_liveramp_token_is_cached_until_shortly_before_expiry(fake, waits):
    clock = Clock()
    client = _liveramp(fake, waits, clock)
    first = client.push(SegmentPush(1, "Yoga Fans", "People who love yoga"))
    client.push(SegmentPush(1, "Yoga Fans!", "People who love yoga", external_id=first))
    assert fake.state.count("POST", "/oauth/token") == 1
    assert fake.state.segments[first] == {"name": "Yoga Fans!",
                                          "description": "People who love yoga"}
    clock.now += 3600 - 30  # within the refresh margin of the 3600 s token
    client.push(SegmentPush(2, "Coffee Lovers", None))
    assert fake.state.count("POST", "/oauth/token") == 2


def test_429_waits_for_retry_after_then_succeeds(fake, waits):
    fake.state.fail("/v2/segments", 429, {"Retry-After": "7"}, {"message": "slow down"})
    client = _liveramp(fake, waits)
    assert client.push(SegmentPush(1, "Yoga Fans", None)).startswith("lr-")
    assert waits == [7.0]


def test_500_then_success_is_retried(fake, waits):
    fake.state.fail("/v2/segments", 500, body={"message": "boom"})
    fake.state.fail("/v2/segments", 503, body={"message": "busy"})
    assert _liveramp(fake, waits).push(SegmentPush(1, "Yoga Fans", None)).startswith("lr-")
    assert waits == [0.01, 0.02]


def test_persistent_5xx_gives_up_after_bounded_retries(fake, waits):
    for _ in range(3):
        fake.state.fail("/v2/segments", 502, body={"message": "bad gateway"})
    with pytest.raises(PlatformError, match=r"502.*3 times: bad gateway"):
        _liveramp(fake, waits).push(SegmentPush(1, "Yoga Fans", None))


def test_bad_credentials_are_a_clear_error_without_the_secret(fake, waits):
    with pytest.raises(PlatformError, match="rejected the organisation's credentials") as caught:
        _liveramp(fake, waits, secret="wrong-secret-value").push(SegmentPush(1, "Yoga", None))
    assert caught.value.status == 401
    assert "wrong-secret-value" not in str(caught.value)


def test_timeouts_are_retried_then_reported(fake, waits):
    client = _liveramp(fake, waits)
    client.push(SegmentPush(1, "warm up the token", None))
    fake.state.fail("/v2/segments", "timeout")
    assert client.push(SegmentPush(2, "Yoga Fans", None)).startswith("lr-")
    for _ in range(3):
        fake.state.fail("/v2/segments", "timeout")
    with pytest.raises(PlatformError, match=r"did not answer .* in time"):
        client.push(SegmentPush(3, "Coffee", None))


def test_4xx_is_the_callers_error_with_the_platforms_message(fake, waits):
    client = _liveramp(fake, waits)
    with pytest.raises(PlatformError, match=r"\(404\): segment lr-missing not found"):
        client.push(SegmentPush(1, "Yoga", None, external_id="lr-missing"))
    assert waits == []


def test_trade_desk_create_update_and_query(fake, waits):
    client = TradeDeskClient(fake.url, _creds(), httpx.Client(timeout=1), policy=_policy(waits))
    assert client.push(SegmentPush(7, "Yoga Fans", "desc")) == element_id(7)
    client.push(SegmentPush(7, "Yoga Fans 2", "desc", external_id=element_id(7)))
    client.push(SegmentPush(8, "Coffee Lovers", None))
    elements = {e.element_id: e for e in client.elements()}
    assert elements[element_id(7)].name == "Yoga Fans 2"
    assert set(elements) == {"topic-7", "topic-8"}
    bad = TradeDeskClient(fake.url, _creds("nope"), httpx.Client(timeout=1), policy=_policy(waits))
    with pytest.raises(PlatformError, match=r"\(401\): Authentication failed"):
        bad.push(SegmentPush(9, "x", None))


def test_an_unavailable_platform_is_transient_and_a_refusal_is_not():
    assert PlatformError("timed out").transient
    assert PlatformError("busy", status=429).transient
    assert PlatformError("bad gateway", status=502).transient
    assert not PlatformError("not found", status=404).transient
    assert not PlatformError("bad credentials", status=401).transient
