"""/api/v1/api-keys: create (the key is in that answer only), list (with when each was last used), revoke."""

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import NOT_BLANK, REQUEST_MODEL_CONFIG, RowId
from humanic_app.models import limits
from humanic_app.services import auth

router = APIRouter(route_class=TransactionRoute, prefix="/api-keys", tags=["api-keys"])


class ApiKeyIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG
    name: str = Field(pattern=NOT_BLANK, max_length=limits.NAME, description="What the key is for, e.g. terraform.")


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewApiKeyOut(ApiKeyOut):
    key: str  # shown in this answer only


def _out(row) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "prefix": row.prefix,
        "created_at": row.created_at,
        "last_used_at": row.last_used_at,
        "revoked_at": row.revoked_at,
    }


@router.get("", response_model=list[ApiKeyOut], summary="List API keys (never the keys themselves)")
def list_keys(session: SessionDep) -> list[dict]:
    return [_out(row) for row in auth.list_api_keys(session=session)]


@router.post(
    "",
    response_model=NewApiKeyOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key: the answer is the only time the key is shown",
    responses=responses(400, 422),
)
def create_key(body: ApiKeyIn, session: SessionDep) -> dict:
    row, key = auth.create_api_key(session=session, name=body.name)
    return {**_out(row), "key": key}


@router.delete(
    "/{api_key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API key", responses=responses(404, 422)
)
def revoke_key(api_key_id: RowId, session: SessionDep) -> None:
    auth.revoke_api_key(session=session, api_key_id=api_key_id)
