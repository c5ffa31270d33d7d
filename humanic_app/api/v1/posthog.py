"""/api/v1/settings/posthog: writing engagement back to PostHog (Settings → PostHog). The project API key
is write-only: no answer carries it, only whether one is set and when."""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import NO_NUL, REQUEST_MODEL_CONFIG, omitted_or
from humanic_app.services.posthog import capture, connection

router = APIRouter(route_class=TransactionRoute, prefix="/settings/posthog", tags=["settings"])

Kind = Literal[
    "email_sent",
    "email_delivered",
    "email_opened",
    "email_clicked",
    "email_bounced",
    "email_complained",
    "unsubscribed",
    "resubscribed",
    "campaign_enrolled",
    "campaign_exited",
    "campaign_goal_reached",
]


class PosthogStatusOut(BaseModel):
    enabled: bool  # a host and a readable key are set: facts are captured and written
    host: str
    region: Literal["us", "eu", "custom", ""]
    api_key_set: bool
    api_key_set_at: datetime | None
    kinds: list[Kind]  # the kinds written back
    events: dict[str, str] = Field(description="Each kind's event name in PostHog.")
    can_edit: bool  # False on PostgreSQL without HUMANIC_SECRET_KEY
    notes: list[str]
    backlog: int  # events waiting to be written
    last_sent_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    next_attempt_at: datetime | None  # while backing off after a failed call


class PosthogIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    # Checked by the service (each refusal at its field; the key's never repeats the value).
    host: str = omitted_or(
        pattern=NO_NUL,
        max_length=500,
        description="'us' (https://us.i.posthog.com), 'eu' (https://eu.i.posthog.com) or a self-hosted URL.",
    )
    api_key: str = omitted_or(
        pattern=NO_NUL,
        max_length=300,
        description="The project API key (phc_…); omitted or blank keeps the stored one.",
    )
    kinds: list[str] = omitted_or(max_length=len(capture.KINDS), description="The kinds to write back.")


def _status(session) -> PosthogStatusOut:
    found = connection.status_as_dict(connection.status(session=session))
    return PosthogStatusOut.model_validate({**found, "events": capture.EVENTS})


@router.get("", response_model=PosthogStatusOut, summary="Where engagement is written back in PostHog, and how it goes")
def read_posthog(session: SessionDep) -> PosthogStatusOut:
    return _status(session)


@router.put(
    "",
    response_model=PosthogStatusOut,
    summary="Set the host, project API key (stored encrypted) and kinds written back",
    responses=responses(400, 422),
)
def put_posthog(body: PosthogIn, session: SessionDep) -> PosthogStatusOut:
    given = body.model_dump(exclude_unset=True)
    connection.save(session=session, host=given.get("host"), api_key=given.get("api_key"), kinds=given.get("kinds"))
    return _status(session)


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop writing back: forget the host, the key and the events still waiting",
)
def delete_posthog(session: SessionDep) -> None:
    connection.remove(session=session)
