"""Settings → Brand: the layout every block email is sent in (logo on top, the footer's text above the address
and the unsubscribe link), and its colours and font."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import field_error, field_invalid_props, toast
from humanic_app.components.ui import settings_section
from humanic_app.state.brand import BrandSettingsState as S

SECTION = "brand"


def _field(label: str, name: str, hint: str = "", control=rx.input, **props) -> rx.Component:
    error = S.brand_errors.get(name, "")
    field_id = "brand-" + name.replace("_", "-")
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=field_id),
        control(
            name=name,
            default_value=S.brand_values.get(name, ""),
            key=S.brand_values.get(name, ""),
            width="100%",
            **field_invalid_props(error, field_id=field_id),
            **props,
        ),
        field_error(error, field_id=field_id),
        *([rx.text(hint, size="1", color=rx.color("gray", 11))] if hint else []),
        spacing="1",
        width="100%",
    )


def _colour(label: str, name: str) -> rx.Component:
    return _field(label, name, max_length=7, placeholder="#1a5fd0")


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _field(
                "Logo URL",
                "logo_url",
                "An https:// address of the image shown on top of every email; empty for none.",
                max_length=2000,
                placeholder="https://yourdomain.com/logo.png",
            ),
            _field("Logo width (px)", "logo_width", max_length=3),
            rx.grid(
                _colour("Buttons and links", "primary_colour"),
                _colour("Text", "text_colour"),
                _colour("Background", "background_colour"),
                _colour("Content background", "content_colour"),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            _field("Font stack", "font_stack", "Fonts in order of preference, as CSS lists them.", max_length=300),
            _field(
                "Footer text",
                "footer_text",
                "Above the physical address (Settings → Workspace) and the unsubscribe link.",
                control=rx.text_area,
                max_length=1000,
            ),
            rx.text(
                "Emails built from blocks render with the brand when they are sent, so a change reaches every email "
                "not sent yet — those already scheduled included. Emails written as HTML are sent as written.",
                size="1",
                color=rx.color("gray", 11),
            ),
            rx.button("Save brand", type="submit", align_self="start"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.save_brand,
        reset_on_submit=False,
        width="100%",
    )


def brand_section() -> rx.Component:
    return settings_section(
        "Brand",
        "The logo, colours, font and footer of every email built from blocks.",
        rx.cond(
            S.brand_loaded,
            rx.vstack(_form(), toast(S.brand_saved, id="brand-saved"), spacing="3", width="100%"),
            rx.text("Loading…", size="2"),
        ),
        section_id=SECTION,
        on_mount=S.load_brand,
    )
