"""/api/v1/me: the signed-in user's own account."""

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from humanic_app.api.deps import SESSION_COOKIE, PrincipalDep, SessionDep, TransactionRoute
from humanic_app.api.errors import responses, validation_response
from humanic_app.api.fields import NO_NUL, REQUEST_MODEL_CONFIG
from humanic_app.services import auth
from humanic_app.services.errors import PermissionDenied

router = APIRouter(route_class=TransactionRoute, prefix="/me", tags=["me"])


class PasswordIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG
    current_password: str = Field(pattern=NO_NUL, max_length=1000)
    new_password: str = Field(pattern=NO_NUL, min_length=10, max_length=1000)


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change your password (signed-in users; an API key has none); your other sessions are signed out",
    responses=responses(400, 401, 403, 422, 429),
)
def change_password(body: PasswordIn, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    if principal.user_id is None:
        raise PermissionDenied("An API key has no password: sign in as the user whose password changes.")
    change = auth.change_password(
        session=session,
        user_id=principal.user_id,
        current_password=body.current_password,
        new_password=body.new_password,
        keep_token=request.cookies.get(SESSION_COOKIE, ""),
    )
    if change.retry_after:
        return JSONResponse(
            status_code=429,
            content={"detail": change.errors["current_password"]},
            headers={"Retry-After": str(change.retry_after)},
        )
    if change.errors:
        return validation_response({"new_password" if f == "password" else f: m for f, m in change.errors.items()})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
