"""POST /api/webhooks/posthog/{token}: check the token and signature, cap the size, store, answer.

Mapping, contact matching and campaigns happen after the answer (humanic_app/workers.py). Bad input
gets a 4xx saying what is wrong and is logged; only an unreachable database answers 503.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from humanic_app.db import get_engine, session_scope
from humanic_app.services import payloads, signing, sources
from humanic_app.services.ingest import Delivery
from humanic_app.workers import ingest_writer

logger = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"])

MAX_BODY_BYTES = 1024 * 1024


def _unavailable() -> JSONResponse:
    return JSONResponse(status_code=503, content={"error": "database unreachable; retry later"},
                        headers={"Retry-After": "5"})


async def _read_capped(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


async def _record_rejection(delivery: Delivery) -> None:
    try:
        await ingest_writer.submit(delivery)
    except DBAPIError:
        logger.warning("could not record a rejected delivery: database unreachable")


def _lookup(token: str):
    with session_scope(get_engine()) as session:
        source = sources.find_by_token(session=session, token=token)
        if source is not None:
            session.expunge(source)
            return source, False
        return None, sources.find_by_previous_token(session=session, token=token) is not None


@router.post("/api/webhooks/posthog/{token}", summary="PostHog webhook destination (public, token in the URL)")
async def posthog_webhook(token: str, request: Request) -> JSONResponse:
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        source, was_rotated = await asyncio.to_thread(_lookup, token)
    except DBAPIError:
        return _unavailable()
    if source is None:
        reason = "rotated webhook URL: PostHog still uses the old URL — paste the new one" if was_rotated \
            else "unknown webhook URL"
        await _record_rejection(Delivery(source_id=None, headers=sources.mask_headers(source=None, headers=headers),
                                         rejected_reason=f"404 {reason}"))
        return JSONResponse(status_code=404, content={"error": f"No source has this webhook URL ({reason}). "
                                                               "Copy the current URL from Humanic → Integrations."})
    masked = sources.mask_headers(source=source, headers=headers)

    def reject(status: int, message: str, raw: bytes | None = None, extra: dict | None = None):
        delivery = Delivery(source_id=source.id, headers=masked, rejected_reason=f"{status} {message}",
                            raw_excerpt=raw[:16384].decode("utf-8", "replace") if raw else None)
        return delivery, JSONResponse(status_code=status, content={"error": message, **(extra or {})})

    body = await _read_capped(request)
    if body is None:
        delivery, response = reject(413, "body larger than 1 MiB")
    elif not sources.check_required_header(source=source, headers=headers):
        delivery, response = reject(401, f"missing or wrong {source.required_header_name} header", body)
    else:
        webhook_id = None
        delivery = response = None
        if source.signing_secret:
            try:
                webhook_id = signing.verify(secret=source.signing_secret, headers=headers, body=body)
            except signing.SignatureError as exc:
                delivery, response = reject(401, f"bad signature: {exc}", body)
        if response is None:
            try:
                events = payloads.parse_body(body, source.mapping)
            except payloads.PayloadError as exc:
                delivery, response = reject(exc.status, exc.message, body, {"details": exc.errors})
            else:
                try:
                    stored = await ingest_writer.submit(Delivery(source_id=source.id, headers=masked, events=events,
                                                                 webhook_id=webhook_id))
                except DBAPIError:
                    return _unavailable()
                return JSONResponse(status_code=200, content={
                    "accepted": len(stored.event_ids) - stored.duplicates, "duplicates": stored.duplicates})
    await _record_rejection(delivery)
    return response
