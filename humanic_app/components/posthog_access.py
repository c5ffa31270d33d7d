"""Settings → PostHog API access: the one place the personal API key and project id are set; backfill,
pull-only mode, reconciliation and cohorts all read PostHog with them, and their panels link here."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import field_error, labelled_field, toast
from humanic_app.components.ui import settings_section
from humanic_app.state.posthog_access import PosthogAccessState as S

SECTION = "posthog-access"
KEY_FIELD = "access-personal-key"
PROJECT_FIELD = "access-project-id"
_SCOPES = (
    "Scopes the key needs: Query Read for backfill, pull-only mode and reconciliation; Cohort Read and Person "
    "Read for cohorts."
)


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            labelled_field(
                rx.cond(S.access_key_set, "Replace the personal API key", "Personal API key"),
                KEY_FIELD,
                S.access_errors.get("personal_api_key", ""),
                "PostHog → Settings → Personal API keys (phx_…). Stored encrypted and never shown back; leave "
                "empty to keep the stored one.",
                name="personal_api_key",
                key=S.access_saves.to_string(),
                type="password",
                placeholder="phx_…",
                auto_complete="off",
                spell_check=False,
                max_length=300,
            ),
            labelled_field(
                "Project id",
                PROJECT_FIELD,
                S.access_errors.get("project_id", ""),
                "PostHog → Project settings → Project ID, a number.",
                name="project_id",
                default_value=S.access_project,
                key=S.access_project,
                input_mode="numeric",
                max_length=32,
            ),
            rx.text(_SCOPES, size="1", color=rx.color("gray", 11), id="access-scopes"),
            field_error(S.access_errors.get("", ""), field_id="access-form"),
            rx.button("Save API access", type="submit", id="save-access"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.save_access,
        reset_on_submit=False,
        width="100%",
    )


def access_line() -> rx.Component:
    """Whether the API access is set, for a panel that reads PostHog with it, linking to where it is set."""
    # as_child=False: a plain in-page anchor; a router link would resolve it to /settings/#… and drop the query
    link = rx.link("PostHog API access", href="#" + SECTION, as_child=False, underline="always")
    return rx.cond(
        S.access_loaded,
        rx.text(
            rx.cond(
                S.access_ready,
                rx.fragment("Uses the ", link, " above (project ", S.access_project, ")."),
                rx.fragment("Set the personal API key and project id in ", link, " above first."),
            ),
            size="2",
            class_name="access-line",
        ),
    )


def posthog_access_section() -> rx.Component:
    return settings_section(
        "PostHog API access",
        "The personal API key and project id Humanic reads PostHog with: for recovering missed events, "
        "pull-only mode, reconciliation and cohorts.",
        rx.cond(
            S.access_loaded,
            rx.vstack(
                rx.cond(
                    S.access_can_edit,
                    _form(),
                    rx.text("Secrets cannot be stored on this server: see the PostHog section above.", size="2"),
                ),
                toast(S.access_done, id="access-done"),
                spacing="3",
                width="100%",
            ),
            rx.text("Loading…", size="2"),
        ),
        section_id=SECTION,
        on_mount=S.load_access,
    )
