"""An email step's blocks in the journey builder: each block in place with its fields, added from a select
of kinds, moved and removed with named controls. A refusal on save ("steps.0.blocks.2.url") shows under the
field it names. A two-column block is shown, not edited: its columns are edited in the campaign's YAML."""

import reflex as rx

from humanic_app.components.feedback import field_error, field_invalid_props
from humanic_app.models import limits
from humanic_app.pages.design_gallery import design_button
from humanic_app.state.campaigns import CampaignsState as S
from humanic_app.state.journey_form import BLOCK_WORDS


def _muted(text, **props) -> rx.Component:
    return rx.text(text, size="1", color=rx.color("gray", 11), **props)


def _field_id(i, j, field: str):
    return "step-" + i.to_string() + "-block-" + j.to_string() + "-" + field


def _error(i, j, field: str):
    return S.builder_errors.get("steps." + i.to_string() + ".blocks." + j.to_string() + "." + field, "")


def _field(label: str, b, i, j, field: str, *, area: bool = False, width: str = "100%", **props) -> rx.Component:
    """A labelled field of block j of step i, with its refusal from save under it."""
    field_id, error = _field_id(i, j, field), _error(i, j, field)
    control = rx.text_area if area else rx.input
    return rx.vstack(
        rx.el.label(rx.text(label, size="1", weight="medium"), html_for=field_id),
        control(
            value=getattr(b, field),
            on_change=lambda v: S.set_block(i, j, field, v),
            width="100%",
            **field_invalid_props(error, field_id=field_id),
            **props,
        ),
        field_error(error, field_id=field_id),
        spacing="1",
        width=width,
        max_width="100%",
    )


def _level(b, i, j) -> rx.Component:
    field_id, error = _field_id(i, j, "level"), _error(i, j, "level")
    return rx.vstack(
        rx.el.label(rx.text("Level", size="1", weight="medium"), html_for=field_id),
        rx.select.root(
            rx.select.trigger(**field_invalid_props(error, field_id=field_id)),
            rx.select.content(*[rx.select.item(f"Heading {n}", value=str(n)) for n in (1, 2, 3)]),
            value=b.level,
            on_change=lambda v: S.set_block(i, j, "level", v),
        ),
        field_error(error, field_id=field_id),
        spacing="1",
    )


def _row(*fields) -> rx.Component:
    return rx.flex(*fields, gap="2", wrap="wrap", width="100%", align="start")


def _fields(b, i, j) -> rx.Component:
    return rx.match(
        b.kind,
        (
            "heading",
            _row(
                _field("Heading text", b, i, j, "text", width="min(100%, 360px)", max_length=limits.SUBJECT),
                _level(b, i, j),
            ),
        ),
        (
            "paragraph",
            _field(
                "Text (Markdown: **bold**, *italic*, [link](https://…), - lists)",
                b,
                i,
                j,
                "markdown",
                area=True,
                rows="4",
                max_length=limits.TEXT,
            ),
        ),
        (
            "button",
            _row(
                _field("Label", b, i, j, "label", width="min(100%, 200px)", max_length=200),
                _field("Link (https://…)", b, i, j, "url", width="min(100%, 320px)", max_length=2000),
                _field("Colour", b, i, j, "colour", width="130px", placeholder="brand colour", max_length=7),
            ),
        ),
        (
            "image",
            rx.vstack(
                _row(
                    _field("Image URL (https://…)", b, i, j, "url", width="min(100%, 360px)", max_length=2000),
                    _field(
                        "Width (px, at most 600)",
                        b,
                        i,
                        j,
                        "width",
                        width="150px",
                        placeholder="600",
                        input_mode="numeric",
                    ),
                ),
                _row(
                    _field("Alt text (what it shows)", b, i, j, "alt", width="min(100%, 360px)", max_length=500),
                    _field("Links to (optional)", b, i, j, "link", width="min(100%, 320px)", max_length=2000),
                ),
                spacing="2",
                width="100%",
            ),
        ),
        ("divider", _muted("A line across the email.")),
        ("spacer", _field("Height (px)", b, i, j, "height", width="150px", input_mode="numeric")),
        (
            "partial",
            rx.vstack(
                _field("Shared block name", b, i, j, "name", width="min(100%, 260px)", max_length=40),
                _muted(
                    rx.cond(
                        S.shared_blocks != "",
                        "Yours: " + S.shared_blocks + ". ",
                        "You have no shared blocks yet. ",
                    )
                    + "They are made and changed in Settings → Brand; a change reaches every email not sent yet."
                ),
                spacing="1",
                width="100%",
            ),
        ),
        (
            "html",
            _field(
                "HTML",
                b,
                i,
                j,
                "html",
                area=True,
                rows="4",
                max_length=limits.HTML,
                style={"font_family": "monospace"},
            ),
        ),
        _muted("Two columns: edit them in the campaign's YAML (below the builder); the preview shows them."),
    )


def _block_button(icon: str, label, on_click, disabled, **props) -> rx.Component:
    return rx.icon_button(
        rx.icon(icon, size=14),
        size="1",
        variant="ghost",
        on_click=on_click,
        aria_label=label,
        title=label,
        disabled=disabled,
        **props,
    )


def _block(b, j, s, i) -> rx.Component:
    n = (j + 1).to_string()
    of = " of step " + (i + 1).to_string()
    return rx.vstack(
        rx.flex(
            rx.text(
                "Block ",
                n,
                " · ",
                rx.match(b.kind, *[(k, word) for k, word in BLOCK_WORDS.items()], b.kind),
                size="2",
                weight="medium",
                class_name="block-title",
            ),
            rx.spacer(),
            rx.hstack(
                _block_button("arrow-up", "Move block " + n + of + " up", S.move_block(i, j, -1), j == 0),
                _block_button(
                    "arrow-down", "Move block " + n + of + " down", S.move_block(i, j, 1), j == s.blocks.length() - 1
                ),
                _block_button("x", "Remove block " + n + of, S.remove_block(i, j), False, color_scheme="red"),
                spacing="3",
            ),
            align="center",
            width="100%",
        ),
        _fields(b, i, j),
        spacing="2",
        width="100%",
        padding="8px 10px",
        border=f"1px solid {rx.color('gray', 6)}",
        border_radius="6px",
        class_name="email-block",
        data_kind=b.kind,
    )


def _add_block(s, i) -> rx.Component:
    n = (i + 1).to_string()
    kind_id = "step-" + i.to_string() + "-block-kind"
    return rx.hstack(
        rx.el.label(rx.text("New block", size="1", weight="medium"), html_for=kind_id),
        rx.select.root(
            rx.select.trigger(id=kind_id),
            rx.select.content(*[rx.select.item(word, value=kind) for kind, word in BLOCK_WORDS.items()]),
            value=s.adding,
            on_change=lambda v: S.set_step(i, "adding", v),
            size="1",
        ),
        rx.button(
            rx.icon("plus", size=14),
            "Add block",
            size="1",
            variant="soft",
            on_click=S.add_block(i),
            aria_label="Add the block to step " + n,
            class_name="add-block",
        ),
        align="center",
        spacing="2",
        wrap="wrap",
    )


def email_blocks(s, i) -> rx.Component:
    """The step's blocks in order, then the control that adds one."""
    error = S.builder_errors.get("steps." + i.to_string() + ".blocks", "")
    return rx.vstack(
        rx.foreach(s.blocks, lambda b, j: _block(b, j, s, i)),
        rx.cond(s.blocks.length() == 0, _muted("No blocks yet: add one below.")),
        field_error(error, field_id="step-" + i.to_string() + "-blocks"),
        rx.hstack(_add_block(s, i), design_button(i), spacing="3", align="center", wrap="wrap"),
        spacing="2",
        width="100%",
        class_name="email-blocks",
    )


def compose_choice(s, i) -> rx.Component:
    """Blocks or hand-written HTML for this email."""
    n = (i + 1).to_string()
    return rx.radio_group.root(
        rx.hstack(
            rx.text(rx.radio_group.item(value="blocks"), " Blocks", as_="label", size="2"),
            rx.text(rx.radio_group.item(value="html"), " HTML", as_="label", size="2"),
            spacing="4",
        ),
        value=s.mode,
        on_change=lambda v: S.set_step(i, "mode", v),
        aria_label="Step " + n + ": compose with",
        class_name="compose-choice",
    )
