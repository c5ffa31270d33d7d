"""/api/v1/suppressions: addresses that are never emailed."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import NO_NUL, REQUEST_MODEL_CONFIG, Email
from humanic_app.models import SuppressionReason
from humanic_app.services import suppression

router = APIRouter(route_class=TransactionRoute, prefix="/suppressions", tags=["suppressions"])


class SuppressionIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    email: Email
    note: str = Field(default="", pattern=NO_NUL, max_length=500)


@router.get("", summary="List suppressed addresses with their reason")
def list_suppressions(session: SessionDep) -> list[dict[str, Any]]:
    return [suppression.as_dict(row) for row in suppression.list_all(session=session)]


@router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Suppress an address by hand", responses=responses(400, 422)
)
def add_suppression(body: SuppressionIn, session: SessionDep) -> dict[str, Any]:
    return suppression.as_dict(
        suppression.add(session=session, email=body.email, reason=SuppressionReason.manual, note=body.note)
    )


@router.delete(
    "/{email}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an address from the list",
    responses=responses(404, 422),
)
def remove_suppression(email: Annotated[str, Path(pattern=NO_NUL)], session: SessionDep) -> None:
    suppression.remove(session=session, email=email)
