"""POST /api/webhooks/posthog/{token}: read at most 1 MiB, hand it to the intake, answer what it decided.

The intake writer (services/intake/writer.py), given to `routes_for` and `direct_route` when the app is
built, checks the token, signature and shape and stores the delivery durably before this answers;
mapping, contacts and campaigns run after the answer, in the background worker. Bad input gets a 4xx
saying what is wrong; only a database that is unreachable or does not answer within
HUMANIC_DB_TIMEOUT_SECONDS answers 503 (PostHog retries it).
"""

from __future__ import annotations

import functools
import logging
import time

from sqlalchemy.exc import DBAPIError, TimeoutError as PoolTimeout
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from humanic_app.services.group_commit import NotStoredInTime
from humanic_app.services.intake.judging import WebhookRequest
from humanic_app.services.intake.writer import IntakeWriter

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


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


async def posthog_webhook(request: Request, *, intake: IntakeWriter) -> JSONResponse:
    """A plain Starlette endpoint: this is the hot path, and FastAPI's per-request machinery buys nothing here."""
    arrived = time.perf_counter()
    token = request.path_params["token"]
    headers = {k.lower(): v for k, v in request.headers.items()}
    body = await _read_capped(request)
    try:
        answer = await intake.submit(
            WebhookRequest(token=token, headers=headers, body=body, arrived=arrived, method=request.method)
        )
    except (DBAPIError, PoolTimeout, NotStoredInTime) as exc:
        logger.error("webhook could not store a delivery: %s", type(getattr(exc, "orig", None) or exc).__name__)
        return JSONResponse(
            status_code=503, content={"error": "database unreachable; retry later"}, headers={"Retry-After": "5"}
        )
    except Exception:  # a bug, not bad input: said plainly, and PostHog retries a 500
        logger.exception("webhook could not store a delivery")
        return JSONResponse(
            status_code=500, content={"error": "Humanic could not store this delivery; PostHog retries it."}
        )
    return JSONResponse(status_code=answer.status, content=answer.body)


WEBHOOK_PREFIX = "/api/webhooks/posthog/"
# Every method PostHog's webhook destination offers reaches the intake: those with a body are accepted
# like POST, GET gets a 405 that says what to change, and each is in the Event Log.
METHODS = ["POST", "PUT", "PATCH", "DELETE", "GET"]


def routes_for(intake: IntakeWriter) -> list[Route]:
    """The webhook's route, storing through `intake`."""
    endpoint = functools.partial(posthog_webhook, intake=intake)
    return [Route(WEBHOOK_PREFIX + "{token}", endpoint, methods=METHODS, name="posthog_webhook")]


def direct_route(app: ASGIApp, *, intake: IntakeWriter | None = None) -> ASGIApp:
    """An `api_transformer`: webhook requests go straight to their route, past the API's CORS and
    exception layers and its route table. PostHog calls server to server; this is the hot path.
    Without an `intake` (a test client) it stores through a writer of its own that no worker wakes."""
    router = Router(routes=routes_for(intake or IntakeWriter()))

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(WEBHOOK_PREFIX):
            await router(scope, receive, send)
        else:
            await app(scope, receive, send)

    return asgi
