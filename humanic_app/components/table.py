"""The one table of the app: Radix's table inside a frame that scrolls sideways on its own (so a wide table
never widens the page at 390 px), which a keyboard can focus and a screen reader announces by its name."""

from __future__ import annotations

import reflex as rx


def data_table(headers: list[str], body: rx.Component, *, label: str, min_width: str = "0", **props) -> rx.Component:
    """`headers` name the columns (an empty string for an actions column, read as "Actions"); `body` is the
    rows (usually an rx.foreach); `label` names the table for screen readers and the scrolling frame."""
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h or rx.el.span("Actions", class_name="visually-hidden"))
                        for h in headers
                    ]
                )
            ),
            rx.table.body(body),
            aria_label=label,
            size="2",
            min_width=min_width,
            **props,
        ),
        role="region",
        aria_label=label,
        tab_index=0,
        class_name="data-table",
    )


def cell_text(value, *, max_width: str = "280px", **props) -> rx.Component:
    """A cell's value on one line, cut with an ellipsis; the whole value on hover and for screen readers."""
    return rx.table.cell(
        rx.text(
            value,
            title=value,
            size="2",
            style={"overflow": "hidden", "text_overflow": "ellipsis", "white_space": "nowrap", "display": "block"},
        ),
        max_width=max_width,
        **props,
    )
