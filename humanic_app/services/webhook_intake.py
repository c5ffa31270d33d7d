"""Decide what to answer each webhook request and store it, for a whole batch of requests at once.

The HTTP route only reads the bytes; the source lookup, security checks, parsing and the durable write
happen here, in one transaction per batch (see GroupCommitWriter), so the route stays cheap under load.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlmodel import Session, col, select

from humanic_app.models import Source
from humanic_app.services import payloads, signing, sources
from humanic_app.services.ingest import Delivery, store_deliveries

RAW_EXCERPT_BYTES = 16 * 1024


@dataclasses.dataclass
class WebhookRequest:
    token: str
    headers: dict[str, str]   # lower-cased names
    body: bytes | None        # None when it was over the size cap
    arrived: float | None = None  # time.perf_counter() when the request came in


@dataclasses.dataclass
class WebhookAnswer:
    status: int
    body: dict[str, Any]
    event_ids: list[int] = dataclasses.field(default_factory=list)  # what was stored, for the log line


def _excerpt(body: bytes | None) -> str | None:
    return body[:RAW_EXCERPT_BYTES].decode("utf-8", "replace") if body else None


def _judge(source: Source | None, was_rotated: bool, request: WebhookRequest) -> tuple[Delivery, WebhookAnswer]:
    if source is None:
        reason = ("rotated webhook URL: PostHog still uses the old URL — paste the new one" if was_rotated
                  else "unknown webhook URL")
        return (Delivery(source_id=None, headers=sources.mask_headers(source=None, headers=request.headers),
                         rejected_reason=f"404 {reason}", arrived=request.arrived),
                WebhookAnswer(404, {"error": f"No source has this webhook URL ({reason}). "
                                             "Copy the current URL from Humanic → Integrations."}))
    masked = sources.mask_headers(source=source, headers=request.headers)

    def reject(status: int, message: str, **extra: Any) -> tuple[Delivery, WebhookAnswer]:
        return (Delivery(source_id=source.id, headers=masked, rejected_reason=f"{status} {message}",
                         raw_excerpt=_excerpt(request.body), arrived=request.arrived),
                WebhookAnswer(status, {"error": message, **extra}))

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
    return (Delivery(source_id=source.id, headers=masked, events=events, webhook_id=webhook_id,
                     arrived=request.arrived),
            WebhookAnswer(200, {}))


@dataclasses.dataclass
class _Lookup:
    by_hash: dict[str, Source]
    rotated: set[str]

    def view(self, token_hash: str) -> tuple:
        """What the judgement of a request depends on: if this is unchanged, so is the judgement."""
        source = self.by_hash.get(token_hash)
        if source is None:
            return (None, token_hash in self.rotated)
        return (source.id, source.signing_secret, source.required_header_name, source.required_header_value,
                source.mapping)


def _lookup(session: Session, token_hashes: set[str]) -> _Lookup:
    by_hash = {s.token_hash: s for s in session.exec(select(Source).where(col(Source.token_hash).in_(token_hashes)))}
    missing = token_hashes - set(by_hash)
    rotated = set(session.exec(select(Source.previous_token_hash).where(
        col(Source.previous_token_hash).in_(missing)))) if missing else set()
    return _Lookup(by_hash, rotated)


@dataclasses.dataclass
class Judgement:
    """Answers decided from a snapshot of the sources, before any write lock is taken."""

    token_hashes: list[str]
    lookup: _Lookup
    judged: list[tuple[Delivery, WebhookAnswer]]


def judge_requests(*, session: Session, requests: list[WebhookRequest]) -> Judgement:
    """The CPU-heavy part (signatures, JSON, mapping), from a read-only snapshot: on SQLite it runs
    while other writers (processing) hold the write lock, so the webhook's own write stays short."""
    token_hashes = [sources.hash_token(r.token) for r in requests]
    lookup = _lookup(session, set(token_hashes))
    judged = [_judge(lookup.by_hash.get(h), h in lookup.rotated, r) for r, h in zip(requests, token_hashes)]
    return Judgement(token_hashes, lookup, judged)


def store_judged(*, session: Session, requests: list[WebhookRequest], judgement: Judgement) -> list[WebhookAnswer]:
    """Stores what was judged; a request whose source changed since the snapshot (rotated, re-secured,
    re-mapped a moment ago) is judged again against the current row, inside the write transaction."""
    current = _lookup(session, set(judgement.token_hashes))
    judged = list(judgement.judged)
    for index, (request, token_hash) in enumerate(zip(requests, judgement.token_hashes)):
        if current.view(token_hash) != judgement.lookup.view(token_hash):
            judged[index] = _judge(current.by_hash.get(token_hash), token_hash in current.rotated, request)
    stored = store_deliveries(session=session, deliveries=[delivery for delivery, _ in judged])
    answers = []
    for (_, answer), result in zip(judged, stored):
        if answer.status == 200:
            answer.body = {"accepted": result.accepted, "duplicates": result.duplicates}
        answer.event_ids = result.event_ids
        answers.append(answer)
    return answers


def handle_requests(*, session: Session, requests: list[WebhookRequest]) -> list[WebhookAnswer]:
    """One answer per request, in order; everything accepted or rejected is stored before returning."""
    return store_judged(session=session, requests=requests, judgement=judge_requests(session=session, requests=requests))
