"""One PostHog query budget per deployment (services/posthog/query.py): callers that share a limiter
have their calls spaced by it, whether they run in one process (a LocalRateLimiter) or in several (a
RedisRateLimiter under query.NAMESPACE)."""

from __future__ import annotations

import contextlib
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from humanic_app import workers
from humanic_app.services import posthog_backfill as backfill, rate_limit
from humanic_app.services.errors import Conflict
from humanic_app.services.posthog import query

REDIS_URL = "redis://127.0.0.1:6379/0"
SPACING = rate_limit.MARGIN / query.REQUESTS_PER_SECOND
CALLS_EACH = 3


def _caller(posthog, limiter) -> None:
    url = f"{posthog.url}/api/projects/{posthog.project_id}/query/"
    client = query.Client(url=url, key=posthog.personal_api_key, limiter=limiter)
    until = datetime.now(UTC)
    asked = backfill.Asked(events=["user_signed_up"], since=until - timedelta(hours=1), until=until)
    for _ in range(CALLS_EACH):
        backfill.fetch(client, asked)


def _together(posthog, limiters) -> list[int]:
    """Each limiter's caller in a thread of its own, all started together; every status PostHog answered. A
    caller refused past its retries stops there (its 429s are in the statuses)."""

    def caller(limiter) -> None:
        with contextlib.suppress(Conflict):
            _caller(posthog, limiter)

    threads = [threading.Thread(target=caller, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [q["status"] for q in posthog.queries]


def _at_once(posthog, limiters) -> list[float]:
    """The callers together, each answered every time; the times PostHog was asked."""
    assert _together(posthog, limiters) == [200] * CALLS_EACH * len(limiters)
    return sorted(q["at"] for q in posthog.queries)


def _spaced_by_one_budget(times: list[float]) -> bool:
    """Every call took a slot of its own: the first and last are the slots between apart (less a hop's
    jitter). Two budgets would let the callers' calls go in pairs, in half the time."""
    return times[-1] - times[0] >= (len(times) - 1) * SPACING - 0.15


def test_two_callers_at_once_share_one_local_budget(posthog):
    shared = rate_limit.LocalRateLimiter(query.REQUESTS_PER_SECOND)
    times = _at_once(posthog, [shared, shared])
    assert _spaced_by_one_budget(times)


def test_two_processes_limiters_share_one_budget_in_redis(posthog):
    namespace = f"{query.NAMESPACE}:test-{uuid.uuid4().hex}"
    limiters = [
        rate_limit.RedisRateLimiter(REDIS_URL, namespace=namespace, requests_per_second=query.REQUESTS_PER_SECOND)
        for _ in range(2)
    ]
    times = _at_once(posthog, limiters)
    assert all(limiter.unreachable_since is None for limiter in limiters)
    assert _spaced_by_one_budget(times)


def test_a_429_pushes_every_caller_back(posthog):
    shared = rate_limit.LocalRateLimiter(query.REQUESTS_PER_SECOND)
    posthog.inject(429, {"Retry-After": "1"})
    _caller(posthog, shared)
    assert [q["status"] for q in posthog.queries][:2] == [429, 200]
    assert posthog.queries[1]["at"] - posthog.queries[0]["at"] >= 0.9


@pytest.mark.parametrize("redis_url", [REDIS_URL, None])
def test_the_deployments_limiter_is_in_redis_when_configured(monkeypatch, redis_url):
    class Configured:
        pass

    configured = Configured()
    configured.redis_url = redis_url  # type: ignore[attr-defined]
    monkeypatch.setattr("humanic_app.settings.get_settings", lambda: configured)
    limiter = workers.posthog_limiter()
    assert limiter is workers.posthog_limiter()  # one per process
    expected = rate_limit.RedisRateLimiter if redis_url else rate_limit.LocalRateLimiter
    assert isinstance(limiter, expected)


def _six_callers(posthog, limiters) -> list[int]:
    """Six callers at once, each query taking PostHog a third of a second; every status PostHog answered."""
    posthog.query_seconds = 0.3
    return _together(posthog, limiters)


def _in_redis(concurrent: int | None, namespace: str) -> rate_limit.RedisRateLimiter:
    # a rate far above PostHog's, so only the cap on queries running keeps the callers apart
    return rate_limit.RedisRateLimiter(REDIS_URL, namespace=namespace, requests_per_second=100, concurrent=concurrent)


def test_six_callers_in_six_processes_never_run_more_queries_than_posthog_allows(posthog):
    namespace = f"{query.NAMESPACE}:test-{uuid.uuid4().hex}"
    limiters = [_in_redis(query.CONCURRENT, namespace) for _ in range(6)]
    statuses = _six_callers(posthog, limiters)
    assert statuses == [200] * 6 * CALLS_EACH
    assert posthog.most_running == query.CONCURRENT  # as many as allowed ran together, never more


def test_callers_without_the_cap_are_refused_by_posthog(posthog):
    """What the cap prevents: PostHog answers 429 to a fourth query running, and every caller waits."""
    namespace = f"{query.NAMESPACE}:test-{uuid.uuid4().hex}"
    statuses = _six_callers(posthog, [_in_redis(None, namespace) for _ in range(6)])
    assert 429 in statuses


def test_the_one_process_budget_keeps_the_cap_across_its_threads(posthog):
    shared = rate_limit.LocalRateLimiter(100, concurrent=query.CONCURRENT)
    assert _six_callers(posthog, [shared] * 6) == [200] * 6 * CALLS_EACH
    assert posthog.most_running <= query.CONCURRENT


def test_a_caller_finding_every_place_taken_for_long_is_told_so(posthog):
    shared = rate_limit.LocalRateLimiter(100, concurrent=1)
    held = shared.enter(60)  # another caller's query, stuck
    client = query.Client(
        url=f"{posthog.url}/api/projects/{posthog.project_id}/query/",
        key=posthog.personal_api_key,
        limiter=shared,
        sleep=lambda s: None,
    )
    with pytest.raises(Conflict, match="already running 3 PostHog queries"):
        client.hogql("SELECT event, count() FROM events WHERE 1 GROUP BY event", {})
    assert posthog.queries == []
    shared.leave(held)
    client.hogql(
        "SELECT event, count() FROM events WHERE event IN {events} GROUP BY event",
        {"events": ["a"], "since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"},
    )
    assert [q["status"] for q in posthog.queries] == [200]
