"""Dashboard: the first page after sign-in; the setup checklist until everything is done."""

import reflex as rx

from humanic_app.components.shell import page_shell
from humanic_app.state.dashboard import DashboardState


def _checklist_item(item) -> rx.Component:
    return rx.hstack(
        rx.cond(item["done"] == "yes", rx.icon("circle-check", color=rx.color("green", 9)),
                rx.icon("circle", color=rx.color("gray", 8))),
        rx.vstack(
            rx.link(item["label"], href=item["href"], weight="medium"),
            rx.cond(item["done"] == "yes", rx.fragment(), rx.text(item["hint"], size="1", color_scheme="gray")),
            spacing="0",
        ),
        align="start", spacing="2", class_name="checklist-item", data_done=item["done"],
    )


def _finding(f) -> rx.Component:
    return rx.callout(
        rx.vstack(rx.text(rx.text.strong(f["case"], ": "), f["problem"]),
                  rx.text(rx.text.strong("Fix: "), f["fix"], " ", rx.link("Go there", href=f["href"])), spacing="1"),
        icon="triangle-alert", color_scheme="amber", width="100%", class_name="finding",
    )


def dashboard_page() -> rx.Component:
    return page_shell(
        "Dashboard",
        rx.cond(DashboardState.findings.length() > 0,
                rx.vstack(rx.heading("Troubleshooting", size="4", as_="h2"),
                          rx.foreach(DashboardState.findings, _finding), spacing="2", width="100%",
                          id="findings")),
        rx.cond(
            DashboardState.remaining > 0,
            rx.card(rx.vstack(
                rx.heading("Setup checklist", size="4", as_="h2"),
                rx.text(DashboardState.remaining, " steps left before product events turn into emails.", size="2",
                        id="checklist-remaining"),
                rx.foreach(DashboardState.items, _checklist_item),
                spacing="3"), width="100%", id="setup-checklist"),
            rx.callout("Setup complete: events are flowing in and campaigns are live. Watch them in the Event Log "
                       "and Messages.", icon="circle-check", color_scheme="green", width="100%"),
        ),
    )
