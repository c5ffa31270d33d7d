"""Settings → PostHog: write engagement back to PostHog — host, project API key (write-only), the kinds
written, and how it goes (waiting, last written, the last failure)."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import confirm_action, field_error, labelled_field as _labelled, toast
from humanic_app.components.pill import pill
from humanic_app.components.ui import settings_section
from humanic_app.services.posthog.capture import EVENTS
from humanic_app.state.posthog import PosthogState as S

SECTION = "posthog"
HOST_FIELD = "posthog-host"
KEY_FIELD = "posthog-api-key"


def _kind(kind: str, name: str) -> rx.Component:
    field_id = f"posthog-kind-{kind.replace('_', '-')}"
    return rx.hstack(
        rx.checkbox(
            name=f"kind_{kind}",
            default_checked=S.posthog_kinds.contains(kind),
            key=S.posthog_kinds.to_string(),
            id=field_id,
        ),
        rx.el.label(rx.code(name, size="2"), html_for=field_id),
        spacing="2",
        align="center",
        min_height="28px",  # a 24 px target around each box, apart from its neighbours' (WCAG 2.5.8)
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _labelled(
                "PostHog host",
                HOST_FIELD,
                S.posthog_errors.get("host", ""),
                "https://us.i.posthog.com (US cloud), https://eu.i.posthog.com (EU cloud) or your self-hosted "
                "PostHog's address; 'us' and 'eu' work too.",
                name="host",
                default_value=S.posthog_host,
                key=S.posthog_host,
                placeholder="https://us.i.posthog.com",
                max_length=500,
            ),
            _labelled(
                rx.cond(S.posthog_key_set, "Replace the project API key", "Project API key"),
                KEY_FIELD,
                S.posthog_errors.get("api_key", ""),
                "PostHog → Project settings → Project API key (phc_…). Stored encrypted and never shown back; "
                "leave empty to keep the stored one.",
                name="api_key",
                type="password",
                placeholder="phc_…",
                auto_complete="off",
                spell_check=False,
                max_length=300,
            ),
            rx.el.fieldset(
                rx.el.legend(rx.text("Events written to PostHog", size="2", weight="medium")),
                rx.grid(
                    *[_kind(kind, name) for kind, name in EVENTS.items()],
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="2",
                    width="100%",
                ),
                field_error(S.posthog_errors.get("kinds", ""), field_id="posthog-kinds"),
                style={"border": "none", "padding": "0", "margin": "0", "min_width": "0"},
            ),
            rx.button("Save PostHog settings", type="submit", id="save-posthog"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.save_posthog,
        reset_on_submit=False,
        width="100%",
    )


def _state_line() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            pill(
                rx.cond(S.posthog_enabled, "Writing back", "Off"),
                color=rx.cond(S.posthog_enabled, "green", "gray"),
                size="2",
            ),
            rx.cond(S.posthog_enabled, rx.text(S.posthog_region, size="2")),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            S.posthog_enabled,
            rx.text(
                "Events go to ",
                rx.code(S.posthog_host, style={"word_break": "break-all"}),
                " with the key set ",
                S.posthog_key_set_at,
                ". ",
                S.posthog_progress,
                size="2",
                id="posthog-progress",
            ),
            rx.text(
                "Set a host and project API key to see in PostHog what your emails did. Each event carries "
                "humanic_writeback = true: exclude it in your webhook destination's filter.",
                size="2",
            ),
        ),
        rx.cond(
            S.posthog_error != "",
            rx.callout(S.posthog_error, icon="triangle-alert", color_scheme="amber", size="1", width="100%"),
        ),
        spacing="2",
        width="100%",
    )


def posthog_section() -> rx.Component:
    return settings_section(
        "PostHog",
        "Write engagement back to PostHog (sent, delivered, opened, clicked, unsubscribed, campaign steps) so "
        "funnels and cohorts can use it. Optional.",
        rx.cond(
            S.posthog_loaded,
            rx.vstack(
                _state_line(),
                rx.foreach(
                    S.posthog_notes,
                    lambda note: rx.callout(note, icon="info", color_scheme="amber", size="1", width="100%"),
                ),
                rx.cond(S.posthog_can_edit, _form()),
                toast(S.posthog_done, id="posthog-done"),
                rx.cond(
                    S.posthog_enabled,
                    confirm_action(
                        "Stop writing back",
                        title="Stop writing back to PostHog?",
                        consequence="The host and key are forgotten, and events still waiting are not sent.",
                        confirm_label="Stop writing back",
                        on_confirm=S.remove_posthog,
                        trigger_props={"size": "2"},
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            rx.text("Loading…", size="2"),
        ),
        section_id=SECTION,
        on_mount=S.load_posthog,
    )
