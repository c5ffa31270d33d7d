"""The signed-in frame: sidebar, top bar, paused banner. Content shows only once the session is confirmed."""

from __future__ import annotations

import reflex as rx

from humanic_app import routes
from humanic_app.state.auth import AuthState

NAV_ITEMS = [
    ("Dashboard", routes.DASHBOARD, "layout-dashboard"),
    ("Integrations", routes.INTEGRATIONS, "plug"),
    ("Event Log", routes.EVENT_LOG, "activity"),
    ("Campaigns", routes.CAMPAIGNS, "send"),
    ("Contacts", routes.CONTACTS, "users"),
    ("Messages", routes.MESSAGES, "mail"),
    ("Domains", routes.DOMAINS, "globe"),
    ("Settings", routes.SETTINGS, "settings"),
]


def _nav_link(label: str, href: str, icon: str) -> rx.Component:
    active = rx.State.router.page.path == href
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), align="center", spacing="2"),
        href=href,
        underline="none",
        padding="6px 10px",
        border_radius="6px",
        width="100%",
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 12)),
        background=rx.cond(active, rx.color("accent", 3), "transparent"),
        _hover={"background": rx.color("gray", 3)},
    )


def sidebar() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.icon("mail-check", size=20), rx.heading("Humanic", size="4"), align="center", padding="8px 10px"),
        rx.el.nav(
            rx.vstack(*[_nav_link(*item) for item in NAV_ITEMS], spacing="1", width="100%"),
            aria_label="Main",
            style={"width": "100%"},
        ),
        rx.spacer(),
        rx.vstack(
            rx.text(AuthState.user_email, size="1", color_scheme="gray", id="signed-in-as"),
            rx.hstack(
                rx.color_mode.button(size="1", variant="ghost", aria_label="Toggle light/dark mode"),
                rx.button("Sign out", size="1", variant="soft", on_click=AuthState.sign_out),
                spacing="2",
            ),
            padding="10px",
            spacing="2",
        ),
        width="220px",
        min_width="220px",
        height="100vh",
        position="sticky",
        top="0",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        padding="12px 8px",
    )


def paused_banner() -> rx.Component:
    return rx.cond(
        AuthState.workspace_paused,
        rx.callout(
            rx.hstack(
                rx.text(
                    "This workspace is paused: events are still received and stored, but no campaign fires "
                    "and no email is sent."
                ),
                rx.link("Resume in Settings", href=routes.SETTINGS),
                spacing="3",
                wrap="wrap",
            ),
            icon="circle-pause",
            color_scheme="amber",
            id="paused-banner",
            width="100%",
        ),
    )


def sending_blocked_banner() -> rx.Component:
    return rx.cond(
        AuthState.sending_blocked != "",
        rx.callout(
            rx.hstack(
                rx.text(AuthState.sending_blocked), rx.link("Settings", href=routes.SETTINGS), spacing="3", wrap="wrap"
            ),
            icon="octagon-alert",
            color_scheme="red",
            id="sending-blocked-banner",
            width="100%",
        ),
    )


PAGE_ROUTES = {
    "Integrations": routes.INTEGRATIONS,
    "Event Log": routes.EVENT_LOG,
    "Campaigns": routes.CAMPAIGNS,
    "Contacts": routes.CONTACTS,
    "Messages": routes.MESSAGES,
    "Domains": routes.DOMAINS,
    "Settings": routes.SETTINGS,
}


def page_findings(title: str) -> rx.Component:
    """The automatic checks' findings that concern this page (the Dashboard lists them all)."""
    route = PAGE_ROUTES.get(title)
    if route is None:
        return rx.fragment()
    return rx.foreach(
        AuthState.findings_everywhere,
        lambda f: rx.cond(
            f.href == route,
            rx.callout(
                rx.text(f.problem, " ", rx.text.strong("Fix: "), f.fix),
                icon="triangle-alert",
                color_scheme="amber",
                size="1",
                width="100%",
                class_name="page-finding",
            ),
        ),
    )


def page_shell(title: str, *content: rx.Component) -> rx.Component:
    return rx.cond(
        AuthState.is_signed_in,
        rx.hstack(
            sidebar(),
            rx.vstack(
                paused_banner(),
                sending_blocked_banner(),
                rx.heading(title, size="6", as_="h1"),
                page_findings(title),
                *content,
                padding="24px 32px",
                spacing="4",
                width="100%",
                max_width="1200px",
                min_width="0",
            ),
            spacing="0",
            align="start",
            width="100%",
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )


def empty_state(icon: str, headline: str, explanation: str, action: rx.Component | None = None) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=32, color=rx.color("gray", 9)),
            rx.heading(headline, size="4", as_="h2"),
            rx.text(explanation, color_scheme="gray", size="2", max_width="560px", text_align="center"),
            *([action] if action is not None else []),
            align="center",
            spacing="3",
            padding="32px",
        ),
        width="100%",
        class_name="empty-state",
    )
