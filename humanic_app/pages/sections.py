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


def domains_page() -> rx.Component:
    return page_shell(
        "Domains",
        rx.callout("Without RESEND_API_KEY, Humanic runs in local outbox mode: emails stay on this machine (see "
                   "Messages) and no sending domain is needed. Set RESEND_API_KEY to send through your Resend "
                   "account from your own domain.",
                   icon="info", width="100%"),
        empty_state("globe", "No sending domain yet",
                    "Campaigns send from your own domain through your Resend account. Adding a domain here "
                    "(with its DNS records to copy and a Verify button) is not built yet; until then, verify "
                    "your domain in Resend's dashboard and set the From address in Settings."),
    )
