"""The shared feedback pieces: a confirmation that states the consequence, a toast-like status line, and an
error shown at the field it concerns. Pages build destructive actions, results and field errors from these
so they look, read and behave the same everywhere (keyboard, screen reader, 390 px)."""

from __future__ import annotations

import reflex as rx


def confirm_action(
    trigger_label,
    *,
    title,
    consequence,
    confirm_label: str,
    on_confirm,
    trigger_props: dict | None = None,
    color: str = "red",
) -> rx.Component:
    """A button that opens a dialog saying what will happen; the action runs only on the confirm button.
    Escape and Cancel close it without acting (Radix's alert dialog also traps and restores focus)."""
    props = {"size": "1", "variant": "soft", "color_scheme": color, **(trigger_props or {})}
    trigger = rx.button(trigger_label, **props)
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(consequence, class_name="confirm-consequence"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(confirm_label, color_scheme=color, on_click=on_confirm)),
                spacing="2",
                justify="end",
                wrap="wrap",
                padding_top="12px",
            ),
            max_width="min(450px, 92vw)",
        ),
    )


def toast(message, *, ok: bool = True, **props) -> rx.Component:
    """The result of an action where the action is: green for done, red for refused. The live region is on
    the page before the message arrives (a region inserted together with its text is not announced by every
    screen reader); role=status is polite, role=alert interrupts."""
    return rx.box(
        rx.cond(
            message != "",
            rx.callout(
                message,
                icon="check" if ok else "triangle-alert",
                color_scheme="green" if ok else "red",
                size="1",
                width="100%",
                **props,
            ),
        ),
        role="status" if ok else "alert",
        aria_live="polite" if ok else "assertive",
        width="100%",
        class_name="toast-region",
    )


def live_summary(text, *, key, region_id: str, **props) -> rx.Component:
    """A polite live region for a throttled summary of live changes ("12 new events"). The region stays in the
    page; its text is a new node per summary (keyed by a counter the state bumps), so a screen reader reads
    each summary once, even one worded like the last."""
    return rx.box(
        rx.el.span(text, key=key),
        role="status",
        aria_live="polite",
        id=region_id,
        font_size="var(--font-size-1)",
        color=rx.color("gray", 11),
        **props,
    )


def field_error(message, *, field_id) -> rx.Component:
    """An error under its field, with the id the field's aria-describedby points at."""
    return rx.cond(
        message != "",
        rx.text(message, size="1", color_scheme="red", id=field_id + "-error", class_name="field-error", role="alert"),
    )


def field_invalid_props(message, *, field_id) -> dict:
    """What a field carries while `message` reports it invalid: a red outline and the error's description."""
    return {
        "id": field_id,
        "aria_invalid": rx.cond(message != "", "true", "false"),
        "aria_describedby": field_id + "-error",
        "color_scheme": rx.cond(message != "", "red", "gray"),
    }


def long_text(value, **props) -> rx.Component:
    """A value of any length on one line: cut with an ellipsis, the whole value on hover and for readers."""
    return rx.text(
        value,
        title=value,
        size="2",
        style={
            "overflow": "hidden",
            "text_overflow": "ellipsis",
            "white_space": "nowrap",
            "max_width": "100%",
            "display": "block",
        },
        **props,
    )


def labelled_field(label, field_id: str, error, hint: str, **props) -> rx.Component:
    """An input with its label above, its error (which the input is described by) and a hint below."""
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=field_id),
        rx.input(width="100%", **field_invalid_props(error, field_id=field_id), **props),
        field_error(error, field_id=field_id),
        rx.text(hint, size="1", color=rx.color("gray", 11)),
        spacing="1",
        width="100%",
    )
