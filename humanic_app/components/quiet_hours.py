"""Quiet hours: Settings' workspace default, and the campaign builder's own-window fields."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import field_error, field_invalid_props, toast
from humanic_app.components.ui import settings_section
from humanic_app.state.quiet_hours import MODES, QuietHoursSettingsState as S

SECTION = "quiet-hours"
HINT = (
    "Emails go out only inside this window, in each contact's timezone (the workspace's timezone when a "
    "contact has none). An email due outside it stays scheduled and waits for the next opening; it is never "
    "dropped. Days: mon, tue, wed, thu, fri, sat, sun, comma-separated (empty: every day). A window whose end "
    "is before its start crosses midnight. Test sends ignore quiet hours."
)


def labelled_input(label: str, field_id: str, error, **props) -> rx.Component:
    """A label above its input and the refusal under it, tied to the input by id."""
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=field_id),
        rx.input(max_width="100%", **field_invalid_props(error, field_id=field_id), **props),
        field_error(error, field_id=field_id),
        spacing="1",
        max_width="100%",
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.checkbox(
                    name="quiet_on", default_checked=S.quiet_on, key=S.quiet_on.to_string(), id="quiet-hours-on"
                ),
                rx.el.label(rx.text("Send campaigns only within a window", size="2"), html_for="quiet-hours-on"),
                spacing="2",
                align="center",
            ),
            rx.flex(
                labelled_input(
                    "From (HH:MM)",
                    "quiet-hours-from",
                    S.quiet_errors.get("quiet_hours.between.0", ""),
                    name="quiet_from",
                    default_value=S.quiet_from,
                    key=S.quiet_from,
                    max_length=5,
                    width="8em",
                ),
                labelled_input(
                    "To (HH:MM)",
                    "quiet-hours-to",
                    S.quiet_errors.get("quiet_hours.between.1", S.quiet_errors.get("quiet_hours.between", "")),
                    name="quiet_to",
                    default_value=S.quiet_to,
                    key=S.quiet_to,
                    max_length=5,
                    width="8em",
                ),
                labelled_input(
                    "Days",
                    "quiet-hours-days",
                    S.quiet_errors.get("quiet_hours.days", ""),
                    name="quiet_days",
                    default_value=S.quiet_days,
                    key=S.quiet_days,
                    max_length=40,
                    width="18em",
                ),
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="3",
                wrap="wrap",
                width="100%",
            ),
            rx.text(HINT, size="1", color=rx.color("gray", 11)),
            rx.button("Save quiet hours", type="submit", id="save-quiet-hours"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.save_quiet_hours,
        width="100%",
    )


def quiet_hours_section() -> rx.Component:
    """Settings → Quiet hours: the default every campaign inherits unless it sets its own or turns them off."""
    return settings_section(
        "Quiet hours",
        "When campaigns may send, by default; a campaign can set its own window or turn it off.",
        rx.cond(
            S.quiet_loaded,
            rx.vstack(
                _form(),
                rx.cond(
                    S.quiet_errors.contains(""),
                    rx.callout(S.quiet_errors.get("", ""), icon="triangle-alert", color_scheme="red"),
                ),
                toast(S.quiet_saved, id="quiet-hours-saved"),
                spacing="3",
                width="100%",
            ),
            rx.text("Loading…", size="2"),
        ),
        section_id=SECTION,
        on_mount=S.load_quiet_hours,
    )


def builder_quiet_hours(state) -> rx.Component:
    """The builder's Quiet hours: the workspace default, off, or a window of the campaign's own (`state` is
    the builder's state; its `set_text` takes each field)."""
    errors = state.builder_errors
    to_error = errors.get("quiet_hours.between", "")

    def window_field(label: str, field: str, error, width: str) -> rx.Component:
        return labelled_input(
            label,
            "campaign-" + field.replace("_", "-"),
            error,
            value=getattr(state, field),
            on_change=lambda v: state.set_text(field, v),
            max_length=40 if field == "quiet_days" else 5,
            width=width,
            size="2",
        )

    return rx.vstack(
        rx.heading("Quiet hours", size="2", as_="h3"),
        rx.text(
            "When this campaign's emails may go out, in each contact's timezone. Outside the window an email "
            "waits for the next opening (Messages says for when); test sends ignore quiet hours.",
            size="1",
            color=rx.color("gray", 11),
        ),
        rx.vstack(
            rx.el.label(rx.text("Quiet hours", size="1", weight="medium"), html_for="campaign-quiet-mode"),
            rx.select.root(
                rx.select.trigger(id="campaign-quiet-mode"),
                rx.select.content(*[rx.select.item(label, value=mode) for mode, label in MODES.items()]),
                value=state.quiet_mode,
                on_change=lambda v: state.set_text("quiet_mode", v),
            ),
            spacing="1",
        ),
        rx.cond(
            state.quiet_mode == "window",
            rx.flex(
                window_field("From (HH:MM)", "quiet_from", errors.get("quiet_hours.between.0", ""), "8em"),
                # a time that is no HH:MM is refused at its place in `between`; an empty window, at `between`
                window_field("To (HH:MM)", "quiet_to", errors.get("quiet_hours.between.1", to_error), "8em"),
                window_field("Days (empty: every day)", "quiet_days", errors.get("quiet_hours.days", ""), "18em"),
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="3",
                wrap="wrap",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
    )
