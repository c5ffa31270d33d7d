import os

import reflex as rx

from humanic_app.browser_security import allowed_origins
from humanic_app.settings import get_settings

settings = get_settings()
settings.data_dir.mkdir(parents=True, exist_ok=True)

config = rx.Config(
    app_name="humanic_app",
    db_url=settings.database_url,
    redis_url=settings.redis_url,
    # Credentialed cross-origin requests only from the app's own origins (Reflex's default is any origin).
    cors_allowed_origins=allowed_origins(settings=settings, dev_mode=os.environ.get("REFLEX_ENV_MODE", "dev") == "dev"),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
