"""GET /metrics: Prometheus text, for an API key or the HUMANIC_METRICS_TOKEN bearer token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy.engine import Engine

from humanic_app.api.deps import SessionDep, TransactionRoute, get_db_engine, get_principal
from humanic_app.api.errors import responses
from humanic_app.services import metrics
from humanic_app.settings import get_settings

router = APIRouter(route_class=TransactionRoute, tags=["operations"])


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics (API key or metrics token)",
    responses=responses(401, 503),
)
def prometheus_metrics(
    request: Request, session: SessionDep, engine: Annotated[Engine, Depends(get_db_engine)]
) -> PlainTextResponse:
    token = get_settings().metrics_token
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not (token and given and hmac.compare_digest(given.encode(), token.encode())):
        try:
            get_principal(request, engine)
        except HTTPException:
            raise HTTPException(
                status_code=401, detail="Send 'Authorization: Bearer <API key or HUMANIC_METRICS_TOKEN>'."
            ) from None
    return PlainTextResponse(metrics.render(session=session), media_type="text/plain; version=0.0.4")
