"""The Domains page's warm-up panel: per domain, today's cap, what went and what waits, the on/off switch
and the ladder of daily caps."""

import reflex as rx

from humanic_app.components.feedback import field_error, field_invalid_props, toast
from humanic_app.services import warmup
from humanic_app.state.warmup import WarmupState as S

_DEFAULT = ", ".join(f"{cap:,}" for cap in warmup.DEFAULT_LADDER)


def _switch(row) -> rx.Component:
    switch_id = "warmup-switch-" + row.id
    return rx.hstack(
        rx.switch(
            checked=row.enabled,
            on_change=lambda on: S.switch(row.id, on),
            id=switch_id,
            aria_label="Warm-up for " + row.name,
        ),
        rx.el.label(rx.text("Warm-up", size="2"), html_for=switch_id),
        align="center",
        spacing="2",
    )


def _ladder_form(row) -> rx.Component:
    ladder_id = "warmup-ladder-" + row.id
    return rx.form(
        rx.el.input(type="hidden", name="domain_id", value=row.id),
        rx.flex(
            rx.vstack(
                rx.el.label(
                    rx.text("Daily caps, one a day (emails)", size="2", weight="medium"),
                    html_for=ladder_id,
                ),
                rx.input(
                    name="ladder",
                    default_value=row.ladder,
                    width="100%",
                    max_length=1000,
                    **field_invalid_props(row.error, field_id=ladder_id),
                ),
                field_error(row.error, field_id=ladder_id),
                spacing="1",
                width="100%",
            ),
            rx.button("Save ladder", type="submit", variant="soft", aria_label="Save the ladder for " + row.name),
            direction=rx.breakpoints(initial="column", sm="row"),
            align=rx.breakpoints(initial="stretch", sm="end"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.save_ladder,
        width="100%",
    )


def _domain(row) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading(row.name, size="3", as_="h3", style={"word_break": "break-all"}),
                _switch(row),
                justify="between",
                align="center",
                wrap="wrap",
                gap="2",
                width="100%",
            ),
            rx.text(row.summary, size="2", class_name="warmup-summary"),
            rx.cond(
                row.held != "",
                rx.callout(row.held, icon="clock", color_scheme="amber", size="1", class_name="warmup-held"),
            ),
            _ladder_form(row),
            spacing="3",
            width="100%",
        ),
        width="100%",
        class_name="warmup-domain",
    )


def warmup_panel() -> rx.Component:
    return rx.el.section(
        rx.vstack(
            rx.heading("Warm-up", size="4", as_="h2", id="warmup-title"),
            rx.text(
                f"A new domain has no reputation yet: mailbox providers trust one whose volume grows. With warm-up "
                f"on, the domain sends at most a daily cap that rises one step each UTC day from the day it is "
                f"verified ({_DEFAULT}, then no cap). Emails over the cap stay scheduled and go out the next "
                "day in order; none is dropped. Switching warm-up on again starts at day 1.",
                size="2",
                color=rx.color("gray", 11),
            ),
            toast(S.message, id="warmup-message"),
            rx.foreach(S.rows, _domain),
            spacing="3",
            width="100%",
        ),
        on_mount=S.load,
        aria_labelledby="warmup-title",
        id="warmup",
        width="100%",
    )
