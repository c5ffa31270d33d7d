"""Service errors become JSON answers; a database that cannot be reached becomes 503."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from humanic_app.services.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

logger = logging.getLogger(__name__)


def validation_response(field_errors: dict[str, str], location: str = "body") -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content={"detail": [{"loc": [location, field], "msg": msg, "type": "value_error"}
                            for field, msg in field_errors.items()]},
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ValidationFailed)
    async def _validation(_: Request, exc: ValidationFailed):
        return validation_response(exc.field_errors)

    simple = {NotFound: 404, Conflict: 409, PermissionDenied: 403, AuthenticationFailed: 401}
    for exc_type, code in simple.items():
        def handler(_: Request, exc: Exception, code: int = code):
            return JSONResponse(status_code=code, content={"detail": str(exc)})

        app.add_exception_handler(exc_type, handler)

    @app.exception_handler(OperationalError)
    async def _db_down(_: Request, exc: OperationalError):
        logger.error("database unreachable: %s", type(exc.orig).__name__)
        return JSONResponse(status_code=503, content={"detail": "The database is unreachable; retry later."},
                            headers={"Retry-After": "5"})

    @app.exception_handler(DBAPIError)
    async def _db_error(_: Request, exc: DBAPIError):
        if exc.connection_invalidated:
            return JSONResponse(status_code=503, content={"detail": "The database is unreachable; retry later."},
                                headers={"Retry-After": "5"})
        raise exc
