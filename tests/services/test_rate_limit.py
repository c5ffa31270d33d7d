"""The send-rate limiter every dispatcher shares: slots spaced by the provider's limit, pushed back by
its headers; with Redis, shared across processes (here: two limiter instances, as two workers have)."""

from __future__ import annotations

import uuid

import pytest

from humanic_app.services.delivery import rate_limit


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
