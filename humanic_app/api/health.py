"""Public: /healthz tells a load balancer whether this process can reach its database."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from humanic_app.api.deps import get_db_engine
from humanic_app.api.errors import responses
from humanic_app.services.health import check_database
from humanic_app.settings import get_settings

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database reachability", responses=responses(503))
async def healthz(engine: Annotated[Engine, Depends(get_db_engine)]) -> JSONResponse:
    """Answers within HUMANIC_DB_TIMEOUT_SECONDS (503) even when the database does not answer at all."""
    ok, detail = await check_database(engine=engine, timeout_s=get_settings().db_timeout_seconds)
    return JSONResponse(
        status_code=200 if ok else 503, content={"status": "ok" if ok else "unavailable", "database": detail}
    )
