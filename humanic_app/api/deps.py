"""FastAPI dependencies: the database session and who is calling.

A write transaction never outlives the thread hop it began in. FastAPI runs each sync dependency and the
sync endpoint in a hop of their own, and between hops the request waits for the event loop; Reflex runs
sync event handlers on that same loop. A transaction begun in one hop and committed in a later one held
SQLite's write turn while waiting for the loop, so a page's handler waiting on the loop for that turn
froze the whole process (see db.py). So: `get_principal` reads in a session of its own, and the
endpoint's session commits or rolls back in the endpoint's own hop (`TransactionRoute`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine
from sqlmodel import Session

from humanic_app.db import get_engine, read_scope, session_scope
from humanic_app.services import auth

SESSION_COOKIE = "humanic_session"


def get_db_engine() -> Engine:
    return get_engine()


def get_session(engine: Annotated[Engine, Depends(get_db_engine)]) -> Iterator[Session]:
    with session_scope(engine) as session:
        yield session


# scope="function": FastAPI's default runs a yield dependency's exit (our commit) after the answer is
# sent, so a client could act on an answer whose write was not yet committed, or never would be.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_principal(request: Request, engine: Annotated[Engine, Depends(get_db_engine)]) -> auth.Principal:
    """An API key in `Authorization: Bearer`, or the browser's sign-in cookie. Its own transaction, over
    within this hop: a sign-in is only read (a snapshot that takes no write turn), an API key's use is noted."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    principal = None
    if scheme.lower() == "bearer" and credentials:
        with session_scope(engine) as session:
            principal = auth.principal_for_api_key(session=session, key=credentials.strip())
    elif cookie := request.cookies.get(SESSION_COOKIE):
        with read_scope(engine) as session:
            principal = auth.principal_for_session(session=session, token=cookie)
    if principal is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Authentication required: send 'Authorization: Bearer <API key>' "
            "(create one with `python -m humanic_app api-key create --name NAME`) or sign in.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


PrincipalDep = Annotated[auth.Principal, Depends(get_principal)]


def _finished_in_its_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """The sync endpoint, committing (or on error rolling back) the sessions it was given before it returns,
    in the thread it ran in; `get_session`'s own commit afterwards finds nothing left to do."""

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = [value for value in kwargs.values() if isinstance(value, Session)]
        try:
            result = endpoint(*args, **kwargs)
            for session in sessions:
                session.commit()
        except BaseException:
            for session in sessions:
                session.rollback()
            raise
        return result

    return run


class TransactionRoute(APIRoute):
    """The route class of every router whose endpoints take a `SessionDep`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _finished_in_its_hop(endpoint)
        super().__init__(path, endpoint, **kwargs)


def public_base_url(request: Request, session: Session) -> str:
    """Settings' public URL, else HUMANIC_PUBLIC_URL, else the address this request came to."""
    from humanic_app.services import workspace
    from humanic_app.settings import get_settings

    return workspace.effective_public_url(
        workspace=workspace.get_workspace(session=session),
        env_public_url=get_settings().public_url,
        served_at=str(request.base_url),
    )
