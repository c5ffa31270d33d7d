"""Users: the owner invites teammates with an email and a temporary password."""

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from humanic_app.api.deps import PrincipalDep, SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import REQUEST_MODEL_CONFIG, Email
from humanic_app.services import auth
from humanic_app.services.auth import MIN_PASSWORD_LENGTH

router = APIRouter(route_class=TransactionRoute, tags=["users"])


class UserOut(BaseModel):
    id: int
    email: str
    role: str
    must_change_password: bool
    created_at: datetime


class InviteIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    email: Email
    temporary_password: str = Field(min_length=MIN_PASSWORD_LENGTH)


def _out(user) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        role=user.role.value,
        must_change_password=user.must_change_password,
        created_at=user.created_at,
    )


@router.get("/users", response_model=list[UserOut], summary="List users")
def list_users(session: SessionDep) -> list[UserOut]:
    return [_out(u) for u in auth.list_users(session=session)]


@router.post(
    "/users",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    summary="Invite a user (owner or API key only)",
    responses=responses(400, 403, 409, 422),
)
def invite_user(body: InviteIn, session: SessionDep, principal: PrincipalDep) -> UserOut:
    user = auth.invite_user(
        session=session, inviter=principal, email=body.email, temporary_password=body.temporary_password
    )
    return _out(user)
