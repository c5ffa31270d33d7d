"""/api/v1/campaigns: the same campaign document as the builder and the YAML files."""

from typing import Any

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, Field
from sqlmodel import Session

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import REQUEST_MODEL_CONFIG, Email, RowId, WholeNumber
from humanic_app.models import CampaignStatus
from humanic_app.models.rows import id_of
from humanic_app.services import dmarc, workspace
from humanic_app.services.campaigns import guardrails, store
from humanic_app.services.campaigns.schema import CampaignDocument

router = APIRouter(route_class=TransactionRoute, prefix="/campaigns", tags=["campaigns"])


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """The document's JSON schema with its $defs written in place: it is stated in each operation's body."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


# The body stays a plain object for the route, so the service's validation reports its own field paths
# (e.g. 'steps.0.delay') and template syntax errors; the document states the campaign format it checks.
_DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inlined(CampaignDocument.model_json_schema())}},
    }
}


class TestSendIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    to: Email
    step: WholeNumber = Field(default=0, ge=0, description="The step's index in the campaign, from 0.")


def _out(session, campaign) -> dict[str, Any]:
    counts = store.message_counts(session=session, campaign_ids=[campaign.id])[campaign.id]
    return store.campaign_as_dict(
        campaign=campaign, counts=counts, overlapping=store.overlapping_triggers(session=session, campaign=campaign)
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a campaign (draft) from a document",
    openapi_extra=_DOCUMENT_BODY,
    responses=responses(400, 422),
)
def create(document: dict[str, Any], session: SessionDep) -> dict[str, Any]:
    return _out(session, store.create_campaign(session=session, document=document))


@router.get("", summary="List campaigns")
def list_all(session: SessionDep) -> list[dict[str, Any]]:
    campaigns = store.list_campaigns(session=session)
    counts = store.message_counts(session=session, campaign_ids=[id_of(c) for c in campaigns])
    return [store.campaign_as_dict(campaign=c, counts=counts[id_of(c)]) for c in campaigns]


@router.post(
    "/{campaign_id}/edit-preview",
    summary="What saving this document would do to the contacts already in the journey (nothing is saved)",
    openapi_extra=_DOCUMENT_BODY,
    responses=responses(400, 404, 422),
)
def edit_preview(campaign_id: RowId, document: dict[str, Any], session: SessionDep) -> dict[str, Any]:
    return store.edit_effects(session=session, campaign_id=campaign_id, document=document)


@router.get(
    "/{campaign_id}/journey",
    summary="Per node of the journey: contacts waiting there now and how many passed through (by path)",
    responses=responses(404, 422),
)
def journey(campaign_id: RowId, session: SessionDep) -> dict[str, Any]:
    return store.node_counts(session=session, campaign_id=campaign_id)


@router.get("/{campaign_id}", summary="One campaign", responses=responses(404, 422))
def get(campaign_id: RowId, session: SessionDep) -> dict[str, Any]:
    return _out(session, store.get_campaign(session=session, campaign_id=campaign_id))


@router.put(
    "/{campaign_id}",
    summary="Replace the document (applies to future enrolments)",
    openapi_extra=_DOCUMENT_BODY,
    responses=responses(400, 404, 422),
)
def put(campaign_id: RowId, document: dict[str, Any], session: SessionDep) -> dict[str, Any]:
    return _out(session, store.update_campaign(session=session, campaign_id=campaign_id, document=document))


@router.get(
    "/{campaign_id}/readiness",
    summary="What activating it would meet: blockers (refused, each with its field and fix) and warnings (DMARC)",
    responses=responses(404, 422),
)
def readiness(campaign_id: RowId, session: SessionDep) -> dict[str, Any]:
    campaign = store.get_campaign(session=session, campaign_id=campaign_id)
    found = guardrails.blockers(session=session, campaign=campaign)
    return guardrails.readiness_as_dict(found=found, check=_dmarc_after_commit(session))


def _dmarc_after_commit(session: Session) -> dmarc.DmarcCheck | None:
    """The DMARC check, once this request's transaction is over: a DNS lookup must not hold the write turn."""
    from_email = workspace.read_workspace(session=session).from_email
    through_resend = guardrails.resend_configured(session=session)
    session.commit()
    return guardrails.dmarc_check(from_email=from_email, sending_through_resend=through_resend)


def _status_route(target: CampaignStatus, summary: str):
    def change(campaign_id: RowId, session: SessionDep) -> dict[str, Any]:
        answer = _out(session, store.set_status(session=session, campaign_id=campaign_id, status=target))
        if target == CampaignStatus.active:  # activated: what still deserves attention, without refusing
            answer["warnings"] = guardrails.warnings_as_list(_dmarc_after_commit(session))
        return answer

    router.add_api_route(
        f"/{{campaign_id}}/{_VERBS[target]}",
        change,
        methods=["POST"],
        summary=summary,
        name=f"campaign_{_VERBS[target]}",
        responses=responses(404, 422),
    )


_VERBS = {CampaignStatus.active: "activate", CampaignStatus.paused: "pause", CampaignStatus.archived: "archive"}
_status_route(
    CampaignStatus.active,
    "Activate (422 naming each blocker by field: from_email, from_domain, physical_address, public_url, steps.N; "
    "the answer's `warnings` hold the DMARC notice)",
)
_status_route(CampaignStatus.paused, "Pause: pending steps are held")
_status_route(CampaignStatus.archived, "Archive: pending steps are cancelled")


@router.post(
    "/{campaign_id}/dry-run",
    summary="What it would have sent over the last N days (sends nothing)",
    responses=responses(404, 422),
)
def dry_run(campaign_id: RowId, session: SessionDep, days: int = Query(30, ge=1, le=3650)) -> dict[str, Any]:
    from humanic_app.services.campaigns.dry_run import dry_run as run

    campaign = store.get_campaign(session=session, campaign_id=campaign_id)
    return run(session=session, document=campaign.definition, days=days)


@router.post(
    "/{campaign_id}/test-send",
    summary="Send one step to an address, marked as a test",
    responses=responses(400, 404, 422),
)
def test_send(campaign_id: RowId, body: TestSendIn, session: SessionDep, request: Request) -> dict[str, Any]:
    from humanic_app.services.campaigns.preview import queue_test_send, variables_for_event
    from humanic_app.services.delivery import messages

    campaign = store.get_campaign(session=session, campaign_id=campaign_id)
    message = queue_test_send(
        session=session,
        document=campaign.definition,
        step_index=body.step,
        to=body.to,
        variables=variables_for_event(session=session, event=None),
        campaign_id=campaign.id,
    )
    request.app.state.wake_dispatcher()
    return messages.message_as_dict(message)


@router.post(
    "/{campaign_id}/preview",
    summary="Render one step on a received event (event_id) or a sample; lists missing variables",
    responses=responses(400, 404, 422),
)
def preview(campaign_id: RowId, session: SessionDep, body: dict[str, Any] | None = None) -> dict[str, Any]:
    from humanic_app.services import event_log
    from humanic_app.services.campaigns.preview import preview_step

    body = body or {}
    campaign = store.get_campaign(session=session, campaign_id=campaign_id)
    event = event_log.get_event(session=session, event_id=int(body["event_id"])) if body.get("event_id") else None
    return preview_step(session=session, document=campaign.definition, step_index=int(body.get("step", 0)), event=event)


templates_router = APIRouter(route_class=TransactionRoute, prefix="/campaign-templates", tags=["campaigns"])


@templates_router.get("", summary="The ready-made campaigns, {slug: document}: POST one to /campaigns to use it")
def list_templates(session: SessionDep) -> dict[str, dict[str, Any]]:
    from humanic_app.services import workspace
    from humanic_app.services.campaigns import library

    return library.templates(workspace_name=workspace.read_workspace(session=session).name)
