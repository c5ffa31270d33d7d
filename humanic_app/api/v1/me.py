"""/api/v1/me: the signed-in user's own account."""

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from humanic_app.api.deps import PrincipalDep, SessionDep
from humanic_app.api.errors import responses
from humanic_app.api.fields import NO_NUL, REQUEST_MODEL_CONFIG
from humanic_app.services import auth
from humanic_app.services.errors import PermissionDenied

router = APIRouter(prefix="/me", tags=["me"])


class PasswordIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG
    current_password: str = Field(pattern=NO_NUL, max_length=1000)
    new_password: str = Field(pattern=NO_NUL, min_length=10, max_length=1000)


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change your password (signed-in users; an API key has none)",
    responses=responses(400, 401, 403, 422),
)
def change_password(body: PasswordIn, session: SessionDep, principal: PrincipalDep) -> None:
    if principal.user_id is None:
        raise PermissionDenied("An API key has no password: sign in as the user whose password changes.")
    auth.change_password(
        session=session,
        user_id=principal.user_id,
        current_password=body.current_password,
        new_password=body.new_password,
    )
