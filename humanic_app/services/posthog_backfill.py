"""Backfill: import the events of chosen names over a chosen time range from PostHog's query API, for
when the webhook destination was down or misconfigured.

PostHog: POST {app host}/api/projects/{project id}/query/ with a personal API key (Query Read scope)
and a HogQL query, one page at a time, keyset-paged on (timestamp, uuid as text), one query at a time
(PostHog allows 3 at once) and at most QUERIES_PER_MINUTE (its 240 a minute). A 429 is waited out when
its Retry-After is at most MAX_RETRY_AFTER_S, up to RETRIES times; anything else ends the call with a
4xx the user can act on, and nothing is stored. A call reads at most MAX_PAGES pages: when more remain,
the summary says where to continue (`resume_since`).

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

import httpx
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Event
from humanic_app.services import processing
from humanic_app.services.campaigns import dry_run, engine
from humanic_app.services.errors import Conflict, ValidationFailed
from humanic_app.services.intake import storing
from humanic_app.services.intake.payloads import IncomingEvent
from humanic_app.services.posthog import connection

PAGE = 1000  # rows per query: PostHog returns up to 50,000 but suggests paging well below
MAX_PAGES = 50  # queries per call, so one call stays within a minute of PostHog's budget
QUERIES_PER_MINUTE = 240
MAX_RETRY_AFTER_S = 30.0
RETRIES = 3
TIMEOUT_S = 30.0  # PostHog stops a query after its own limit; this only bounds a hung connection
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


@dataclasses.dataclass
class _Client:
    url: str
    key: str
    sleep: Callable[[float], None]
    queries: int = 0
    last_at: float | None = None

    def page(self, values: dict[str, Any], limit: int) -> dict[str, Any]:
        text = f"SELECT {_COLUMNS} FROM events WHERE {_WHERE}{_AFTER if 'after' in values else ''} "
        text += f"ORDER BY timestamp, toString(uuid) LIMIT {limit}"
        body = {"query": {"kind": "HogQLQuery", "query": text, "values": values}}
        for attempt in range(RETRIES + 1):
            answer = self._post(body)
            if answer.status_code != 429:
                return _checked(answer)
            wait = _retry_after(answer)
            if wait > MAX_RETRY_AFTER_S or attempt == RETRIES:
                raise Conflict(f"PostHog is limiting queries (429): try again in {round(wait)} s.")
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        if self.last_at is not None:  # one query at a time, spaced to stay within PostHog's per-minute limit
            gap = 60.0 / QUERIES_PER_MINUTE - (time.monotonic() - self.last_at)
            if gap > 0:
                self.sleep(gap)
        self.last_at, self.queries = time.monotonic(), self.queries + 1
        try:
            return httpx.post(self.url, json=body, headers={"Authorization": f"Bearer {self.key}"}, timeout=TIMEOUT_S)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # no answer, or a host no URL can name
            raise Conflict(f"PostHog did not answer at {self.url} ({type(exc).__name__}): try again.") from exc


def _retry_after(answer: httpx.Response) -> float:
    """A second when PostHog names no wait; an HTTP date or garbage is longer than this call waits out."""
    value = answer.headers.get("Retry-After")
    if value is None:
        return 1.0
    seconds = connection.retry_after_seconds(value)
    return MAX_RETRY_AFTER_S + 1 if seconds is None else seconds


def _checked(answer: httpx.Response) -> dict[str, Any]:
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


def _client(session: Session, sleep: Callable[[float], None]) -> _Client:
    found = connection.row(session=session)
    key = connection.personal_api_key(found) if found is not None else None
    errors = {}
    if found is None or not found.host:
        errors["host"] = "Set where your PostHog is first (Settings → PostHog)."
    if key is None:
        errors["personal_api_key"] = "Set a personal API key with the Query Read scope first (Settings → PostHog)."
    if found is None or not found.project_id:
        errors["project_id"] = "Set the PostHog project id first (Settings → PostHog)."
    if errors or found is None or key is None:
        raise ValidationFailed(errors)
    url = f"{connection.app_host(found.host)}/api/projects/{found.project_id}/query/"
    return _Client(url=url, key=key, sleep=sleep)


@dataclasses.dataclass
class _Fetched:
    rows: list[list[Any]]
    complete: bool
    resume_since: str | None


def _fetch(client: _Client, asked: Asked, page_size: int, max_pages: int) -> _Fetched:
    values: dict[str, Any] = {
        "events": asked.events,
        "since": asked.since.isoformat(),
        "until": asked.until.isoformat(),
    }
    rows: list[list[Any]] = []
    for _ in range(max_pages):
        page = [r for r in client.page(values, page_size)["results"] if isinstance(r, list) and len(r) >= 7]
        rows.extend(page)
        if len(page) < page_size:
            return _Fetched(rows, complete=True, resume_since=None)
        values.update(after=str(page[-1][3]), after_uuid=str(page[-1][0]))
    return _Fetched(rows, complete=False, resume_since=values["after"])


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
    return IncomingEvent(
        document=document, event_name=str(name), event_uuid=str(uuid), distinct_id=str(distinct_id), timestamp=timestamp
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


def campaign_event_names(*, session: Session) -> list[str]:
    """The names the active campaigns read (triggers, exit goals, `unless`, waits, branches): the ones a
    backfill is most likely for."""
    return sorted({name for c in engine.load_active(session) for name in dry_run.names_read(c.document)})


def run(
    *,
    session: Session,
    asked: Asked,
    sleep: Callable[[float], None] = time.sleep,
    page_size: int = PAGE,
    max_pages: int = MAX_PAGES,
) -> dict[str, Any]:
    """Fetches, deduplicates and (unless a dry run) stores; returns the summary. Storing commits, as the
    webhook's storing does."""
    asked = validate(asked)
    client = _client(session, sleep)
    fetched = _fetch(client, asked, page_size, max_pages)
    incoming = [_incoming(row) for row in fetched.rows]
    seen = _received(session, [str(e.event_uuid) for e in incoming])
    fresh = _first_of_each([e for e in incoming if e.event_uuid not in seen])
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
