"""POST /api/webhooks/resend: Resend's delivery events (through Svix), verified on the raw body."""

from __future__ import annotations

import asyncio
import json

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from humanic_app.db import get_engine, read_scope, session_scope
from humanic_app.services import signing, suppression
from humanic_app.services.errors import ValidationFailed
from humanic_app.services.sending import credentials

MAX_BODY_BYTES = 256 * 1024


def _secret() -> str | None:
    with read_scope(get_engine()) as session:
        return credentials.in_effect(session=session).webhook_secret


def _record(svix_id: str, payload: dict) -> str:
    with session_scope(get_engine()) as session:
        return suppression.record_resend_event(session=session, svix_id=svix_id, payload=payload)


async def resend_webhook(request: Request) -> JSONResponse:
    secret = await asyncio.to_thread(_secret)
    if not secret:
        return JSONResponse(
            status_code=404,
            content={
                "error": "Resend webhooks are not configured: register the webhook in Settings → Sending, or "
                "set RESEND_WEBHOOK_SECRET to the endpoint's signing secret."
            },
        )
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return JSONResponse(status_code=413, content={"error": "body too large"})
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        svix_id = suppression.verify_resend_signature(secret=secret, headers=headers, body=body)
    except signing.SignatureError as exc:
        return JSONResponse(status_code=401, content={"error": f"bad signature: {exc}"})
    try:
        payload = json.loads(body)
    except ValueError:
        return JSONResponse(status_code=400, content={"error": "the body is not valid JSON"})
    try:
        outcome = await asyncio.to_thread(_record, svix_id, payload)
    except ValidationFailed as exc:
        return JSONResponse(status_code=422, content={"error": str(exc)})
    return JSONResponse(status_code=200, content={"result": outcome})


routes = [Route("/api/webhooks/resend", resend_webhook, methods=["POST"])]
