"""Draining the capture outbox to PostHog's batch endpoint (POST {host}/batch/ with the project API key
and up to BATCH events), a batch per call, off the email path: the periodic job in workers.py calls
`next_batch` (one transaction), `send` (no transaction open), then `record` (another).

Exactly once as PostHog counts: a row is marked sent only after PostHog accepted its batch; a crash in
between leaves it unsent, and the replay carries the same uuid, timestamp and distinct_id, which PostHog
deduplicates. A failed call backs off exponentially (or as long as PostHog's Retry-After says); a batch
PostHog refuses as malformed (400) is dropped with the reason, since sending it again cannot succeed."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Campaign, ContactIdentity, IdentityKind, PosthogCapture, PosthogConnection
from humanic_app.services import stats
from humanic_app.services.posthog import connection
from humanic_app.services.posthog.capture import MARKER

logger = logging.getLogger(__name__)

BATCH = 100  # events per call: far below PostHog's 20 MB body limit with Humanic's small properties
TIMEOUT_S = 10.0
MAX_BACKOFF = timedelta(minutes=30)
LIB = "humanic"

# The person properties each kind sets ($set), so cohorts can use them.
_PERSON: dict[str, Callable[[str], dict[str, Any]]] = {
    "email_sent": lambda at: {"humanic_last_email_at": at},
    "email_opened": lambda at: {"humanic_last_opened_at": at},
    "email_clicked": lambda at: {"humanic_last_clicked_at": at},
    "email_bounced": lambda at: {"humanic_bounced": True},
    "email_complained": lambda at: {"humanic_complained": True},
    "unsubscribed": lambda at: {"humanic_unsubscribed": True},
    "resubscribed": lambda at: {"humanic_unsubscribed": False},
}


@dataclasses.dataclass(frozen=True)
class Batch:
    url: str
    api_key: str = dataclasses.field(repr=False)
    ids: list[int]
    events: list[dict[str, Any]]

    def body(self) -> dict[str, Any]:
        return {"api_key": self.api_key, "batch": self.events}


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer (connection refused, timeout)
    detail: str = ""
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def malformed(self) -> bool:
        """PostHog refused the batch itself: sending it again cannot succeed."""
        return self.status in (400, 413)


Post = Callable[[str, dict[str, Any]], Answer]


def http_post(url: str, body: dict[str, Any]) -> Answer:
    try:
        response = httpx.post(url, json=body, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        return Answer(0, f"PostHog could not be reached ({type(exc).__name__})")
    return Answer(
        response.status_code, response.text[:300], connection.retry_after_seconds(response.headers.get("retry-after"))
    )


def anything_due(*, session: Session) -> bool:
    """Asked from a snapshot before taking SQLite's write turn: write-back is on, not backing off, and
    something waits."""
    if not _ready(connection.row(session=session)):
        return False
    waiting = select(PosthogCapture.id).where(col(PosthogCapture.sent_at).is_(None)).limit(1)
    return session.exec(waiting).first() is not None


def _ready(found: PosthogConnection | None) -> bool:
    """Write-back is on and not backing off after a failed call."""
    if found is None or not found.host or not found.api_key_cipher:
        return False
    return found.next_attempt_at is None or found.next_attempt_at <= clock.now()


def next_batch(*, session: Session, limit: int = BATCH) -> Batch | None:
    """The oldest unsent captures as PostHog events, or None (nothing waits, write-back is off, or it is
    backing off). Captures whose contact has no distinct_id any more (erased, never had one) are dropped."""
    found = connection.row(session=session)
    key = connection.api_key(found) if found is not None else None
    if found is None or key is None or not _ready(found):
        return None
    while True:
        rows = list(
            session.exec(
                select(PosthogCapture)
                .where(col(PosthogCapture.sent_at).is_(None))
                .order_by(col(PosthogCapture.id))
                .limit(limit)
            )
        )
        if not rows:
            return None
        ids = _distinct_ids(session, {r.contact_id for r in rows if r.contact_id is not None})
        keep = [c for c in rows if c.contact_id in ids]
        for capture in rows:
            if capture.contact_id not in ids:
                _settle(capture, "dropped: the contact has no distinct_id (erased, or never seen in PostHog)")
                session.add(capture)
        session.flush()
        if keep:
            break
    names = _campaign_names(session, {c.properties.get("campaign_id") for c in keep} - {None})
    events = [_as_event(c, ids[c.contact_id], names) for c in keep if c.contact_id is not None]
    return Batch(url=found.host + "/batch/", api_key=key, ids=[c.id for c in keep if c.id is not None], events=events)


def _distinct_ids(session: Session, contact_ids: set[int]) -> dict[int, str]:
    """Each contact's first distinct_id: the one PostHog first knew it by."""
    found: dict[int, str] = {}
    if contact_ids:
        rows = session.exec(
            select(ContactIdentity.contact_id, ContactIdentity.value)
            .where(col(ContactIdentity.contact_id).in_(contact_ids), ContactIdentity.kind == IdentityKind.distinct_id)
            .order_by(col(ContactIdentity.id))
        )
        for contact_id, value in rows:
            found.setdefault(contact_id, value)
    return found


def _campaign_names(session: Session, campaign_ids: set[Any]) -> dict[int, str]:
    wanted = [i for i in campaign_ids if isinstance(i, int)]
    if not wanted:
        return {}
    rows = session.exec(select(Campaign.id, Campaign.name).where(col(Campaign.id).in_(wanted)))
    return {campaign_id: name for campaign_id, name in rows if campaign_id is not None}


def _as_event(capture: PosthogCapture, distinct_id: str, names: dict[int, str]) -> dict[str, Any]:
    at = capture.timestamp.isoformat()
    properties = {key: value for key, value in capture.properties.items() if value is not None}
    if "campaign_id" in properties:
        properties["campaign"] = names.get(properties["campaign_id"], "")
    properties.update({MARKER: True, "$lib": LIB})
    person = _PERSON.get(capture.kind)
    if person and "topic" not in properties:  # one topic's opt-out is not "unsubscribed" from everything
        properties["$set"] = person(at)
    return {
        "event": capture.event,
        "distinct_id": distinct_id,
        "uuid": capture.uuid,
        "timestamp": at,
        "properties": properties,
    }


def send(batch: Batch, *, post: Post = http_post) -> Answer:
    """The call itself: no database transaction is open while it runs."""
    return post(batch.url, batch.body())


def record(*, session: Session, batch: Batch, answer: Answer) -> None:
    """Marks the batch's rows sent (or dropped, when PostHog refused the batch as malformed); a failure backs
    off: 2, 4, 8 … seconds up to MAX_BACKOFF, or PostHog's Retry-After."""
    found = connection.row(session=session)
    now = clock.now()
    hour = stats.hour_of(now)
    if answer.ok or answer.malformed:
        outcome = "sent" if answer.ok else f"dropped: PostHog refused the batch ({answer.status} {answer.detail})"
        session.execute(
            update(PosthogCapture)
            .where(col(PosthogCapture.id).in_(batch.ids))
            .values(sent_at=now, outcome=outcome[:300])
        )
        counter = "posthog_written" if answer.ok else "posthog_dropped"
        stats.bump(session, Counter({(hour, counter, ""): len(batch.ids)}))
    if found is None:
        return
    if answer.ok:
        found.failures, found.next_attempt_at, found.last_sent_at = 0, None, now
    else:
        found.failures += 1
        wait = answer.retry_after_s if answer.retry_after_s is not None else 2.0**found.failures
        found.next_attempt_at = now + min(timedelta(seconds=wait), MAX_BACKOFF)
        found.last_error, found.last_error_at = describe(answer)[:1000], now
        stats.bump(session, Counter({(hour, "posthog_failed", str(answer.status)): 1}))
        logger.warning("PostHog write-back: %s; next try at %s", found.last_error, found.next_attempt_at)
    session.add(found)


def _settle(capture: PosthogCapture, outcome: str, now: datetime | None = None) -> None:
    capture.sent_at, capture.outcome = now or clock.now(), outcome


def describe(answer: Answer) -> str:
    """What a failed call means, with what to do."""
    if answer.status == 0:
        return answer.detail or "PostHog could not be reached"
    if answer.status in (401, 403):
        return f"PostHog refused the project API key ({answer.status}): paste it again in Settings → PostHog"
    if answer.status == 429:
        return "PostHog is rate limiting the write-back (429): it waits and tries again"
    if answer.malformed:
        return f"PostHog refused a batch as malformed ({answer.status}): its events were dropped"
    return f"PostHog answered {answer.status}: it waits and tries again"


# --- what the Dashboard, the findings and the contact timeline show ---------------------------------------


def health(*, session: Session, since: datetime) -> dict[str, Any]:
    waiting, oldest = connection.backlog(session=session)
    now = clock.now()
    return {
        "posthog_backlog": waiting,
        "posthog_oldest": "–" if oldest is None else f"{max(0, int((now - oldest).total_seconds()))} s",
        "posthog_written": sum(stats.totals(session=session, name="posthog_written", since=since).values()),
        "posthog_failed": sum(stats.totals(session=session, name="posthog_failed", since=since).values()),
        "posthog_pulled": sum(stats.totals(session=session, name="posthog_pulled", since=since).values()),
        "posthog_pull_failed": sum(stats.totals(session=session, name="posthog_pull_failed", since=since).values()),
    }


def problem(*, session: Session, since: datetime) -> str | None:
    """Why write-back is failing now, or dropped events since `since`; None when all is well."""
    found = connection.row(session=session)
    if found is None:
        return None
    dropped = sum(stats.totals(session=session, name="posthog_dropped", since=since).values())
    if found.failures:
        waiting = connection.backlog(session=session)[0]
        return (
            f"Writing engagement back to PostHog is failing ({found.failures} calls in a row): "
            f"{found.last_error}. {waiting} events wait."
        )
    if dropped:
        return f"PostHog refused {dropped} written-back events in the last 7 days as malformed: {found.last_error}."
    return None


@dataclasses.dataclass(frozen=True)
class Written:
    event: str
    at: datetime
    state: str  # "waiting", "sent" or why it was dropped


def for_contact(*, session: Session, contact_id: int, limit: int = 50) -> list[Written]:
    rows = session.exec(
        select(PosthogCapture)
        .where(PosthogCapture.contact_id == contact_id)
        .order_by(col(PosthogCapture.id).desc())
        .limit(limit)
    )
    return [Written(r.event, r.timestamp, r.outcome or "waiting") for r in rows]
