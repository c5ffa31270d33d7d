"""/api/v1/reputation: the rolling complaint and bounce rates while sending, and the guardrail's lines.

A campaign the guardrail paused resumes with POST /api/v1/campaigns/{id}/activate; all sending with
POST /api/v1/settings/resume-sending. Either way only events from the Resume on count (services/reputation.py).
"""

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, BeforeValidator, Field

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import REQUEST_MODEL_CONFIG, WholeNumber, omitted_or
from humanic_app.services import reputation, workspace

router = APIRouter(route_class=TransactionRoute, prefix="/reputation", tags=["reputation"])


def _json_number(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        raise ValueError("Input should be a number")
    return value


Percent = Annotated[float, BeforeValidator(_json_number), Field(allow_inf_nan=False)]


class ThresholdsOut(BaseModel):
    rate_min_volume: int  # emails delivered or bounced in the window before any rate is computed
    complaint_warn_pct: float
    complaint_pause_pct: float
    bounce_warn_pct: float
    bounce_pause_pct: float


class ThresholdsUpdate(BaseModel):
    """Percentages of the emails delivered or bounced in the rolling 24 h; each pause line at or above its
    warning line (checked against the saved values for a field left out)."""

    model_config = REQUEST_MODEL_CONFIG

    rate_min_volume: WholeNumber = omitted_or(ge=1, le=reputation.MAX_MIN_VOLUME)
    complaint_warn_pct: Percent = omitted_or(gt=0, le=100)
    complaint_pause_pct: Percent = omitted_or(gt=0, le=100)
    bounce_warn_pct: Percent = omitted_or(gt=0, le=100)
    bounce_pause_pct: Percent = omitted_or(gt=0, le=100)


class RateOut(BaseModel):
    scope: str  # "*" for the whole workspace, else the campaign id
    campaign_id: int | None
    name: str
    delivered: int
    bounced: int
    complained: int
    denominator: int  # delivered + bounced: the base of both rates
    complaint_pct: float | None  # None under the minimum volume
    bounce_pct: float | None
    counting_since: str | None  # the Resume counting restarted at, while it is inside the 24 h
    level: str  # too_few | ok | warn | pause
    cause: str
    paused_reason: str  # set while the guardrail holds this scope paused


class ReputationOut(BaseModel):
    thresholds: ThresholdsOut
    rates: list[RateOut]


@router.get("", response_model=ReputationOut, summary="Rolling 24 h complaint and bounce rates, and the lines")
def read_reputation(session: SessionDep) -> dict:
    return {
        "thresholds": reputation.thresholds_as_dict(workspace.get_workspace(session=session)),
        "rates": [s.as_dict() for s in reputation.standings(session=session)],
    }


@router.put(
    "/thresholds",
    response_model=ThresholdsOut,
    summary="Change the warning and pause lines and the minimum volume",
    responses=responses(400, 422),
)
def update_thresholds(body: ThresholdsUpdate, session: SessionDep) -> dict:
    workspace.get_workspace(session=session)
    ws = reputation.update_thresholds(session=session, changes=body.model_dump(exclude_unset=True))
    return reputation.thresholds_as_dict(ws)
