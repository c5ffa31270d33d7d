"""The campaign builder's activation area: what must be fixed before Activate goes through (each with a
link to where it is fixed), and the DMARC notice, which never blocks, with the record to copy."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.ui import copy_text
from humanic_app.state.activation import ActivationState as S, BlockerRow


def _blocker(row: BlockerRow) -> rx.Component:
    return rx.el.li(
        rx.text(row.problem, " ", rx.cond(row.href != "", rx.link(row.fix, href=row.href)), size="2"),
        class_name="activation-blocker",
    )


def _blockers() -> rx.Component:
    return rx.cond(
        S.blockers.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("circle-x")),
            rx.vstack(
                rx.text("Before it can be activated", weight="bold", size="2", id="activation-blockers-title"),
                rx.el.ul(
                    rx.foreach(S.blockers, _blocker),
                    style={"margin": "0", "padding_left": "1.2em", "overflow_wrap": "anywhere"},
                    aria_labelledby="activation-blockers-title",
                ),
                spacing="1",
                min_width="0",
            ),
            color_scheme="red",
            width="100%",
            id="activation-blockers",
        ),
    )


def _dmarc() -> rx.Component:
    return rx.cond(
        S.dmarc_warning != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("info")),
            rx.vstack(
                rx.text(S.dmarc_warning, size="2"),
                rx.hstack(
                    rx.code(S.dmarc_record, style={"overflow_wrap": "anywhere", "white_space": "normal"}),
                    rx.button(
                        rx.icon("copy", size=12),
                        "Copy",
                        size="1",
                        variant="soft",
                        on_click=copy_text(S.dmarc_record),
                        aria_label="Copy the DMARC record",
                    ),
                    align="center",
                    spacing="2",
                    wrap="wrap",
                    min_width="0",
                ),
                rx.text(
                    "Name ",
                    rx.code(S.dmarc_record_name, style={"overflow_wrap": "anywhere"}),
                    ", type TXT, value ",
                    rx.code(S.dmarc_record_value, style={"overflow_wrap": "anywhere"}),
                    size="1",
                    color_scheme="gray",
                    high_contrast=True,
                ),
                spacing="2",
                min_width="0",
            ),
            color_scheme="amber",
            width="100%",
            id="dmarc-warning",
        ),
    )


def activation_area(show_blockers) -> rx.Component:
    """`show_blockers`: whether Activate is offered (a draft or paused campaign that is saved)."""
    return rx.vstack(rx.cond(show_blockers, _blockers()), _dmarc(), spacing="2", width="100%", id="activation-area")
