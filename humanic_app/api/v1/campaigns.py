"""/api/v1/campaigns: the same campaign document as the builder and the YAML files."""

from typing import Any

from fastapi import APIRouter, Request, status

from humanic_app.api.deps import SessionDep
from humanic_app.models import CampaignStatus
from humanic_app.models.rows import id_of
from humanic_app.services.campaigns import store

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


def _out(session, campaign) -> dict[str, Any]:
    counts = store.message_counts(session=session, campaign_ids=[campaign.id])[campaign.id]
    return store.campaign_as_dict(campaign=campaign, counts=counts,
                                  overlapping=store.overlapping_triggers(session=session, campaign=campaign))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a campaign (draft) from a document")
def create(document: dict[str, Any], session: SessionDep) -> dict[str, Any]:
    return _out(session, store.create_campaign(session=session, document=document))


@router.get("", summary="List campaigns")
def list_all(session: SessionDep) -> list[dict[str, Any]]:
    campaigns = store.list_campaigns(session=session)
    counts = store.message_counts(session=session, campaign_ids=[id_of(c) for c in campaigns])
    return [store.campaign_as_dict(campaign=c, counts=counts[id_of(c)]) for c in campaigns]


@router.get("/{campaign_id}", summary="One campaign")
def get(campaign_id: int, session: SessionDep) -> dict[str, Any]:
    return _out(session, store.get_campaign(session=session, campaign_id=campaign_id))


@router.put("/{campaign_id}", summary="Replace the document (applies to future enrolments)")
def put(campaign_id: int, document: dict[str, Any], session: SessionDep) -> dict[str, Any]:
    return _out(session, store.update_campaign(session=session, campaign_id=campaign_id, document=document))


def _status_route(target: CampaignStatus, summary: str):
    def change(campaign_id: int, session: SessionDep) -> dict[str, Any]:
        return _out(session, store.set_status(session=session, campaign_id=campaign_id, status=target))

    router.add_api_route(f"/{{campaign_id}}/{_VERBS[target]}", change, methods=["POST"], summary=summary,
                         name=f"campaign_{_VERBS[target]}")


_VERBS = {CampaignStatus.active: "activate", CampaignStatus.paused: "pause", CampaignStatus.archived: "archive"}
_status_route(CampaignStatus.active, "Activate (refused with the reason when sending is not set up)")
_status_route(CampaignStatus.paused, "Pause: pending steps are held")
_status_route(CampaignStatus.archived, "Archive: pending steps are cancelled")


@router.post("/{campaign_id}/dry-run", summary="What it would have sent over the last N days (sends nothing)")
def dry_run(campaign_id: int, session: SessionDep, days: int = 30) -> dict[str, Any]:
    from humanic_app.services.campaigns.dry_run import dry_run as run

    campaign = store.get_campaign(session=session, campaign_id=campaign_id)
    return run(session=session, document=campaign.definition, days=max(1, min(days, 3650)))


@router.post("/{campaign_id}/test-send", summary="Send one step to an address, marked as a test")
def test_send(campaign_id: int, body: dict[str, Any], session: SessionDep, request: Request) -> dict[str, Any]:
    from humanic_app.services.campaigns.preview import queue_test_send, variables_for_event
    from humanic_app.services.delivery import messages

    campaign = store.get_campaign(session=session, campaign_id=campaign_id)
    message = queue_test_send(session=session, document=campaign.definition,
                              step_index=int(body.get("step", 0)), to=str(body.get("to", "")),
                              variables=variables_for_event(session=session, event=None),
                              campaign_id=campaign.id)
    request.app.state.wake_dispatcher()
    return messages.message_as_dict(message)
