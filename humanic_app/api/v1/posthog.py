"""/api/v1/settings/posthog: writing engagement back to PostHog (Settings → PostHog). The project API key
is write-only: no answer carries it, only whether one is set and when."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, status
from pydantic import BaseModel, Field

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import NO_NUL, REQUEST_MODEL_CONFIG, omitted_or
from humanic_app.services import posthog_backfill as backfill, posthog_cohorts as cohorts
from humanic_app.services.posthog import capture, connection

router = APIRouter(route_class=TransactionRoute, prefix="/settings/posthog", tags=["settings"])
backfill_router = APIRouter(route_class=TransactionRoute, prefix="/posthog", tags=["posthog"])

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
    personal_api_key_set: bool  # backfill's personal API key (never shown back)
    personal_api_key_set_at: datetime | None
    project_id: str
    pull_enabled: bool  # pull-only mode: events polled from PostHog's query API instead of a webhook
    pull_interval_seconds: int
    pull_cursor: datetime | None = Field(description="Events up to here were read; the next poll starts 5 min before.")
    pull_last_at: datetime | None  # the last poll's start
    pull_last_pulled: int  # new events the last successful poll stored
    pull_failures: int  # failed polls in a row
    pull_last_error: str  # why the polls fail, while they do
    pull_last_error_at: datetime | None


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
    personal_api_key: str = omitted_or(
        pattern=NO_NUL,
        max_length=300,
        description="Backfill's personal API key (phx_…, Query Read scope); omitted or blank keeps the stored one.",
    )
    project_id: str = omitted_or(pattern=NO_NUL, max_length=32, description="The PostHog project id backfill queries.")
    pull_enabled: bool = omitted_or(
        description="Pull-only mode: poll PostHog for the events campaigns use (needs the personal key and project id)."
    )
    pull_interval_seconds: int = omitted_or(description="How often to poll, 10 to 3600 seconds (default 30).")


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
    connection.save(
        session=session,
        host=given.get("host"),
        api_key=given.get("api_key"),
        kinds=given.get("kinds"),
        personal_api_key=given.get("personal_api_key"),
        project_id=given.get("project_id"),
        pull_enabled=given.get("pull_enabled"),
        pull_interval_seconds=given.get("pull_interval_seconds"),
    )
    return _status(session)


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop writing back: forget the host, the key and the events still waiting",
)
def delete_posthog(session: SessionDep) -> None:
    connection.remove(session=session)


class BackfillIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    events: list[Annotated[str, Field(pattern=NO_NUL, max_length=200)]] = Field(
        min_length=1, max_length=backfill.MAX_NAMES, description="The event names to import."
    )
    since: datetime
    until: datetime
    fire_emails: bool = Field(default=False, description="Let the imported events enrol and send (off: they do not).")
    dry_run: bool = Field(default=True, description="Only say what would be imported and triggered.")


class BackfillEventCount(BaseModel):
    new: int
    duplicates: int


class BackfillCampaign(BaseModel):
    campaign_id: int
    campaign: str
    trigger: str
    events: int  # new events of its trigger's name


class BackfillOut(BaseModel):
    dry_run: bool
    fire_emails: bool
    fetched: int  # rows PostHog returned
    imported: int  # stored now (0 in a dry run)
    to_import: int  # not received before
    duplicates: int  # already received (any source, same PostHog uuid): skipped
    by_event: dict[str, BackfillEventCount]
    campaigns: list[BackfillCampaign]  # the active campaigns these events trigger
    emails: str
    complete: bool  # False: more remain; run again from `resume_since`
    resume_since: str | None
    stopped_because: str | None = None  # set when the deployment's PostHog query budget stopped it early
    queries: int


@backfill_router.post(
    "/backfill",
    response_model=BackfillOut,
    summary="Import missed events from PostHog's query API (dry run by default; fires no email unless asked)",
    responses=responses(400, 409, 422),
)
def post_backfill(body: BackfillIn, session: SessionDep, request: Request) -> BackfillOut:
    asked = backfill.Asked(
        events=body.events, since=body.since, until=body.until, fire_emails=body.fire_emails, dry_run=body.dry_run
    )
    summary = backfill.run(session=session, asked=asked, limiter=request.app.state.posthog_limiter)
    return BackfillOut.model_validate(summary)


PosthogCohortId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The cohort's id in PostHog.")]


class PosthogCohortOut(BaseModel):
    posthog_id: int
    name: str
    count: int | None  # PostHog's own count of its persons
    is_static: bool
    imported_id: int | None  # set when the cohort is imported here
    keep_in_sync: bool


class CohortOut(BaseModel):
    id: int
    posthog_id: int
    name: str
    keep_in_sync: bool  # re-imported every hour
    members: int  # contacts in it as of the last import
    last_synced_at: datetime | None
    last_result: str
    last_error: str  # why the last scheduled sync failed ("" when it did not)
    last_attempt_at: datetime | None
    next_sync_at: datetime | None


class CohortSyncIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    keep_in_sync: bool | None = Field(
        default=None, description="Keep it in sync every hour (true), import once (false); omitted keeps the setting."
    )


class CohortScheduleIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    keep_in_sync: bool = Field(description="Re-import the cohort every hour.")


@backfill_router.get(
    "/cohorts",
    response_model=list[PosthogCohortOut],
    summary="The PostHog project's cohorts, each with whether it is imported",
    responses=responses(404, 409, 422),
)
def list_posthog_cohorts(request: Request, session: SessionDep) -> list[PosthogCohortOut]:
    return [
        PosthogCohortOut.model_validate(c)
        for c in cohorts.posthog_cohorts(session=session, limiter=request.app.state.posthog_limiter)
    ]


@backfill_router.get(
    "/cohorts/imported", response_model=list[CohortOut], summary="The imported cohorts and their last sync"
)
def list_imported_cohorts(session: SessionDep) -> list[CohortOut]:
    return [CohortOut.model_validate(cohorts.cohort_as_dict(c)) for c in cohorts.imported(session=session)]


@backfill_router.post(
    "/cohorts/{posthog_id}/sync",
    response_model=CohortOut,
    summary="Import a cohort's persons as contacts now (again: members who left are removed)",
    responses=responses(400, 404, 409, 422),
)
def sync_cohort(request: Request, posthog_id: PosthogCohortId, body: CohortSyncIn, session: SessionDep) -> CohortOut:
    found = cohorts.sync(
        session=session,
        posthog_id=posthog_id,
        keep_in_sync=body.keep_in_sync,
        limiter=request.app.state.posthog_limiter,
    )
    return CohortOut.model_validate(cohorts.cohort_as_dict(found))


@backfill_router.put(
    "/cohorts/{posthog_id}/schedule",
    response_model=CohortOut,
    summary="Keep an imported cohort in sync every hour, or not",
    responses=responses(400, 404, 422),
)
def schedule_cohort(posthog_id: PosthogCohortId, body: CohortScheduleIn, session: SessionDep) -> CohortOut:
    found = cohorts.set_schedule(session=session, posthog_id=posthog_id, keep_in_sync=body.keep_in_sync)
    return CohortOut.model_validate(cohorts.cohort_as_dict(found))


@backfill_router.delete(
    "/cohorts/{posthog_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Forget an imported cohort and its memberships (the contacts stay)",
    responses=responses(404),
)
def remove_cohort(posthog_id: PosthogCohortId, session: SessionDep) -> None:
    cohorts.remove(session=session, posthog_id=posthog_id)
