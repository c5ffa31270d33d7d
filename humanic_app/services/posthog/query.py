"""PostHog's query API (HogQL), one client for every caller: backfill, pull-only polling, reconciliation
and later cohort sync.

PostHog limits query calls per organisation (about QUERIES_PER_MINUTE, QUERIES_PER_HOUR, and CONCURRENT
running at once), across every process that asks, so each call takes a place among those running and the
next slot of one
`RateLimiter` (services/rate_limit.py) that the caller's
wiring hands in: in Redis under NAMESPACE when Redis is configured, so every worker of the deployment
shares it, otherwise one per process. A 429 pushes every caller back by its Retry-After, and is waited out
here when that is at most MAX_RETRY_AFTER_S, up to RETRIES times; anything else ends the call with a 4xx
the user can act on. A call whose slot is further off than MAX_WAIT_S (the hour's queries are spent) takes
no slot and is not made: `BudgetSpent` says when to try again. Cohort sync's REST calls keep the same rule.

POST {app host}/api/projects/{project id}/query/ with a personal API key (Query Read scope) and
`{"query": {"kind": "HogQLQuery", "query": …, "values": {…}}}`."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlmodel import Session

from humanic_app.services.errors import Conflict, ValidationFailed
from humanic_app.services.posthog import connection
from humanic_app.services.rate_limit import LocalRateLimiter, RateLimiter, RedisRateLimiter

QUERIES_PER_MINUTE = 240
QUERIES_PER_HOUR = 1200
REQUESTS_PER_SECOND = QUERIES_PER_MINUTE / 60
CONCURRENT = 3
NAMESPACE = "humanic:posthog"  # the shared limiter's Redis keys, apart from Resend's
MAX_RETRY_AFTER_S = 30.0
MAX_WAIT_S = 30.0  # for a slot of the shared budget; beyond it the caller is told instead of kept waiting
RETRIES = 3
TIMEOUT_S = 30.0  # PostHog stops a query after its own limit; this only bounds a hung connection
HTTP_TIMEOUT = httpx.Timeout(TIMEOUT_S, connect=5.0)
LEASE_S = 2 * TIMEOUT_S  # longer than a call can take (connect, send, answer): then a dead holder's place frees
PLACE_POLL_S = 0.25
PLACE_WAIT_S = 2 * TIMEOUT_S  # every place held that long means queries are stuck: the caller is told


def budget(redis_url: str | None) -> RateLimiter:
    """A limiter that keeps PostHog's query limits: in Redis under NAMESPACE when `redis_url` is given, so
    every process of the deployment shares it; otherwise this process's own."""
    if redis_url:
        return RedisRateLimiter(
            redis_url,
            namespace=NAMESPACE,
            requests_per_second=REQUESTS_PER_SECOND,
            concurrent=CONCURRENT,
            per_hour=QUERIES_PER_HOUR,
        )
    return LocalRateLimiter(REQUESTS_PER_SECOND, concurrent=CONCURRENT, per_hour=QUERIES_PER_HOUR)


class BudgetSpent(Conflict):
    """The deployment's share of PostHog's query limits is spent for now; `wait_s` says for how long."""

    def __init__(self, wait_s: float):
        self.wait_s = wait_s
        minutes = max(1, round(wait_s / 60))
        super().__init__(
            f"Humanic has used PostHog's query allowance ({QUERIES_PER_HOUR:,} an hour, shared by backfill, "
            f"polling, reconciliation and cohort sync): try again in {minutes} min."
        )


def take_slot(limiter: RateLimiter, sleep: Callable[[float], None]) -> None:
    """Waits for the next slot of the deployment's PostHog budget, every call to PostHog's API (queries and
    cohort sync's REST calls alike); `BudgetSpent`, taking nothing, if that is more than MAX_WAIT_S away."""
    wait = limiter.reserve(max_wait=MAX_WAIT_S)
    if wait > MAX_WAIT_S:
        raise BudgetSpent(wait)
    if wait > 0:
        sleep(wait)


@dataclasses.dataclass
class Client:
    url: str
    key: str
    limiter: RateLimiter
    sleep: Callable[[float], None] = time.sleep
    queries: int = 0  # calls made, 429s included

    def hogql(self, text: str, values: dict[str, Any]) -> dict[str, Any]:
        """The query's answer (`results` a list), once PostHog stops answering 429."""
        body = {"query": {"kind": "HogQLQuery", "query": text, "values": values}}
        for attempt in range(RETRIES + 1):
            answer = self._post(body)
            if answer.status_code != 429:
                return checked(answer)
            wait = retry_after(answer)
            if wait > MAX_RETRY_AFTER_S or attempt == RETRIES:
                raise Conflict(f"PostHog is limiting queries (429): try again in {round(wait)} s.")
            self.limiter.push_back(wait)  # every caller of the deployment waits it out, not only this one
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        take_slot(self.limiter, self.sleep)  # waited before taking a place: a place is held only for the call
        token = self._place()
        try:
            self.queries += 1
            headers = {"Authorization": f"Bearer {self.key}"}
            return httpx.post(self.url, json=body, headers=headers, timeout=HTTP_TIMEOUT)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # no answer, or a host no URL can name
            raise Conflict(f"PostHog did not answer at {self.url} ({type(exc).__name__}): try again.") from exc
        finally:
            self.limiter.leave(token)

    def _place(self) -> str:
        """A place among the deployment's queries running, waited for while other callers hold them all."""
        for _ in range(int(PLACE_WAIT_S / PLACE_POLL_S)):
            token = self.limiter.enter(LEASE_S)
            if token is not None:
                return token
            self.sleep(PLACE_POLL_S)
        raise Conflict(
            f"Humanic is already running {CONCURRENT} PostHog queries, as many as PostHog allows: try again."
        )


def retry_after(answer: httpx.Response) -> float:
    """A second when PostHog names no wait; an HTTP date or garbage is longer than a call waits out."""
    value = answer.headers.get("Retry-After")
    if value is None:
        return 1.0
    seconds = connection.retry_after_seconds(value)
    return MAX_RETRY_AFTER_S + 1 if seconds is None else seconds


def checked(answer: httpx.Response) -> dict[str, Any]:
    code = answer.status_code
    if code in (401, 403):
        raise ValidationFailed(
            {
                "personal_api_key": f"PostHog refused the personal API key ({code}): it must be valid and have the "
                "Query Read scope (PostHog → Settings → Personal API keys)."
            }
        )
    if code == 404:
        raise ValidationFailed({"project_id": "PostHog has no such project for this key: check the project id."})
    if code >= 400:
        raise Conflict(f"PostHog answered {code} to the query: try again later.")
    try:
        found = answer.json()
    except ValueError:
        found = None
    if not isinstance(found, dict) or not isinstance(found.get("results"), list):
        raise Conflict("PostHog's answer to the query was not a query result.")
    return found


def client(*, session: Session, limiter: RateLimiter, sleep: Callable[[float], None] = time.sleep) -> Client:
    """The client for the connection in Settings → PostHog; a 422 per missing field."""
    found = connection.row(session=session)
    key = connection.personal_api_key(found) if found is not None else None
    errors = {}
    if found is None or not found.host:
        errors["host"] = "Set where your PostHog is first (Settings → PostHog)."
    if key is None:
        errors["personal_api_key"] = (
            "Set a personal API key with the Query Read scope first (Settings → PostHog API access)."
        )
    if found is None or not found.project_id:
        errors["project_id"] = "Set the PostHog project id first (Settings → PostHog API access)."
    if errors or found is None or key is None:
        raise ValidationFailed(errors)
    url = f"{connection.app_host(found.host)}/api/projects/{found.project_id}/query/"
    return Client(url=url, key=key, limiter=limiter, sleep=sleep)
