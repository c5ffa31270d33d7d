"""PostHog cohorts brought in as contacts: imported once, or kept in sync every SYNC_PERIOD.

PostHog's REST API with the personal API key and project id of Settings → PostHog API access (the key needs the
Cohort Read and Person Read scopes): GET {app host}/api/projects/{project id}/cohorts/ lists the cohorts
(paged with `next`), GET …/cohorts/{id}/ names one, GET …/cohorts/{id}/persons/ gives its persons
(`{"results": [{"uuid", "distinct_ids", "properties"}], "next"}`). `next` is followed by its query only,
on the configured host, so the key never goes to an address PostHog's answer names. Every request takes a
slot of the deployment's one PostHog budget (the limiter services/posthog/query.py's callers share: backfill,
polling, reconciliation and this); a 429 pushes every caller back and is waited out here when its
Retry-After is at most MAX_RETRY_AFTER_S, up to RETRIES times.

Each person becomes a contact by processing's own rules: the person is read as a webhook delivery of it
would be (mapping.apply_mapping, so the same email checks) and matched through contacts.ContactBook (person
id, then distinct_id, then email; merging what turns out to be one person) under processing's serial
turn. A person without a valid email who matches no contact is skipped. The members recorded are the
contacts the cohort's persons are now; those who left it are removed. Contacts are never deleted here."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import PosthogCohort, PosthogCohortMember
from humanic_app.models.rows import id_of
from humanic_app.services import contacts, mapping, processing, wording
from humanic_app.services.errors import Conflict, NotFound, ValidationFailed
from humanic_app.services.posthog import connection, query
from humanic_app.services.rate_limit import RateLimiter

SYNC_PERIOD = timedelta(hours=1)
MAX_RETRY_AFTER_S = 30.0
RETRIES = 3
TIMEOUT_S = 30.0
MAX_PAGES = 500  # of persons (PostHog answers 100 a page): cohorts of up to about 50,000 persons
MAX_LIST_PAGES = 20


@dataclasses.dataclass
class _Client:
    base: str  # {app host}/api/projects/{project id}
    key: str
    limiter: RateLimiter
    sleep: Callable[[float], None]
    requests: int = 0

    def get(self, path: str, query: str = "", *, what: str) -> dict[str, Any]:
        url = f"{self.base}{path}" + (f"?{query}" if query else "")
        for attempt in range(RETRIES + 1):
            answer = self._get(url)
            if answer.status_code != 429:
                return _checked(answer, what)
            wait = _retry_after(answer)
            if wait > MAX_RETRY_AFTER_S or attempt == RETRIES:
                raise Conflict("PostHog is limiting requests (429): try again in a minute.")
            self.limiter.push_back(wait)  # every caller of the deployment waits it out, not only this one
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _get(self, url: str) -> httpx.Response:
        query.take_slot(self.limiter, self.sleep)
        self.requests += 1
        try:
            return httpx.get(url, headers={"Authorization": f"Bearer {self.key}"}, timeout=TIMEOUT_S)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            raise Conflict(f"PostHog did not answer ({type(exc).__name__}): try again.") from exc


def _retry_after(answer: httpx.Response) -> float:
    """A second when PostHog names no wait; an HTTP date is longer than this call waits out."""
    value = answer.headers.get("Retry-After")
    if value is None:
        return 1.0
    seconds = connection.retry_after_seconds(value)
    return MAX_RETRY_AFTER_S + 1 if seconds is None else seconds


def _checked(answer: httpx.Response, what: str) -> dict[str, Any]:
    code = answer.status_code
    if code in (401, 403):
        raise ValidationFailed(
            {
                "personal_api_key": f"PostHog refused the personal API key ({code}): it must be valid and have the "
                "Cohort Read and Person Read scopes (PostHog → Settings → Personal API keys)."
            }
        )
    if code == 404:
        raise NotFound(f"PostHog has no {what} (check the project id in Settings → PostHog API access).")
    if code >= 400:
        raise Conflict(f"PostHog answered {code}: try again later.")
    try:
        found = answer.json()
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise Conflict("PostHog's answer was not JSON.")
    return found


def _client(session: Session, limiter: RateLimiter, sleep: Callable[[float], None]) -> _Client:
    found = connection.row(session=session)
    key = connection.personal_api_key(found) if found is not None else None
    errors = {}
    if found is None or not found.host:
        errors["host"] = "Set where your PostHog is first (Settings → PostHog)."
    if key is None:
        errors["personal_api_key"] = (
            "Set a personal API key with the Cohort Read and Person Read scopes first (Settings → PostHog API access)."
        )
    if found is None or not found.project_id:
        errors["project_id"] = "Set the PostHog project id first (Settings → PostHog API access)."
    if errors or found is None or key is None:
        raise ValidationFailed(errors)
    base = f"{connection.app_host(found.host)}/api/projects/{found.project_id}"
    return _Client(base=base, key=key, limiter=limiter, sleep=sleep)


def _next_query(page: dict[str, Any]) -> str | None:
    following = page.get("next")
    return urlsplit(following).query or None if isinstance(following, str) and following else None


def _results(page: dict[str, Any]) -> list[dict[str, Any]]:
    found = page.get("results")
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def posthog_cohorts(
    *, session: Session, limiter: RateLimiter, sleep: Callable[[float], None] = time.sleep
) -> list[dict[str, Any]]:
    """The project's cohorts (deleted ones left out), each with whether it is imported here."""
    client = _client(session, limiter, sleep)
    listed: list[dict[str, Any]] = []
    query: str | None = "limit=100"
    for _ in range(MAX_LIST_PAGES):
        if query is None:
            break
        page = client.get("/cohorts/", query, what="such project")
        listed += [c for c in _results(page) if isinstance(c.get("id"), int) and not c.get("deleted")]
        query = _next_query(page)
    here = {c.posthog_id: c for c in session.exec(select(PosthogCohort))}
    return [
        {
            "posthog_id": c["id"],
            "name": str(c.get("name") or f"Cohort {c['id']}"),
            "count": c.get("count") if isinstance(c.get("count"), int) else None,
            "is_static": bool(c.get("is_static")),
            "imported_id": here[c["id"]].id if c["id"] in here else None,
            "keep_in_sync": here[c["id"]].keep_in_sync if c["id"] in here else False,
        }
        for c in listed
    ]


def _persons(client: _Client, posthog_id: int) -> list[dict[str, Any]]:
    persons: list[dict[str, Any]] = []
    query: str | None = ""
    for _ in range(MAX_PAGES):
        page = client.get(f"/cohorts/{posthog_id}/persons/", query or "", what=f"cohort {posthog_id}")
        persons += _results(page)
        query = _next_query(page)
        if query is None:
            return persons
    raise Conflict(f"Cohort {posthog_id} has more persons than Humanic imports at once ({MAX_PAGES * 100:,}).")


def identity_of(person: dict[str, Any], *, at: datetime) -> contacts.Identity:
    """A PostHog person as processing would read a delivery about it: its uuid is the person id webhook
    payloads carry, every distinct_id is linked, its properties are the contact's as of `at`."""
    found = (mapping.storable_id(d) for d in person.get("distinct_ids") or [] if isinstance(d, (str, int)))
    distinct_ids = [d for d in found if d]
    properties = person.get("properties") if isinstance(person.get("properties"), dict) else {}
    document = {
        "event": {"event": "$cohort_import", "distinct_id": distinct_ids[0] if distinct_ids else None},
        "person": {"id": str(person["uuid"]) if person.get("uuid") else None, "properties": properties},
    }
    identity = contacts.identity_from_event(mapping.apply_mapping(document, None), at=at)
    identity.distinct_ids = list(dict.fromkeys([*identity.distinct_ids, *distinct_ids]))
    return identity


def _record_members(session: Session, cohort: PosthogCohort, contact_ids: set[int]) -> tuple[int, int]:
    """Makes the cohort's members exactly `contact_ids`: (joined, left)."""
    cohort_id = id_of(cohort)
    before = set(
        session.exec(select(PosthogCohortMember.contact_id).where(PosthogCohortMember.cohort_id == cohort_id)).all()
    )
    left = sorted(before - contact_ids)
    for start in range(0, len(left), 500):
        chunk = left[start : start + 500]
        session.execute(
            delete(PosthogCohortMember).where(
                col(PosthogCohortMember.cohort_id) == cohort_id, col(PosthogCohortMember.contact_id).in_(chunk)
            )
        )
    joined = contact_ids - before
    session.add_all([PosthogCohortMember(cohort_id=cohort_id, contact_id=c) for c in sorted(joined)])
    return len(joined), len(left)


def _bring_in(session: Session, persons: list[dict[str, Any]]) -> tuple[set[int], int, int]:
    """The contacts the persons are (created, matched or merged by processing's rules), how many were
    created, and how many persons were skipped (no email, no contact)."""
    if not processing.take_serial_turn(session=session):
        raise Conflict("Contacts are being processed right now: try again in a moment.")
    at = clock.now()
    identities = [identity_of(p, at=at) for p in persons]
    book = contacts.ContactBook(session, identities)
    matched = [book.match_or_create(identity) for identity in identities]
    book.flush()
    found = {id_of(book.current(c)) for c in matched if c is not None}
    return found, book.created, sum(1 for c in matched if c is None)


def sync(
    *,
    session: Session,
    posthog_id: int,
    limiter: RateLimiter,
    keep_in_sync: bool | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PosthogCohort:
    """Imports (or re-imports) a cohort: its persons as contacts, its members recorded, the ones who left
    removed. A refusal or failure raises and changes nothing; the caller records it (`record_failure`)."""
    client = _client(session, limiter, sleep)
    detail = client.get(f"/cohorts/{posthog_id}/", what=f"cohort {posthog_id}")
    persons = _persons(client, posthog_id)
    found = session.exec(select(PosthogCohort).where(PosthogCohort.posthog_id == posthog_id)).first()
    cohort = found or PosthogCohort(posthog_id=posthog_id, name="")
    cohort.name = str(detail.get("name") or f"Cohort {posthog_id}")[:400]
    if keep_in_sync is not None:
        cohort.keep_in_sync = keep_in_sync
    session.add(cohort)
    session.flush()
    members, created, skipped = _bring_in(session, persons)
    joined, left = _record_members(session, cohort, members)
    cohort.members, cohort.last_synced_at = len(members), clock.now()
    cohort.last_attempt_at, cohort.last_error = cohort.last_synced_at, ""
    cohort.last_result = _result(len(persons), created, joined, left, skipped)
    session.add(cohort)
    session.flush()
    return cohort


def _result(persons: int, created: int, joined: int, left: int, skipped: int) -> str:
    text = f"{wording.plural(persons, 'person')}: {created:,} new, {joined:,} joined, {left:,} left"
    if skipped:
        text += f"; {skipped:,} skipped (no email and no matching contact)"
    return text + "."


def record_failure(*, session: Session, cohort_id: int, error: str) -> None:
    """What a scheduled sync that failed says in the list; it is tried again next period."""
    cohort = session.get(PosthogCohort, cohort_id)
    if cohort is not None:
        cohort.last_error, cohort.last_attempt_at = error[:500], clock.now()
        session.add(cohort)
        session.flush()


def due(*, session: Session) -> list[PosthogCohort]:
    """The kept-in-sync cohorts whose last attempt is a SYNC_PERIOD ago or more."""
    before = clock.now() - SYNC_PERIOD
    return list(
        session.exec(
            select(PosthogCohort)
            .where(
                col(PosthogCohort.keep_in_sync),
                (col(PosthogCohort.last_attempt_at).is_(None)) | (col(PosthogCohort.last_attempt_at) <= before),
            )
            .order_by(col(PosthogCohort.id))
        )
    )


def get(*, session: Session, posthog_id: int) -> PosthogCohort:
    """An imported cohort by its PostHog id."""
    found = session.exec(select(PosthogCohort).where(PosthogCohort.posthog_id == posthog_id)).first()
    if found is None:
        raise NotFound(f"Cohort {posthog_id} is not imported.")
    return found


def set_schedule(*, session: Session, posthog_id: int, keep_in_sync: bool) -> PosthogCohort:
    cohort = get(session=session, posthog_id=posthog_id)
    cohort.keep_in_sync = keep_in_sync
    session.add(cohort)
    session.flush()
    return cohort


def remove(*, session: Session, posthog_id: int) -> None:
    """Forgets the cohort and its memberships; the contacts stay."""
    cohort = get(session=session, posthog_id=posthog_id)
    session.execute(delete(PosthogCohortMember).where(col(PosthogCohortMember.cohort_id) == cohort.id))
    session.delete(cohort)
    session.flush()


def imported(*, session: Session) -> list[PosthogCohort]:
    return list(session.exec(select(PosthogCohort).order_by(func.lower(PosthogCohort.name), col(PosthogCohort.id))))


def cohort_as_dict(cohort: PosthogCohort) -> dict[str, Any]:
    return {
        "id": cohort.id,
        "posthog_id": cohort.posthog_id,
        "name": cohort.name,
        "keep_in_sync": cohort.keep_in_sync,
        "members": cohort.members,
        "last_synced_at": cohort.last_synced_at,
        "last_result": cohort.last_result,
        "last_error": cohort.last_error,
        "last_attempt_at": cohort.last_attempt_at,
        "next_sync_at": (cohort.last_attempt_at or clock.now()) + SYNC_PERIOD if cohort.keep_in_sync else None,
    }
