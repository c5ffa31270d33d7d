"""One send-rate limiter shared by every dispatcher that sends through the same Resend team.

Resend's limit is per team, across API keys and processes, so a per-process guess is wrong as soon as
two workers send. Each provider call takes the next free slot (`reserve` returns how long to wait for
it). The response headers move the slots: `ratelimit-limit` sets the spacing (so the budget is never
overrun by us), and a 429's `retry-after` — another client of the same team used the budget — pushes
every sender back. `ratelimit-remaining: 0` alone is not a reason to wait: the spacing already accounts
for it, and its whole-second `ratelimit-reset` would halve the throughput. With Redis configured the
state lives there (one Lua script, Redis's clock); otherwise in this process.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from humanic_app import clock

logger = logging.getLogger(__name__)

DEFAULT_REQUESTS_PER_SECOND = 2.0  # Resend's documented default until its headers say otherwise
MARGIN = 1.05  # slots 5% wider than the limit: a late send must not land two calls in one window
REDIS_TIMEOUT_S = 0.25  # connect and answer; Redis beside the app answers in about a millisecond
REDIS_RETRY_S = 5.0  # while Redis is unreachable, how long sends are paced locally before asking it again
FALLBACK_SHARE = 0.5  # of the rate, taken by each process pacing alone
HOUR_S = 3600 * MARGIN  # the window of an hourly cap, widened like the slots
T = TypeVar("T")


class RateLimiter(Protocol):
    def reserve(self, max_wait: float | None = None) -> float:
        """How long to wait for the next free slot, which is now taken; unless it is more than `max_wait`
        away: then that wait, and nothing is taken."""
        ...

    def time_to_next(self) -> float: ...

    def push_back(self, seconds: float) -> None: ...

    def set_rate(self, requests_per_second: float) -> None: ...

    def enter(self, lease_s: float) -> str | None: ...

    def leave(self, token: str) -> None: ...


def observe(limiter: RateLimiter, headers: dict[str, str] | None) -> None:
    """Adjust the spacing from a response's IETF draft-06 `ratelimit-limit` header (requests per second)."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    try:
        limit = float(lowered["ratelimit-limit"])
    except (KeyError, ValueError):
        return
    if limit > 0:
        limiter.set_rate(limit)


class LocalRateLimiter:
    """`per_hour`, if given, also caps the slots in any window of an hour (widened by MARGIN): a slot is
    never earlier than an hour after the `per_hour`-th slot before it."""

    def __init__(
        self,
        requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND,
        *,
        concurrent: int | None = None,
        per_hour: int | None = None,
    ):
        self._lock = threading.Lock()
        self._interval = MARGIN / requests_per_second
        self._next_free = 0.0
        self._concurrent = concurrent
        self._running: set[str] = set()
        self._per_hour = per_hour
        self._recent: collections.deque[float] = collections.deque(maxlen=per_hour)  # the last slots given

    def _hour_allows(self) -> float:
        """The earliest moment the hourly cap allows another slot (0 without a cap or below it)."""
        if self._per_hour is None or len(self._recent) < self._per_hour:
            return 0.0
        return self._recent[0] + HOUR_S

    def reserve(self, max_wait: float | None = None) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_free, self._hour_allows())
            if max_wait is not None and slot - now > max_wait:
                return slot - now
            self._next_free = slot + self._interval
            if self._per_hour is not None:
                self._recent.append(slot)
            return slot - now

    def time_to_next(self) -> float:
        with self._lock:
            return max(0.0, self._next_free - time.monotonic(), self._hour_allows() - time.monotonic())

    def push_back(self, seconds: float) -> None:
        with self._lock:
            self._next_free = max(self._next_free, time.monotonic() + max(seconds, 0.0))

    def set_rate(self, requests_per_second: float) -> None:
        with self._lock:
            self._interval = MARGIN / requests_per_second

    def enter(self, lease_s: float) -> str | None:
        """A place among the calls running (a process's own calls end or die with it: no lease needed)."""
        return self.enter_as(uuid.uuid4().hex)

    def enter_as(self, token: str) -> str | None:
        with self._lock:
            if self._concurrent is not None and len(self._running) >= self._concurrent:
                return None
            self._running.add(token)
            return token

    def leave(self, token: str) -> None:
        with self._lock:
            self._running.discard(token)


# KEYS: next free slot, spacing, the last slots given (a list, with an hourly cap); ARGV: the default
# spacing, the hourly cap (0: none), its window and (reserve) the longest wait that takes a slot (-1: any),
# in ms
_HOUR_ALLOWS = """
local function hour_allows()
  local cap = tonumber(ARGV[2])
  if cap == 0 or redis.call('LLEN', KEYS[3]) < cap then
    return 0
  end
  return tonumber(redis.call('LINDEX', KEYS[3], 0)) + tonumber(ARGV[3])
end
"""

_RESERVE = (
    _HOUR_ALLOWS
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(redis.call('GET', KEYS[2]) or ARGV[1])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, next_free, hour_allows())
local max_wait = tonumber(ARGV[4])
if max_wait >= 0 and slot - now > max_wait then
  return slot - now
end
redis.call('SET', KEYS[1], slot + interval, 'PX', 3600000)
if tonumber(ARGV[2]) > 0 then
  redis.call('RPUSH', KEYS[3], slot)
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[2]), -1)
  redis.call('PEXPIRE', KEYS[3], slot - now + tonumber(ARGV[3]))
end
return slot - now
"""
)

_TIME_TO_NEXT = (
    _HOUR_ALLOWS
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return math.max(0, tonumber(redis.call('GET', KEYS[1]) or '0') - now, hour_allows() - now)
"""
)

_PUSH_BACK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('SET', KEYS[1], math.max(next_free, now + tonumber(ARGV[1])), 'PX', 3600000)
return 0
"""


_ENTER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""


def _fallback_share(limit: int | None) -> int | None:
    """A process's own part of a count limit while Redis is unreachable (at least 1; none stays none)."""
    return None if limit is None else max(1, int(limit * FALLBACK_SHARE))


class RedisRateLimiter:
    """The same slots, kept in Redis so every worker on every machine shares them; a local limiter at
    FALLBACK_SHARE of the rate while Redis is unreachable (`unreachable_since` says since when)."""

    def __init__(
        self,
        redis_url: str,
        *,
        namespace: str = "humanic:resend",
        requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND,
        concurrent: int | None = None,
        per_hour: int | None = None,
        timeout_s: float = REDIS_TIMEOUT_S,
        retry_s: float = REDIS_RETRY_S,
    ):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._errors = redis.RedisError
        # no retries inside the client: the fallback is the retry, and must begin within one timeout
        self._redis = redis.Redis.from_url(
            redis_url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
        )
        self._keys = [  # the slots' three (as the scripts take them), then the places'
            f"{namespace}:next_free_ms",
            f"{namespace}:interval_ms",
            f"{namespace}:recent_slots_ms",
            f"{namespace}:running",
        ]
        self._default_interval_ms = int(1000 * MARGIN / requests_per_second)
        self._hourly_args = [per_hour or 0, int(1000 * HOUR_S)]
        self._reserve = self._redis.register_script(_RESERVE)
        self._push_back = self._redis.register_script(_PUSH_BACK)
        self._time_to_next = self._redis.register_script(_TIME_TO_NEXT)
        self._enter = self._redis.register_script(_ENTER)
        self._concurrent = concurrent
        self._local = LocalRateLimiter(
            requests_per_second * FALLBACK_SHARE,
            concurrent=_fallback_share(concurrent),
            per_hour=_fallback_share(per_hour),
        )
        self._retry_s = retry_s
        self._ask_again_at = 0.0  # monotonic; Redis is skipped before it
        self.unreachable_since: datetime | None = None

    def _shared(self, in_redis: Callable[[], T], locally: Callable[[], T]) -> T:
        if self.unreachable_since is not None and time.monotonic() < self._ask_again_at:
            return locally()
        try:
            found = in_redis()
        except self._errors as exc:
            if self.unreachable_since is None:
                self.unreachable_since = clock.now()
                logger.warning("Redis unreachable (%s): sends are paced locally until it answers", exc)
            self._ask_again_at = time.monotonic() + self._retry_s
            return locally()
        if self.unreachable_since is not None:
            logger.info("Redis answers again: sends share its rate limiter")
            self.unreachable_since = None
        return found

    def reserve(self, max_wait: float | None = None) -> float:
        longest_ms = -1 if max_wait is None else int(max_wait * 1000)
        return self._shared(
            lambda: (
                int(
                    self._reserve(keys=self._keys[:3], args=[self._default_interval_ms, *self._hourly_args, longest_ms])
                )
                / 1000
            ),
            lambda: self._local.reserve(max_wait),
        )

    def time_to_next(self) -> float:
        return self._shared(
            lambda: int(self._time_to_next(keys=self._keys[:3], args=[0, *self._hourly_args])) / 1000,
            self._local.time_to_next,
        )

    def push_back(self, seconds: float) -> None:
        self._local.push_back(seconds)  # held back here too, should Redis go away before the wait ends
        self._shared(lambda: self._push_back(keys=self._keys[:1], args=[int(max(seconds, 0.0) * 1000)]), lambda: 0)

    def set_rate(self, requests_per_second: float) -> None:
        self._local.set_rate(requests_per_second * FALLBACK_SHARE)
        self._shared(lambda: self._redis.set(self._keys[1], int(1000 * MARGIN / requests_per_second), ex=3600), bool)

    def enter(self, lease_s: float) -> str | None:
        """A place for `lease_s` at most, among every process's calls; the local share while Redis is away."""
        places = self._concurrent
        if places is None:
            return self._local.enter(lease_s)
        token = uuid.uuid4().hex
        lease_ms = int(max(lease_s, 0.001) * 1000)
        # the same token either way: a script that ran in Redis but whose answer was lost is still left by it
        return self._shared(
            lambda: token if self._enter(keys=self._keys[3:], args=[places, lease_ms, token]) else None,
            lambda: self._local.enter_as(token),
        )

    def leave(self, token: str) -> None:
        """Given back locally and in Redis, even while Redis is being skipped: a place left there would be
        one of few, taken until its lease runs out. Redis unreachable here costs at most one timeout."""
        self._local.leave(token)
        if self._concurrent is not None:
            with contextlib.suppress(self._errors):  # unreachable: its lease frees it
                self._redis.zrem(self._keys[3], token)


def wait_for_slot(limiter: RateLimiter) -> None:
    wait = limiter.reserve()
    if wait > 0:
        time.sleep(wait)
