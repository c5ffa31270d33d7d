"""/api/v1: everything the UI can do, for scripts. Every route needs an API key or a signed-in user."""

from fastapi import APIRouter, Depends

from humanic_app.api.deps import get_principal
from humanic_app.api.errors import responses
from humanic_app.api.v1 import (
    api_keys,
    campaigns,
    contacts,
    design,
    diagnostics,
    domains,
    events,
    me,
    messages,
    posthog,
    reputation,
    sending,
    settings,
    sources,
    suppressions,
    topics,
    users,
)

router = APIRouter(prefix="/api/v1", dependencies=[Depends(get_principal)], responses=responses(401, 503))
router.include_router(settings.router)
router.include_router(design.router)
router.include_router(sending.router)
router.include_router(posthog.router)
router.include_router(posthog.backfill_router)
router.include_router(users.router)
router.include_router(sources.router)
router.include_router(events.router)
router.include_router(contacts.router)
router.include_router(campaigns.router)
router.include_router(messages.router)
router.include_router(suppressions.router)
router.include_router(topics.router)
router.include_router(domains.router)
router.include_router(diagnostics.router)
router.include_router(reputation.router)
router.include_router(campaigns.templates_router)
router.include_router(api_keys.router)
router.include_router(me.router)
