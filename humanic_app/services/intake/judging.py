"""Decide what to answer each webhook request and store it, for a whole batch of requests at once.

Each request is judged (token, security, parsing, mapping) as it arrives, against the sources as last
read; the durable write then happens in one transaction per batch (services/group_commit.py), which
reads the sources again and re-judges the rare request whose source changed in between.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from humanic_app import clock
from humanic_app.models import Source, SourceStatus
from humanic_app.models.rows import table_of
from humanic_app.services import signing, sources
from humanic_app.services.intake import payloads
from humanic_app.services.intake.storing import (
    HEARD_RESOLUTION,
    Delivery,
    Overlap,
    SourcesAsRead,
    StoredDelivery,
    store_deliveries,
)
from humanic_app.services.mapping import read_event_properties
from humanic_app.services.posthog import capture

RAW_EXCERPT_BYTES = 16 * 1024
BODILESS_METHODS = {"GET", "HEAD"}  # PostHog's webhook offers POST/PUT/PATCH/GET/DELETE; it drops the body for these


@dataclasses.dataclass
class WebhookRequest:
    token: str
    headers: dict[str, str]  # lower-cased names
    body: bytes | None  # None when it was over the size cap
    arrived: float | None = None  # time.perf_counter() when the request came in
    method: str = "POST"


@dataclasses.dataclass
class WebhookAnswer:
    status: int
    body: dict[str, Any]
    event_ids: list[int] = dataclasses.field(default_factory=list)  # what was stored, for the log line


# Loop safety: what Humanic writes back to PostHog carries capture.MARKER; should the destination's filter let
# it through, it is dropped here and never reaches a campaign: each such event is stored as a rejected row,
# alone in its request (answered 202, so PostHog does not retry) or beside ordinary events (answered 200,
# those processed). The rejection's reason is what diagnostics counts for its finding.
WRITTEN_BACK = (
    "Humanic's own write-back event: dropped, it never triggers a campaign; the PostHog destination's "
    f"filter should exclude events whose {capture.MARKER} property is true"
)
WRITTEN_BACK_KEY = "202 " + WRITTEN_BACK.split(":")[0]  # the counter's key (storing.py keeps the part before ':')


def _written_by_humanic(event: payloads.IncomingEvent, mapping: dict[str, Any]) -> bool:
    if event.document is None:
        return False
    return read_event_properties(event.document, mapping).get(capture.MARKER) is True


def _excerpt(body: bytes | None) -> str | None:
    """What the Event Log shows of a rejected body, made storable like an accepted one."""
    return payloads.storable_text(body[:RAW_EXCERPT_BYTES].decode("utf-8", "replace")) if body else None


@dataclasses.dataclass(frozen=True)
class SourceView:
    """What judging a request needs of its source, read through Core (an ORM row costs far more here)."""

    id: int
    mapping: dict[str, Any]
    signing_secret: str | None
    required_header_name: str | None
    required_header_value: str | None

    def judged_by(self) -> tuple:
        """What the judgement of a request depends on: if this is unchanged, so is the judgement."""
        return (self.id, self.signing_secret, self.required_header_name, self.required_header_value, self.mapping)


@dataclasses.dataclass(frozen=True)
class SourceBook:
    """Every live source by token hash, and the hashes of rotated-away tokens and of deleted sources' tokens
    (their URLs answer 404 with a hint)."""

    by_hash: dict[str, SourceView] = dataclasses.field(default_factory=dict)
    rotated: frozenset[str] = frozenset()
    deleted: frozenset[str] = frozenset()
    secret_header_names: frozenset[str] = frozenset()  # every source's required header, masked on any request
    as_read: SourcesAsRead | None = None  # what storing needs of the sources, read in the same transaction

    def judged_by(self, token_hash: str) -> tuple:
        source = self.by_hash.get(token_hash)
        return (
            source.judged_by()
            if source is not None
            else (None, token_hash in self.rotated, token_hash in self.deleted, self.secret_header_names)
        )


_SOURCES = table_of(Source)
_ALL_SOURCES = select(
    _SOURCES.c.token_hash,
    _SOURCES.c.previous_token_hash,
    _SOURCES.c.status,
    _SOURCES.c.id,
    _SOURCES.c.mapping,
    _SOURCES.c.signing_secret,
    _SOURCES.c.required_header_name,
    _SOURCES.c.required_header_value,
    _SOURCES.c.last_event_at,
)


def read_sources(*, session: Session) -> SourceBook:
    """One query for all sources: a workspace has a handful, and this runs once per group commit."""
    rows = session.connection().execute(_ALL_SOURCES).all()
    live = [row for row in rows if row[2] != SourceStatus.deleted]
    stale_before = clock.now() - HEARD_RESOLUTION
    return SourceBook(
        by_hash={row[0]: SourceView(*row[3:8]) for row in live},
        rotated=frozenset(row[1] for row in live if row[1]),
        deleted=frozenset(row[0] for row in rows if row[2] == SourceStatus.deleted),
        secret_header_names=frozenset(row[6] for row in live if row[6]),
        as_read=SourcesAsRead(
            count=len(rows),
            heard_lately=frozenset(
                row[3]
                for row in live
                if row[2] != SourceStatus.waiting_for_test_event and row[8] is not None and row[8] >= stale_before
            ),
        ),
    )


@dataclasses.dataclass
class Judged:
    request: WebhookRequest
    token_hash: str
    judged_by: tuple  # the source's view it was judged against (SourceBook.judged_by)
    delivery: Delivery
    answer: WebhookAnswer
    failure: Exception | None = None  # set by as_failed: this stands in for a request that could not be stored


def judge(*, book: SourceBook, request: WebhookRequest) -> Judged:
    """The CPU part (signature, JSON, mapping), from what is known of the sources, possibly a moment old:
    `store_judged` judges again any request whose source changed since."""
    token_hash = sources.hash_token(request.token)
    delivery, answer = _judge(book, token_hash, request)
    return Judged(request, token_hash, book.judged_by(token_hash), delivery, answer)


def _judge(book: SourceBook, token_hash: str, request: WebhookRequest) -> tuple[Delivery, WebhookAnswer]:
    source = book.by_hash.get(token_hash)
    if source is None:
        reason = (
            "rotated webhook URL: PostHog still uses the old URL — paste the new one"
            if token_hash in book.rotated
            else "source deleted: this URL belonged to a source deleted in Humanic — remove or repoint the "
            "PostHog destination"
            if token_hash in book.deleted
            else "unknown webhook URL"
        )
        masked = sources.mask_headers(source=None, headers=request.headers, also_secret=book.secret_header_names)
        return (
            Delivery(source_id=None, headers=masked, rejected_reason=f"404 {reason}", arrived=request.arrived),
            WebhookAnswer(
                404,
                {
                    "error": f"No source has this webhook URL ({reason}). "
                    "Copy the current URL from Humanic → Integrations."
                },
            ),
        )
    masked = sources.mask_headers(source=source, headers=request.headers)

    def reject(status: int, message: str, **extra: Any) -> tuple[Delivery, WebhookAnswer]:
        return (
            Delivery(
                source_id=source.id,
                headers=masked,
                rejected_reason=f"{status} {message}",
                raw_excerpt=_excerpt(request.body),
                arrived=request.arrived,
            ),
            WebhookAnswer(status, {"error": message, **extra}),
        )

    if request.method in BODILESS_METHODS:
        return reject(
            405,
            f"the destination's method is {request.method}, which PostHog sends without a body: "
            "set it to POST in the PostHog destination",
        )
    if request.body is None:
        return reject(413, "body larger than 1 MiB")
    if not sources.check_required_header(source=source, headers=request.headers):
        return reject(401, f"missing or wrong {source.required_header_name} header")
    webhook_id = None
    if source.signing_secret:
        try:
            webhook_id = signing.verify(secret=source.signing_secret, headers=request.headers, body=request.body)
        except signing.SignatureError as exc:
            return reject(401, f"bad signature: {exc}")
    try:
        events = payloads.parse_body(request.body, source.mapping)
    except payloads.PayloadError as exc:
        return reject(exc.status, exc.message, details=exc.errors)
    marked = [_written_by_humanic(e, source.mapping) for e in events]
    looped = [e for e, mark in zip(events, marked, strict=True) if mark]
    kept = [e for e, mark in zip(events, marked, strict=True) if not mark]
    delivery = Delivery(
        source_id=source.id,
        headers=masked,
        events=kept,
        webhook_id=webhook_id,
        arrived=request.arrived,
        dropped=looped,
        dropped_reason=f"202 {WRITTEN_BACK}",
    )
    if not kept:  # 202, so PostHog does not retry what is dropped on purpose
        return delivery, WebhookAnswer(202, {"error": WRITTEN_BACK})
    return delivery, WebhookAnswer(200, {})


def as_failed(item: Judged, exc: Exception) -> Judged:
    """What to store when a request could not be stored even alone (a bug some input reaches): a
    rejection row, so the Event Log shows the delivery, answered 500 so that PostHog retries it."""
    reason = f"500 could not be stored ({type(exc).__name__}); PostHog retries it"
    delivery = Delivery(
        source_id=item.delivery.source_id,
        headers=item.delivery.headers,
        rejected_reason=reason,
        raw_excerpt=_excerpt(item.request.body),
        arrived=item.request.arrived,
    )
    return Judged(
        item.request,
        item.token_hash,
        item.judged_by,
        delivery,
        WebhookAnswer(500, {"error": "Humanic could not store this delivery; it is logged and PostHog retries it."}),
        failure=exc,
    )


def store_judged(
    *,
    session: Session,
    judged: list[Judged],
    store: Callable[[list[Delivery]], list[StoredDelivery]] | None = None,
    overlap: Overlap | None = None,
) -> SourceBook:
    """Stores what was judged and completes each `answer`. A request whose source changed since it was
    judged (rotated, re-secured, re-mapped, created a moment ago) is judged again against the sources as
    `session` reads them now. `store` writes the deliveries (the SQLite inbox, with `session` a snapshot);
    by default they go into `session`'s own write transaction, which may let the next round overlap its
    tail (`overlap`, see storing.store_deliveries). Returns the current sources, for judging
    the next requests."""
    current = read_sources(session=session)
    for index, item in enumerate(judged):
        if current.judged_by(item.token_hash) != item.judged_by:
            fresh = judge(book=current, request=item.request)
            judged[index] = as_failed(fresh, item.failure) if item.failure and fresh.answer.status == 200 else fresh
    deliveries = [item.delivery for item in judged]
    stored = (
        store(deliveries)
        if store is not None
        else store_deliveries(session=session, deliveries=deliveries, sources=current.as_read, overlap=overlap)
    )
    for item, result in zip(judged, stored, strict=True):
        if item.answer.status == 200:
            item.answer.body = {"accepted": result.accepted, "duplicates": result.duplicates}
        item.answer.event_ids = result.event_ids
    return current
