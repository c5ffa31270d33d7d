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


# Radix Themes' `sm` breakpoint: from 768 px the sidebar shows; below it a top bar opens the same menu as a drawer.
WIDE = "sm"


def _nav_link(label: str, href: str, icon: str) -> rx.Component:
    active = rx.State.router.page.path == href
    return rx.link(
        rx.hstack(rx.icon(icon, size=16, aria_hidden="true"), rx.text(label, size="2"), align="center", spacing="2"),
        href=href,
        underline="none",
        padding="8px 10px",
        border_radius="6px",
        width="100%",
        aria_current=rx.cond(active, "page", "false"),
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 12)),
        background=rx.cond(active, rx.color("accent", 3), "transparent"),
        _hover={"background": rx.color("gray", 3)},
    )


def _brand() -> rx.Component:
    return rx.hstack(
        rx.icon("mail-check", size=20, aria_hidden="true"),
        rx.text("Humanic", size="4", weight="bold"),
        align="center",
        padding="8px 10px",
    )


def _menu(*, signed_in_as_id: str) -> list[rx.Component]:
    """The navigation and the account controls, the same in the sidebar and in the phone's drawer."""
    return [
        rx.el.nav(
            rx.vstack(*[_nav_link(*item) for item in NAV_ITEMS], spacing="1", width="100%"),
            aria_label="Main",
            style={"width": "100%"},
        ),
        rx.spacer(),
        rx.vstack(
            rx.text(AuthState.user_email, size="1", color=rx.color("gray", 11), id=signed_in_as_id),
            rx.hstack(
                rx.color_mode.button(size="2", variant="ghost", aria_label="Switch between light and dark mode"),
                rx.button("Sign out", size="2", variant="soft", on_click=AuthState.sign_out),
                spacing="2",
                align="center",
            ),
            padding="10px",
            spacing="2",
        ),
    ]


def sidebar() -> rx.Component:
    return rx.vstack(
        _brand(),
        *_menu(signed_in_as_id="signed-in-as"),
        width="220px",
        min_width="220px",
        height="100vh",
        position="sticky",
        top="0",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        padding="12px 8px",
        display=rx.breakpoints(initial="none", **{WIDE: "flex"}),
        class_name="sidebar",
    )


def top_bar() -> rx.Component:
    """Below 768 px: the brand and a Menu button opening the sidebar's content as a drawer (focus is trapped
    inside while it is open and returns to the button when it closes)."""
    return rx.hstack(
        _brand(),
        rx.drawer.root(
            rx.drawer.trigger(
                rx.button(
                    rx.icon("menu", size=18, aria_hidden="true"), "Menu", variant="soft", size="2", id="menu-button"
                )
            ),
            rx.drawer.overlay(z_index="40"),
            rx.drawer.portal(
                rx.drawer.content(
                    rx.vstack(
                        rx.hstack(
                            rx.drawer.title("Humanic", size="4"),
                            rx.drawer.close(rx.button(rx.icon("x", size=18), variant="ghost", aria_label="Close menu")),
                            justify="between",
                            align="center",
                            width="100%",
                            padding="8px 10px",
                        ),
                        rx.drawer.description("Pages and your account", class_name="visually-hidden"),
                        *_menu(signed_in_as_id="menu-signed-in-as"),
                        height="100%",
                        padding="12px 8px",
                        width="100%",
                    ),
                    id="menu-drawer",
                    height="100%",
                    width="min(280px, 85vw)",
                    top="0",
                    left="0",
                    z_index="50",
                    background=rx.color("gray", 2),
                ),
            ),
            direction="left",
        ),
        justify="between",
        align="center",
        width="100%",
        padding="6px 10px",
        position="sticky",
        top="0",
        z_index="30",
        background=rx.color("gray", 2),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        display=rx.breakpoints(initial="flex", **{WIDE: "none"}),
        class_name="top-bar",
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
                high_contrast=True,  # amber text on amber is 4.2:1 otherwise
                size="1",
                width="100%",
                class_name="page-finding",
            ),
        ),
    )


def page_shell(title: str, *content: rx.Component) -> rx.Component:
    return rx.cond(
        AuthState.is_signed_in,
        rx.flex(
            sidebar(),
            top_bar(),
            rx.el.main(
                rx.vstack(
                    paused_banner(),
                    sending_blocked_banner(),
                    rx.heading(title, size=rx.breakpoints(initial="5", **{WIDE: "6"}), as_="h1"),
                    page_findings(title),
                    *content,
                    spacing="4",
                    width="100%",
                ),
                style={
                    "width": "100%",
                    "maxWidth": "1200px",
                    "minWidth": "0",
                    "padding": "var(--page-padding)",
                },
            ),
            direction=rx.breakpoints(initial="column", **{WIDE: "row"}),
            spacing="0",
            align="start",
            width="100%",
            class_name="page-frame",
        ),
        rx.center(rx.spinner(size="3", aria_label="Loading"), height="100vh"),
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
