"""The HTTP side of Humanic, mounted in front of Reflex through `rx.App(api_transformer=...)`."""

from collections.abc import Callable

from fastapi import Depends, FastAPI

from humanic_app.api import health, metrics, resend_webhook, unsubscribe, v1, webhooks
from humanic_app.api.deps import get_principal
from humanic_app.api.errors import install_error_handlers
from humanic_app.services.intake.writer import IntakeWriter
from humanic_app.services.posthog import query
from humanic_app.services.rate_limit import RateLimiter


def _nothing() -> None:
    return None


def build_api(
    *,
    intake: IntakeWriter | None = None,
    wake_dispatcher: Callable[[], None] = _nothing,
    posthog_limiter: RateLimiter | None = None,
) -> FastAPI:
    """`intake` stores the webhook's deliveries, `wake_dispatcher` is called when a route wrote a message
    due now, and `posthog_limiter` is the deployment's PostHog query budget (backfill takes its slots);
    the app's wiring (wiring.py) passes all three. Without them (a test client) the webhook stores through
    a writer of its own, nothing is woken and PostHog queries are paced by a limiter of this API's own."""
    api = FastAPI(title="Humanic API", version="1", openapi_url=None, docs_url=None, redoc_url=None)
    api.state.wake_dispatcher = wake_dispatcher
    api.state.posthog_limiter = posthog_limiter or query.budget(None)
    install_error_handlers(api)
    api.include_router(health.router)
    api.include_router(metrics.router)
    api.router.routes.extend(webhooks.routes_for(intake or IntakeWriter()) + resend_webhook.routes + unsubscribe.routes)
    api.include_router(v1.router)

    @api.get("/api/v1/openapi.json", include_in_schema=False, dependencies=[Depends(get_principal)])
    def openapi() -> dict:
        return api.openapi()

    return api
