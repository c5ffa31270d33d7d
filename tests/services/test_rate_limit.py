"""The send-rate limiter every dispatcher shares: slots spaced by the provider's limit, pushed back by
its headers; with Redis, shared across processes (here: two limiter instances, as two workers have)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from humanic_app.services import rate_limit
from tests.support.frozen_proxy import FrozenProxy
from tests.support.waiting import wait_until


def _redis_pair(rate: float = 2.0):
    namespace = f"humanic-test:{uuid.uuid4().hex}"
    return (
        rate_limit.RedisRateLimiter("redis://127.0.0.1:6379/0", namespace=namespace, requests_per_second=rate),
        rate_limit.RedisRateLimiter("redis://127.0.0.1:6379/0", namespace=namespace, requests_per_second=rate),
    )


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_slots_are_spaced_by_the_rate_across_senders(kind):
    if kind == "local":
        shared = rate_limit.LocalRateLimiter(2.0)
        first, second = shared, shared
    else:
        first, second = _redis_pair(2.0)
    waits = [first.reserve(), second.reserve(), first.reserve(), second.reserve()]
    spacing = rate_limit.MARGIN / 2.0
    assert waits == pytest.approx([0.0, spacing, 2 * spacing, 3 * spacing], abs=0.05)


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_an_hourly_cap_holds_the_next_slot_an_hour_after_the_first_of_the_capped_ones(kind):
    if kind == "local":
        shared = rate_limit.LocalRateLimiter(1000.0, per_hour=3)
        first, second = shared, shared
    else:
        namespace = f"humanic-test:{uuid.uuid4().hex}"
        first, second = (
            rate_limit.RedisRateLimiter(
                "redis://127.0.0.1:6379/0", namespace=namespace, requests_per_second=1000.0, per_hour=3
            )
            for _ in range(2)
        )
    assert max(first.reserve(), second.reserve(), first.reserve()) < 0.1  # three, spaced by 1 ms
    assert second.time_to_next() == pytest.approx(rate_limit.HOUR_S, abs=1)
    for _ in range(2):  # too far off for the caller: told so, and no slot taken
        assert second.reserve(max_wait=30) == pytest.approx(rate_limit.HOUR_S, abs=1)
    assert first.reserve() == pytest.approx(rate_limit.HOUR_S, abs=1)  # the fourth: an hour after the first
    assert second.reserve() == pytest.approx(rate_limit.HOUR_S, abs=1)  # the fifth: after the second


def test_a_429_seen_by_one_worker_holds_back_the_other():
    first, second = _redis_pair(10.0)
    first.push_back(3.0)
    assert second.time_to_next() == pytest.approx(3.0, abs=0.1)
    assert second.reserve() == pytest.approx(3.0, abs=0.1)


def test_the_limit_header_sets_the_spacing_for_every_sender():
    first, second = _redis_pair(2.0)
    rate_limit.observe(first, {"ratelimit-limit": "10", "ratelimit-remaining": "4", "ratelimit-reset": "1"})
    spacing = rate_limit.MARGIN / 10
    assert [second.reserve() for _ in range(3)] == pytest.approx([0.0, spacing, 2 * spacing], abs=0.01)


def _local_spacing(rate: float) -> float:
    return rate_limit.MARGIN / (rate * rate_limit.FALLBACK_SHARE)


def test_a_closed_redis_port_falls_back_to_local_slots_at_once():
    limiter = rate_limit.RedisRateLimiter(
        "redis://127.0.0.1:1/0", namespace="humanic-test:closed", requests_per_second=10
    )
    started = time.monotonic()
    first = limiter.reserve()
    fallback_s = time.monotonic() - started
    assert first == 0.0 and limiter.unreachable_since is not None
    assert fallback_s < rate_limit.REDIS_TIMEOUT_S  # a refused connection: no timeout to wait out
    assert [limiter.reserve(), limiter.reserve()] == pytest.approx(
        [_local_spacing(10), 2 * _local_spacing(10)], abs=0.05
    )
    limiter.push_back(1.0)  # a 429 holds the local slots back too
    assert limiter.time_to_next() == pytest.approx(1.0, abs=0.05)


@pytest.fixture
def redis_proxy():
    proxy = FrozenProxy(upstream=("127.0.0.1", 6379))
    yield proxy
    proxy.close()


def _through(proxy: FrozenProxy, **kwargs) -> rate_limit.RedisRateLimiter:
    """A limiter on real Redis (database 9, a namespace of its own) reached through the test's proxy."""
    namespace = f"humanic-test:{uuid.uuid4().hex}"
    return rate_limit.RedisRateLimiter(f"redis://127.0.0.1:{proxy.port}/9", namespace=namespace, **kwargs)


def test_a_hung_redis_costs_one_timeout_then_slots_are_local_until_it_answers_again(redis_proxy):
    limiter = _through(redis_proxy, requests_per_second=10, retry_s=0.5)
    assert limiter.reserve() == 0.0 and limiter.unreachable_since is None  # connected, shared
    redis_proxy.freeze()  # the connection stays open; nothing comes back
    started = time.monotonic()
    limiter.reserve()
    fallback_s = time.monotonic() - started
    assert limiter.unreachable_since is not None
    assert rate_limit.REDIS_TIMEOUT_S <= fallback_s < rate_limit.REDIS_TIMEOUT_S + 1.0  # one timeout, no retries
    started = time.monotonic()
    assert limiter.reserve() == pytest.approx(_local_spacing(10), abs=0.05)  # local, without asking Redis
    assert time.monotonic() - started < rate_limit.REDIS_TIMEOUT_S  # no timeout paid again
    redis_proxy.resume()
    # asked again once the back-off (0.5 s here) is over; every call until then is local
    wait_until(lambda: limiter.time_to_next() >= 0 and limiter.unreachable_since is None, what="Redis asked again")
    peer = _through(redis_proxy, requests_per_second=10)
    peer._keys = limiter._keys  # another worker of the same deployment
    limiter.push_back(2.0)
    assert peer.time_to_next() == pytest.approx(2.0, abs=0.1)  # shared through Redis again


def test_a_limiter_on_reachable_redis_never_falls_back(redis_proxy):
    limiter = _through(redis_proxy, requests_per_second=10)
    for _ in range(5):
        limiter.reserve()
    rate_limit.observe(limiter, {"ratelimit-limit": "20"})
    assert limiter.unreachable_since is None


def _places(concurrent: int | None, namespace: str | None = None, url: str = "redis://127.0.0.1:6379/0"):
    return rate_limit.RedisRateLimiter(
        url, namespace=namespace or f"humanic-test:{uuid.uuid4().hex}", requests_per_second=10, concurrent=concurrent
    )


def test_places_are_shared_by_every_process_and_given_back():
    namespace = f"humanic-test:{uuid.uuid4().hex}"
    one, other = _places(2, namespace), _places(2, namespace)
    first, second = one.enter(30), other.enter(30)
    assert first and second
    assert one.enter(30) is None and other.enter(30) is None  # two places, both taken
    other.leave(second)
    assert one.enter(30) is not None


def test_a_place_held_by_a_process_that_died_frees_itself_after_its_lease():
    namespace = f"humanic-test:{uuid.uuid4().hex}"
    died, alive = _places(1, namespace), _places(1, namespace)
    assert died.enter(0.5)  # and never leaves
    started = time.monotonic()
    assert alive.enter(0.5) is None
    wait_until(lambda: alive.enter(0.5), what="the dead holder's place to free itself")
    assert time.monotonic() - started >= 0.4


def test_without_a_cap_every_call_gets_a_place():
    limiter = _places(None)
    assert all(limiter.enter(30) for _ in range(50))
    local = rate_limit.LocalRateLimiter()
    assert all(local.enter(30) for _ in range(50))


def test_a_local_cap_is_kept_across_threads_of_one_process():
    local = rate_limit.LocalRateLimiter(concurrent=3)
    tokens = [local.enter(30) for _ in range(4)]
    assert all(tokens[:3]) and tokens[3] is None
    local.leave(tokens[0])
    assert local.enter(30) is not None


def test_places_fall_back_to_the_local_share_while_redis_is_unreachable():
    limiter = _places(3, url="redis://127.0.0.1:1/0")
    assert limiter.enter(30) is not None and limiter.unreachable_since is not None
    assert limiter.enter(30) is None  # alone, a process takes half the places, at least one


def test_a_place_taken_in_redis_is_given_back_there_even_while_redis_is_being_skipped():
    """A process that took its place in Redis, then stopped asking Redis for a while (a slow answer made it
    fall back), still gives the place back there: otherwise one of few places stays taken for its lease."""
    namespace = f"humanic-test:{uuid.uuid4().hex}"
    holder, other = _places(1, namespace), _places(1, namespace)
    token = holder.enter(60)
    assert token and other.enter(60) is None
    holder.unreachable_since = datetime.now(UTC)  # as after a timeout: Redis skipped for the next seconds
    holder._ask_again_at = time.monotonic() + 60
    holder.leave(token)
    assert other.enter(60) is not None
