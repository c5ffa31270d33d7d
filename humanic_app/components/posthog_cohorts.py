"""Settings → PostHog cohorts: bring a PostHog cohort's persons in as contacts, once or kept in sync every
hour; campaigns branch on membership with `in_cohort`. PostHog is read with the API access set above."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import confirm_action, field_error, toast
from humanic_app.components.posthog_access import access_line
from humanic_app.components.ui import settings_section
from humanic_app.state.posthog_cohorts import CohortsState as S

SECTION = "posthog-cohorts"


def _posthog_row(row) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.text(row["name"], weight="medium", size="2"),
                rx.text(row["count"], size="1", color=rx.color("gray", 11)),
                spacing="0",
                min_width="0",
            ),
            rx.spacer(),
            rx.cond(
                row["imported"] == "yes",
                rx.badge("Imported", color_scheme="green"),
                rx.hstack(
                    rx.button(
                        "Import",
                        size="1",
                        variant="soft",
                        on_click=S.import_cohort(row["posthog_id"]),
                        aria_label="Import " + row["name"],
                    ),
                    rx.button(
                        "Import, keep in sync",
                        size="1",
                        on_click=S.import_and_keep_cohort(row["posthog_id"]),
                        aria_label="Import " + row["name"] + " and keep it in sync",
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        style={"list_style": "none", "padding": "0.25rem 0"},
    )


def _imported_row(row) -> rx.Component:
    switch_id = "keep-" + row["posthog_id"]
    return rx.el.li(
        rx.vstack(
            rx.hstack(
                rx.text(row["name"], weight="bold", size="2"),
                rx.badge(row["members"]),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.text(row["synced"], size="1", style={"overflow_wrap": "anywhere"}),
            rx.cond(
                row["error"] != "",
                rx.callout(row["error"], icon="triangle-alert", color_scheme="amber", size="1", width="100%"),
            ),
            rx.hstack(
                rx.switch(
                    id=switch_id,
                    checked=row["keep"] == "yes",
                    on_change=lambda on: S.set_cohort_kept(row["posthog_id"], on),
                ),
                rx.el.label(rx.text("Keep in sync (every hour)", size="2"), html_for=switch_id),
                spacing="2",
                align="center",
            ),
            rx.text(row["next"], size="1", color=rx.color("gray", 11)),
            rx.hstack(
                rx.button(
                    "Sync now",
                    size="1",
                    variant="soft",
                    on_click=S.sync_cohort_now(row["posthog_id"]),
                    aria_label="Sync " + row["name"] + " now",
                ),
                confirm_action(
                    "Remove",
                    title="Remove this cohort?",
                    consequence="Its memberships are forgotten and in_cohort conditions naming it no longer hold. "
                    "The contacts stay.",
                    confirm_label="Remove cohort",
                    on_confirm=S.remove_cohort(row["posthog_id"]),
                ),
                spacing="2",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        style={"list_style": "none", "padding": "0.5rem 0", "border_top": "1px solid var(--gray-a5)"},
    )


def _content() -> rx.Component:
    return rx.vstack(
        access_line(),
        field_error(S.cohort_errors.get("", ""), field_id="cohorts-refused"),
        toast(S.cohort_done, id="cohort-done"),
        rx.button("Show PostHog cohorts", on_click=S.show_posthog_cohorts, id="show-posthog-cohorts"),
        rx.cond(
            S.posthog_cohort_rows.length() > 0,
            rx.el.ul(
                rx.foreach(S.posthog_cohort_rows, _posthog_row),
                aria_label="PostHog cohorts",
                style={"padding": "0", "margin": "0", "width": "100%"},
            ),
        ),
        rx.heading("Imported cohorts", size="3", as_="h3"),
        rx.cond(
            S.cohort_rows.length() > 0,
            rx.el.ul(
                rx.foreach(S.cohort_rows, _imported_row),
                aria_label="Imported cohorts",
                style={"padding": "0", "margin": "0", "width": "100%"},
            ),
            rx.text("None yet.", size="2"),
        ),
        spacing="3",
        width="100%",
    )


def cohorts_section() -> rx.Component:
    return settings_section(
        "PostHog cohorts",
        "Bring a PostHog cohort's people in as contacts (email and properties), once or kept in sync every hour. "
        "Journeys can branch on membership: in_cohort: Power users.",
        rx.cond(S.cohorts_loaded, _content(), rx.text("Loading…", size="2")),
        section_id=SECTION,
        on_mount=S.load_cohorts,
    )
