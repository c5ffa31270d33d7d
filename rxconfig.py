import reflex as rx

from humanic_app.settings import get_settings

settings = get_settings()
settings.data_dir.mkdir(parents=True, exist_ok=True)

config = rx.Config(
    app_name="humanic_app",
    db_url=settings.database_url,
    redis_url=settings.redis_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
