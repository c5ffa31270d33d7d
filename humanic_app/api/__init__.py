"""The HTTP side of Humanic, mounted in front of Reflex through `rx.App(api_transformer=...)`."""

from fastapi import Depends, FastAPI

from humanic_app.api import health, metrics, resend_webhook, unsubscribe, v1, webhooks
from humanic_app.api.deps import get_principal
from humanic_app.api.errors import install_error_handlers


def build_api() -> FastAPI:
    api = FastAPI(title="Humanic API", version="1", openapi_url=None, docs_url=None, redoc_url=None)
    install_error_handlers(api)
    api.include_router(health.router)
    api.include_router(metrics.router)
    api.router.routes.extend(webhooks.routes + resend_webhook.routes + unsubscribe.routes)
    api.include_router(v1.router)

    @api.get("/api/v1/openapi.json", include_in_schema=False, dependencies=[Depends(get_principal)])
    def openapi() -> dict:
        return api.openapi()

    return api
