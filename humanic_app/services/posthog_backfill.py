"""Backfill: import the events of chosen names over a chosen time range from PostHog's query API, for
when the webhook destination was down or misconfigured.

PostHog's query API (services/posthog/query.py, whose shared limiter keeps every caller of the
deployment within PostHog's budget), one page at a time, keyset-paged on (timestamp, uuid as text), one
query at a time (PostHog allows 3 at once). A refusal ends the call with a 4xx the user can act on, and
nothing is stored. A call reads at most MAX_PAGES pages: when more remain, the summary says where to
continue (`resume_since`).

Stored through intake's own `store_deliveries`, as a delivery of no webhook source (`source_id` NULL;
the stored headers carry processing's BACKFILL_HEADER), then processed like any event. An event whose
PostHog uuid any source already delivered is skipped (`duplicates`). Unless `fire_emails`, each event
carries processing's QUIET marker: it updates contacts and ends enrolments at their goals but enrols,
resumes and sends nothing. `dry_run` stores nothing and says what would be."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Event
from humanic_app.services import mapping, processing
from humanic_app.services.campaigns import engine
from humanic_app.services.errors import ValidationFailed
from humanic_app.services.intake import storing
from humanic_app.services.intake.payloads import IncomingEvent
from humanic_app.services.posthog import query
from humanic_app.services.rate_limit import RateLimiter

PAGE = 1000  # rows per query: PostHog returns up to 50,000 but suggests paging well below
MAX_PAGES = 50  # queries per call, so one call stays within a minute of PostHog's budget
MAX_NAMES = 50
MAX_SPAN = timedelta(days=90)

_COLUMNS = "uuid, event, distinct_id, timestamp, properties, person_id, person.properties"
_WHERE = "event IN {events} AND timestamp >= toDateTime({since}) AND timestamp < toDateTime({until})"
_AFTER = " AND (timestamp > toDateTime({after}) OR (timestamp = toDateTime({after}) AND toString(uuid) > {after_uuid}))"


@dataclasses.dataclass(frozen=True)
class Asked:
    events: list[str]
    since: datetime
    until: datetime
    fire_emails: bool = False
    dry_run: bool = True


def validate(asked: Asked) -> Asked:
    """Every refusal at once, per field."""
    errors: dict[str, str] = {}
    names = list(dict.fromkeys(n.strip() for n in asked.events))
    if not names or any(not n or len(n) > 200 for n in names) or len(names) > MAX_NAMES:
        errors["events"] = f"Name 1 to {MAX_NAMES} events, each 1 to 200 characters."
    try:
        since, until = _utc(asked.since), _utc(asked.until)
    except OverflowError:
        raise ValidationFailed({"since": "Choose dates between the years 1 and 9999 in UTC."}) from None
    if since >= until:
        errors["until"] = "Choose an end after the start."
    elif until - since > MAX_SPAN:
        errors["since"] = f"Backfill at most {MAX_SPAN.days} days at a time."
    if since > clock.now():
        errors["since"] = "Choose a start in the past."
    if errors:
        raise ValidationFailed(errors)
    return dataclasses.replace(asked, events=names, since=since, until=until)


def moment(*, text: str, field: str) -> datetime:
    """A date and time as a form or an address gives it (ISO 8601; without an offset it is UTC), or a refusal
    at `field`."""
    try:
        found = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed({field: "Choose a date and time (UTC)."}) from None
    return _utc(found)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclasses.dataclass
class Fetched:
    rows: list[list[Any]]
    complete: bool
    resume_since: str | None
    stopped_because: str | None = None  # why it stopped before `max_pages`, if it did


def _page(client: query.Client, values: dict[str, Any], limit: int) -> list[list[Any]]:
    text = f"SELECT {_COLUMNS} FROM events WHERE {_WHERE}{_AFTER if 'after' in values else ''} "
    text += f"ORDER BY timestamp, toString(uuid) LIMIT {limit}"
    return [r for r in client.hogql(text, values)["results"] if isinstance(r, list) and len(r) >= 7]


def fetch(client: query.Client, asked: Asked, page_size: int = PAGE, max_pages: int = MAX_PAGES) -> Fetched:
    """The events of `asked`'s names in its range, in PostHog's order, up to `max_pages` pages, or as many
    as the deployment's PostHog query budget allows now (at least one, or `BudgetSpent`)."""
    values: dict[str, Any] = {
        "events": asked.events,
        "since": asked.since.isoformat(),
        "until": asked.until.isoformat(),
    }
    rows: list[list[Any]] = []
    for _ in range(max_pages):
        try:
            page = _page(client, values, page_size)
        except query.BudgetSpent as spent:
            if not rows:
                raise
            return Fetched(rows, complete=False, resume_since=values["after"], stopped_because=str(spent))
        rows.extend(page)
        if len(page) < page_size:
            return Fetched(rows, complete=True, resume_since=None)
        values.update(after=str(page[-1][3]), after_uuid=str(page[-1][0]))
    return Fetched(rows, complete=False, resume_since=values["after"])


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _incoming(row: list[Any]) -> IncomingEvent:
    """A query row in the webhook's default body shape, so the default mapping reads it as it reads those."""
    uuid, name, distinct_id, timestamp, properties, person_id, person_properties = row[:7]
    document = {
        "event": {
            "uuid": str(uuid),
            "event": str(name),
            "distinct_id": str(distinct_id),
            "timestamp": timestamp,
            "properties": _json(properties),
        },
        "person": {"id": person_id, "properties": _json(person_properties)},
    }
    email, person = mapping.owner_keys(document, None)  # the document is in PostHog's default shape
    return IncomingEvent(
        document=document,
        event_name=str(name),
        event_uuid=str(uuid),
        distinct_id=mapping.distinct_id_in(document, None),
        timestamp=timestamp,
        email=email,
        person_id=person,
    )


def _received(session: Session, uuids: list[str]) -> set[str]:
    """The uuids some event row already carries, whatever its source (the `ix_event_uuid` index)."""
    found: set[str] = set()
    for start in range(0, len(uuids), 500):
        chunk = uuids[start : start + 500]
        rows = session.exec(select(Event.event_uuid).where(col(Event.event_uuid).in_(chunk))).all()
        found.update(uuid for uuid in rows if uuid is not None)
    return found


def _first_of_each(events: list[IncomingEvent]) -> list[IncomingEvent]:
    """One event per uuid, in PostHog's order."""
    kept: dict[str | None, IncomingEvent] = {}
    for e in events:
        kept.setdefault(e.event_uuid, e)
    return list(kept.values())


def sorted_out(*, session: Session, rows: list[list[Any]]) -> tuple[list[IncomingEvent], list[IncomingEvent]]:
    """The query rows as events, and those no source delivered before (by PostHog uuid), one per uuid."""
    incoming = [_incoming(row) for row in rows]
    seen = _received(session, [str(e.event_uuid) for e in incoming])
    return incoming, _first_of_each([e for e in incoming if e.event_uuid not in seen])


def _campaigns(session: Session, new: Counter) -> list[dict[str, Any]]:
    """The active campaigns a new event's name triggers, with how many such events: what would enrol (and
    send, subject to each campaign's rules) were the events to fire."""
    return [
        {
            "campaign_id": c.campaign.id,
            "campaign": c.campaign.name,
            "trigger": c.document.trigger.event,
            "events": new[c.document.trigger.event],
        }
        for c in engine.load_active(session)
        if new[c.document.trigger.event]
    ]


def run(
    *,
    session: Session,
    asked: Asked,
    limiter: RateLimiter,
    sleep: Callable[[float], None] = time.sleep,
    page_size: int = PAGE,
    max_pages: int = MAX_PAGES,
) -> dict[str, Any]:
    """Fetches, deduplicates and (unless a dry run) stores; returns the summary. Storing commits, as the
    webhook's storing does. `limiter` is the deployment's PostHog query budget (query.py)."""
    asked = validate(asked)
    client = query.client(session=session, limiter=limiter, sleep=sleep)
    fetched = fetch(client, asked, page_size, max_pages)
    incoming, fresh = sorted_out(session=session, rows=fetched.rows)
    new, repeated = (
        Counter(e.event_name for e in fresh),
        Counter(e.event_name for e in incoming) - Counter(e.event_name for e in fresh),
    )
    campaigns = _campaigns(session, new)
    if fresh and not asked.dry_run:
        marker = processing.FIRING if asked.fire_emails else processing.QUIET
        delivery = storing.Delivery(source_id=None, headers={processing.BACKFILL_HEADER: marker}, events=fresh)
        storing.store_deliveries(session=session, deliveries=[delivery])
    return {
        "dry_run": asked.dry_run,
        "fire_emails": asked.fire_emails,
        "fetched": len(incoming),
        "imported": 0 if asked.dry_run else len(fresh),
        "to_import": len(fresh),
        "duplicates": len(incoming) - len(fresh),
        "by_event": {n: {"new": new[n], "duplicates": repeated[n]} for n in asked.events},
        "campaigns": campaigns,
        "emails": _emails_note(asked, campaigns),
        "complete": fetched.complete,
        "resume_since": fetched.resume_since,
        "stopped_because": fetched.stopped_because,
        "queries": client.queries,
    }


def _emails_note(asked: Asked, campaigns: list[dict[str, Any]]) -> str:
    if not campaigns:
        return "No active campaign is triggered by these events: no email would be sent."
    names = ", ".join(c["campaign"] for c in campaigns)
    if not asked.fire_emails:
        return f"None: backfilled events update contacts and goals only. With fire_emails they would trigger {names}."
    verb = "would trigger" if asked.dry_run else "trigger"
    return f"These events {verb} {names}: emails are sent as each campaign's rules allow."
