"""Service errors become JSON answers; a database that cannot be reached becomes 503; a value the database
refuses becomes 422. `responses()` documents those answers in the OpenAPI document, from this one table."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, OperationalError, TimeoutError as PoolTimeout

from humanic_app.services.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

logger = logging.getLogger(__name__)


class ErrorOut(BaseModel):
    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    detail: list[FieldError]


_RESPONSES: dict[int, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not JSON."},
    401: {"model": ErrorOut, "description": "No valid API key (Authorization: Bearer) or sign-in cookie."},
    403: {"model": ErrorOut, "description": "Signed in, but not allowed to do this."},
    404: {"model": ErrorOut, "description": "No such row."},
    409: {"model": ErrorOut, "description": "It already exists."},
    422: {"model": ValidationErrorOut, "description": "A field is invalid: `loc` names it, `msg` says why."},
    429: {"model": ErrorOut, "description": "Too many wrong attempts; retry after Retry-After seconds."},
    503: {"model": ErrorOut, "description": "The database is unreachable; retry after Retry-After seconds."},
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers for `codes`, for a route's or a router's `responses=`."""
    return {code: _RESPONSES[code] for code in codes}


def validation_response(field_errors: dict[str, str], location: str = "body") -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content={
            "detail": [
                {"loc": [location, field], "msg": msg, "type": "value_error"} for field, msg in field_errors.items()
            ]
        },
    )


def install_error_handlers(app: FastAPI) -> None:
    # The documented shape (loc, msg, type) and nothing more: FastAPI's default adds the value sent
    # (`input`), which would show a secret back to the caller (a Resend key pasted in a misnamed field).
    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError):
        return JSONResponse(
            status_code=422,
            content={
                "detail": [
                    {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                    for e in exc.errors()
                ]
            },
        )

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
        return JSONResponse(
            status_code=503,
            content={"detail": "The database is unreachable; retry later."},
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(PoolTimeout)
    async def _db_busy(_: Request, exc: PoolTimeout):
        logger.error("no database connection free within the pool timeout")
        return JSONResponse(
            status_code=503,
            content={"detail": "The database is not answering; retry later."},
            headers={"Retry-After": "5"},
        )

    # A value the database cannot store or compare (an integer past the column's range, a NUL in text on
    # PostgreSQL) is the request's fault, so it is a 422, not a server error; it is logged because the route
    # let through something its bounds should have refused.
    @app.exception_handler(DataError)
    async def _bad_value(request: Request, exc: DataError):
        logger.warning(
            "database refused a value for %s %s: %s",
            request.method,
            request.url.path,
            str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__,
        )
        return JSONResponse(
            status_code=422,
            content={
                "detail": [
                    {
                        "loc": ["request"],
                        "msg": "A value in the request cannot be stored or compared by the database "
                        "(a number out of range, or a character it refuses).",
                        "type": "value_error",
                    }
                ]
            },
        )

    @app.exception_handler(DBAPIError)
    async def _db_error(_: Request, exc: DBAPIError):
        if exc.connection_invalidated:
            return JSONResponse(
                status_code=503,
                content={"detail": "The database is unreachable; retry later."},
                headers={"Retry-After": "5"},
            )
        raise exc
