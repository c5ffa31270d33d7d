"""The design gallery: "Start from a design" beside an email's blocks opens the ready-made designs, each
shown as it would be sent in this workspace's brand; "Use this design" puts its subject and blocks in the
email, which stays the marketer's to edit."""

import reflex as rx

from humanic_app.state.design_gallery import DesignCard, DesignGalleryState as G


def design_button(i) -> rx.Component:
    return rx.button(
        rx.icon("layout-template", size=14),
        "Start from a design",
        size="1",
        variant="soft",
        color_scheme="gray",
        on_click=G.open_designs(i),
        aria_label="Start step " + (i + 1).to_string() + " from a ready-made design",
        class_name="open-designs",
    )


def _card(card: DesignCard) -> rx.Component:
    heading_id = "design-" + card.slug
    return rx.vstack(
        rx.heading(card.name, size="3", as_="h3", id=heading_id),
        rx.text(card.purpose, size="2", color=rx.color("gray", 11)),
        rx.text(
            rx.text.span("Subject: ", weight="medium"), card.subject, size="1", style={"overflow_wrap": "anywhere"}
        ),
        rx.el.iframe(
            src_doc=card.html,
            sandbox="",  # shown, never run: the email is inert here as in an inbox
            title="Preview of the " + card.name + " design",
            width="100%",
            height="320px",
            style={"border": f"1px solid {rx.color('gray', 6)}", "border_radius": "6px", "background": "white"},
            tab_index=-1,
        ),
        rx.button(
            "Use this design",
            size="2",
            on_click=G.use_design(card.slug),
            aria_describedby=heading_id,
            class_name="use-design",
            data_design=card.slug,
        ),
        spacing="2",
        padding="12px",
        border=f"1px solid {rx.color('gray', 6)}",
        border_radius="8px",
        min_width="0",
        class_name="design-card",
    )


def design_gallery() -> rx.Component:
    """One dialog for the page, open while a step is choosing."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.hstack(
                rx.dialog.title("Start from a design", margin="0"),
                rx.dialog.close(
                    rx.icon_button(rx.icon("x", size=18), variant="ghost", color_scheme="gray", aria_label="Close")
                ),
                justify="between",
                align="center",
                width="100%",
            ),
            rx.dialog.description(
                "Each design is shown as it would be sent, in your brand. Using one replaces step ",
                (G.design_step + 1).to_string(),
                "'s subject and blocks; you can change everything afterwards.",
                size="2",
                margin_bottom="12px",
            ),
            rx.grid(
                rx.foreach(G.design_cards, _card),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            max_width="min(960px, calc(100vw - 24px))",
            padding=rx.breakpoints(initial="16px", sm="24px"),
            id="design-gallery",
        ),
        open=G.design_step >= 0,
        on_open_change=G.close_designs,
    )
