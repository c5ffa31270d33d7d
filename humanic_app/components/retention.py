"""Settings → Retention: the days raw payloads and delivery events are kept, and the last pruning run."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import field_error, field_invalid_props, toast
from humanic_app.components.ui import settings_section
from humanic_app.services.workspace import RETENTION_DAYS
from humanic_app.state.retention import RetentionSettingsState as S

SECTION = "retention"
DAYS_FIELD = "settings-retention-days"


def _form() -> rx.Component:
    error = S.retention_errors.get("retention_days", "")
    return rx.form(
        rx.vstack(
            rx.el.label(rx.text("Keep raw payloads for (days)", size="2", weight="medium"), html_for=DAYS_FIELD),
            rx.flex(
                rx.input(
                    name="retention_days",
                    type="number",
                    min=RETENTION_DAYS[0],
                    max=RETENTION_DAYS[1],
                    step=1,
                    default_value=S.retention_days,
                    key=S.retention_days,
                    required=True,
                    width=rx.breakpoints(initial="100%", sm="10em"),
                    **field_invalid_props(error, field_id=DAYS_FIELD),
                ),
                rx.button("Save retention", type="submit", white_space="nowrap"),
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="3",
                width="100%",
            ),
            field_error(error, field_id=DAYS_FIELD),
            rx.text(
                "Events older than this keep their name, time, contact and campaign decisions; their payload "
                "and headers are cleared. Resend delivery events older than this are deleted. Hourly counters, "
                "contacts and campaign history are kept.",
                size="1",
                color=rx.color("gray", 11),
            ),
            spacing="1",
            width="100%",
        ),
        on_submit=S.save_retention,
        width="100%",
    )


def retention_section() -> rx.Component:
    return settings_section(
        "Retention",
        "How long raw event payloads and delivery events are kept before they are pruned.",
        rx.cond(
            S.retention_loaded,
            rx.vstack(
                _form(),
                rx.text(S.retention_last_run, size="2", id="retention-last-run"),
                toast(S.retention_saved, id="retention-saved"),
                spacing="3",
                width="100%",
            ),
            rx.text("Loading…", size="2"),
        ),
        section_id=SECTION,
        on_mount=S.load_retention,
    )
