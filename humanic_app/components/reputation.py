"""Settings → Sending reputation: the rolling complaint and bounce rates per campaign and for the workspace,
what paused (with its cause and Resume), and the guardrail's lines."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import field_error, field_invalid_props, toast
from humanic_app.components.table import cell_text, data_table
from humanic_app.state.reputation import RateRow, ReputationState

DESCRIPTION = (
    "Complaints and bounces over the rolling 24 hours (the current hour so far and the 23 before it), as a share of "
    "the emails delivered or bounced in that time: a bounced email was never delivered, but it was an attempt the "
    "mailbox providers count. No rate is taken under the minimum volume. Over a warning line you get a finding; "
    "over a pause line the campaign pauses (for all campaigns together, all sending) until you resume it. After a "
    "Resume only events from then on count, so the old ones never pause it again."
)

_LINES = (
    ("rate_min_volume", "Minimum volume (emails delivered or bounced)", "8"),
    ("complaint_warn_pct", "Complaints: warn at (%)", "6"),
    ("complaint_pause_pct", "Complaints: pause at (%)", "6"),
    ("bounce_warn_pct", "Bounces: warn at (%)", "6"),
    ("bounce_pause_pct", "Bounces: pause at (%)", "6"),
)


def _line(name: str, label: str, max_length: str) -> rx.Component:
    error = ReputationState.threshold_errors.get(name, "")
    field_id = "reputation-" + name.replace("_", "-")
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=field_id),
        rx.input(
            name=name,
            default_value=getattr(ReputationState, name),
            key=getattr(ReputationState, name),
            input_mode="decimal",
            max_length=int(max_length),
            width="100%",
            **field_invalid_props(error, field_id=field_id),
        ),
        field_error(error, field_id=field_id),
        spacing="1",
        width="100%",
    )


def _lines_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.grid(
                *[_line(*line) for line in _LINES],
                columns=rx.breakpoints(initial="1", sm="2", md="3"),
                spacing="3",
                width="100%",
            ),
            rx.text(
                "Defaults: warn at 0.1 % complaints or 2 % bounces, pause at 0.3 % or 4 %, from 200 emails. "
                "Each pause line must be at or above its warning line.",
                size="1",
                color=rx.color("gray", 11),
            ),
            toast(ReputationState.thresholds_saved, id="reputation-saved"),
            rx.button("Save lines", type="submit", align_self="start"),
            spacing="3",
            width="100%",
        ),
        on_submit=ReputationState.save_thresholds,
        reset_on_submit=False,
        width="100%",
        id="reputation-lines",
    )


def _paused(row: RateRow) -> rx.Component:
    return rx.cond(
        row.paused_reason != "",
        rx.callout(
            rx.flex(
                rx.text(row.paused_reason, size="2"),
                rx.button(
                    "Resume",
                    on_click=ReputationState.resume(row.scope),
                    aria_label="Resume " + row.name,  # several may show: each says what it resumes
                    color_scheme="green",
                    size="2",
                ),
                justify="between",
                align="center",
                gap="3",
                wrap="wrap",
                width="100%",
            ),
            icon="octagon-alert",
            color_scheme="red",
            width="100%",
            class_name="reputation-paused",
        ),
    )


def _rate_row(row: RateRow) -> rx.Component:
    return rx.table.row(
        cell_text(row.name, max_width="220px"),
        rx.table.cell(row.emails),
        rx.table.cell(row.complaints),
        rx.table.cell(row.bounces),
        rx.table.cell(row.since),
        rx.table.cell(row.state),
        class_name="reputation-row",
    )


def reputation_settings() -> rx.Component:
    """The section's content (pages/settings.py frames it); it loads its own state when it appears."""
    return rx.vstack(
        rx.text(DESCRIPTION, size="2", color=rx.color("gray", 11)),
        rx.foreach(ReputationState.rates, _paused),
        rx.cond(
            ReputationState.resume_error != "",
            rx.text(ReputationState.resume_error, size="2", color_scheme="red", role="alert"),
        ),
        data_table(
            ["Sending", "Emails", "Complaints", "Bounces", "Counted over", "State"],
            rx.foreach(ReputationState.rates, _rate_row),
            label="Complaint and bounce rates",
            min_width="640px",
        ),
        _lines_form(),
        spacing="4",
        width="100%",
        on_mount=ReputationState.load,
        id="reputation-content",
    )
