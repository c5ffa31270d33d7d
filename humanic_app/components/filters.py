"""The one filter bar of the lists (Event Log, Messages, Contacts): labelled controls that wrap on a phone,
a submit button that applies what was typed (Enter does too), and "Clear filters" while any filter is set.
A form with role=search, so a screen reader lists it among the page's landmarks."""

from __future__ import annotations

import reflex as rx

# On a phone two controls share a row; from 768 px each takes the width it needs.
_CONTROL_FLEX = rx.breakpoints(initial="1 1 150px", sm="0 0 auto")


def _labelled(label: str, field_id: str, field: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
        field,
        spacing="1",
        flex=_CONTROL_FLEX,
        min_width="0",
    )


def filter_select(label: str, *, field_id: str, value, on_change, items: rx.Component) -> rx.Component:
    """A choice that applies at once."""
    return _labelled(
        label,
        field_id,
        rx.select.root(
            rx.select.trigger(id=field_id, aria_label=label, min_width="150px", width="100%"),
            rx.select.content(items),
            value=value,
            on_change=on_change,
        ),
    )


def filter_text(
    label: str, *, name: str, field_id: str, value, replaced, placeholder: str, width: str = "220px"
) -> rx.Component:
    """Typed text, applied by the bar's button or Enter. The field keeps what is typed; it is remounted with
    the state's `value` only when `replaced` changes (the state set the filters itself: Clear filters, a
    link's address, a new sign-in). Remounting on every applied value would put back the submitted text over
    whatever was typed while the answer was on its way."""
    return _labelled(
        label,
        field_id,
        rx.input(
            id=field_id,
            name=name,
            type="search",
            placeholder=placeholder,
            default_value=value,
            key=replaced,
            width=rx.breakpoints(initial="100%", sm=width),
        ),
    )


def filter_bar(
    *controls: rx.Component, on_submit, label: str, submit: str = "Filter", filtered=None, on_clear=None
) -> rx.Component:
    """`label` names the search landmark ("Filter events"); `filtered`/`on_clear` add Clear filters while set."""
    clear = (
        rx.cond(
            filtered,
            rx.button(
                rx.icon("x", size=14, aria_hidden="true"),
                "Clear filters",
                type="button",
                variant="ghost",
                on_click=on_clear,
                id="clear-filters",
            ),
        )
        if on_clear is not None
        else rx.fragment()
    )
    return rx.form(
        rx.flex(
            *controls,
            rx.hstack(rx.button(submit, type="submit", variant="soft"), clear, spacing="3", align="center"),
            gap="3",
            wrap="wrap",
            align="end",
        ),
        on_submit=on_submit,
        reset_on_submit=False,
        role="search",
        aria_label=label,
        width="100%",
    )
