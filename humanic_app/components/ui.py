"""Small presentational helpers shared by pages."""

import reflex as rx

STATUS_COLORS = {
    "Not connected": "gray", "Waiting for test event": "amber", "Test event received": "blue",
    "Active": "green", "Paused": "orange",
}


def status_badge(label, **props) -> rx.Component:
    return rx.badge(label, color_scheme=rx.match(label, *[(k, v) for k, v in STATUS_COLORS.items()], "gray"),
                    size="2", **props)


def step(number: int, title: str, *content: rx.Component, **props) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.badge(f"Step {number}", variant="soft", size="2"), rx.heading(title, size="4", as_="h2"),
                      align="center", spacing="3"),
            *content,
            spacing="3", width="100%",
        ),
        width="100%", **props,
    )


def notice(message, color: str, icon: str, **props) -> rx.Component:
    return rx.cond(message != "", rx.callout(message, icon=icon, color_scheme=color, width="100%", **props))


def code_block(text, **props) -> rx.Component:
    return rx.box(rx.el.pre(text, style={"white_space": "pre-wrap", "word_break": "break-all", "margin": "0",
                                         "font_size": "12px"}),
                  background=rx.color("gray", 3), padding="10px", border_radius="6px", width="100%",
                  max_height="360px", overflow="auto", **props)
