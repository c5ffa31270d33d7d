"""Settings → Pull events from PostHog: pull-only mode for teams whose PostHog cannot reach Humanic (no
public URL, a self-hosted PostHog behind a firewall). The Integrations page links here."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import field_error, field_invalid_props, toast
from humanic_app.components.posthog_access import access_line
from humanic_app.components.ui import settings_section
from humanic_app.services.posthog import connection
from humanic_app.state.posthog_pull import PosthogPullState as S

SECTION = "posthog-pull"


def _labelled(label, field_id: str, field: str, hint: str, **props) -> rx.Component:
    error = S.pull_errors.get(field, "")
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=field_id),
        rx.input(width="100%", **field_invalid_props(error, field_id=field_id), **props),
        field_error(error, field_id=field_id),
        rx.text(hint, size="1", color=rx.color("gray", 11)),
        spacing="1",
        width="100%",
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _labelled(
                "PostHog address",
                "pull-host",
                "host",
                "'us' or 'eu' for PostHog Cloud, or your self-hosted PostHog's address.",
                name="host",
                default_value=S.pull_host,
                key=S.pull_host,
                placeholder="us",
                max_length=500,
            ),
            access_line(),
            _labelled(
                "Poll every (seconds)",
                "pull-interval",
                "pull_interval_seconds",
                f"{connection.PULL_MIN_S} to {connection.PULL_MAX_S}; each poll also reads the 5 minutes before "
                "the last one, for events PostHog ingests late.",
                name="pull_interval",
                default_value=S.pull_interval,
                key=S.pull_interval,
                input_mode="numeric",
                max_length=4,
            ),
            rx.hstack(
                rx.checkbox(
                    name="pull_enabled",
                    default_checked=S.pull_enabled,
                    key=S.pull_enabled.to_string(),
                    id="pull-enabled",
                ),
                rx.el.label(rx.text("Pull events from PostHog", size="2"), html_for="pull-enabled"),
                spacing="2",
                align="center",
            ),
            field_error(S.pull_errors.get("", ""), field_id="pull-form"),
            rx.button("Save pull settings", type="submit", id="save-pull"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.save_pull,
        reset_on_submit=False,
        width="100%",
    )


def _state_line() -> rx.Component:
    return rx.vstack(
        rx.badge(
            rx.cond(S.pull_enabled, "Pulling", "Off"),
            color_scheme=rx.cond(S.pull_enabled, "green", "gray"),
            size="2",
            id="pull-badge",
        ),
        rx.cond(S.pull_enabled, rx.text(S.pull_progress, size="2", id="pull-progress")),
        rx.cond(
            S.pull_error != "",
            rx.callout(
                S.pull_error, icon="triangle-alert", color_scheme="amber", size="1", width="100%", id="pull-error"
            ),
        ),
        spacing="2",
        width="100%",
    )


def posthog_pull_section() -> rx.Component:
    return settings_section(
        "Pull events from PostHog",
        "No public URL? Instead of a webhook destination, Humanic can poll PostHog for the events your campaigns "
        "use. They send emails exactly like webhook events.",
        rx.cond(
            S.pull_loaded,
            rx.vstack(
                _state_line(),
                rx.cond(S.pull_can_edit, _form()),
                toast(S.pull_done, id="pull-done"),
                spacing="3",
                width="100%",
            ),
            rx.text("Loading…", size="2"),
        ),
        section_id=SECTION,
        on_mount=S.load_pull,
    )
