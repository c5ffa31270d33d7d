"""FastAPI dependencies: the database session and who is calling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.engine import Engine
from sqlmodel import Session

from humanic_app.db import get_engine, session_scope
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


def get_principal(request: Request, session: SessionDep) -> auth.Principal:
    """An API key in `Authorization: Bearer`, or the browser's sign-in cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    principal = None
    if scheme.lower() == "bearer" and credentials:
        principal = auth.principal_for_api_key(session=session, key=credentials.strip())
    elif cookie := request.cookies.get(SESSION_COOKIE):
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


def public_base_url(request: Request, session: Session) -> str:
    """Settings' public URL, else HUMANIC_PUBLIC_URL, else the address this request came to."""
    from humanic_app.services import workspace
    from humanic_app.settings import get_settings

    return workspace.effective_public_url(
        workspace=workspace.get_workspace(session=session),
        env_public_url=get_settings().public_url,
        served_at=str(request.base_url),
    )
