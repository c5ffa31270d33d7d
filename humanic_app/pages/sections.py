"""Pages whose features arrive with later issues: each says what will appear and how to get there."""

import reflex as rx

from humanic_app import routes
from humanic_app.components.shell import empty_state, page_shell


def dashboard_page() -> rx.Component:
    return page_shell(
        "Dashboard",
        empty_state(
            "layout-dashboard",
            "Your setup checklist and charts will live here",
            "Start by adding a default From address and your physical mailing address in Settings, "
            "then connect PostHog under Integrations so product events start flowing in.",
            rx.hstack(rx.link(rx.button("Open Settings", variant="soft"), href=routes.SETTINGS),
                      rx.link(rx.button("Connect PostHog"), href=routes.INTEGRATIONS), spacing="3"),
        ),
    )
