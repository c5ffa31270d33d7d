"""An email step's blocks in the journey builder: each block in place with its fields, added from a select
of kinds, moved and removed with named controls. A refusal on save ("steps.0.blocks.2.url") shows under the
field it names. A two-column block's columns are edited in place the same way, each a list of blocks. Every
text field (and the subject) has a picker that inserts a variable the previewed event and contact have."""

import reflex as rx

from humanic_app.components.feedback import field_error, field_invalid_props
from humanic_app.models import limits
from humanic_app.pages.design_gallery import design_button
from humanic_app.state.campaigns import CampaignsState as S
from humanic_app.state.journey_form import BLOCK_WORDS, COLUMN_KINDS


def _muted(text, **props) -> rx.Component:
    return rx.text(text, size="1", color=rx.color("gray", 11), **props)


class _At:
    """Where a block sits: `key` as the document's error locations name it ("3", "3.columns.0.1"), `dom` the
    same for element ids ("3", "3-columns-0-1"), and `words` for screen readers ("block 3", "block 1 of the
    left column of block 3")."""

    def __init__(self, key, dom, words):
        self.key, self.dom, self.words = key, dom, words


def _top(j) -> _At:
    return _At(j.to_string(), j.to_string(), "block " + (j + 1).to_string())


def _cell(j, c: int, k) -> _At:
    side = ("left", "right")[c]
    return _At(
        j.to_string() + f".columns.{c}." + k.to_string(),
        j.to_string() + f"-columns-{c}-" + k.to_string(),
        "block " + (k + 1).to_string() + f" of the {side} column of block " + (j + 1).to_string(),
    )


def _field_id(i, at: _At, field: str):
    return "step-" + i.to_string() + "-block-" + at.dom + "-" + field


def _error(i, at: _At, field: str):
    return S.builder_errors.get("steps." + i.to_string() + ".blocks." + at.key + "." + field, "")


def variable_picker(label, on_pick, picker_id) -> rx.Component:
    """Inserts `{{ name | default('there') }}` for a variable the previewed event and its contact have: a
    select named for the field it writes into, worked by keyboard like any select."""
    return rx.select.root(
        rx.select.trigger(
            placeholder="Insert variable", aria_label="Insert a variable into " + label, id=picker_id, max_width="100%"
        ),
        rx.select.content(
            rx.foreach(
                S.variable_choices,
                lambda v: rx.select.item(
                    rx.cond(v.example != "", v.name + " · " + v.example, v.name), value=v.name, class_name="variable"
                ),
            )
        ),
        value="",
        on_change=on_pick,
        size="1",
    )


def _field(
    label: str, b, i, at: _At, field: str, *, area: bool = False, width: str = "100%", variables: bool = False, **props
) -> rx.Component:
    """A labelled field of a block of step i, with its refusal from save under it (and, for a text, the
    variables picker beside its label)."""
    field_id, error = _field_id(i, at, field), _error(i, at, field)
    control = rx.text_area if area else rx.input
    heading = rx.el.label(rx.text(label, size="1", weight="medium"), html_for=field_id)
    if variables:
        named = label + " (step " + (i + 1).to_string() + ", " + at.words + ")"
        heading = rx.flex(
            heading,
            variable_picker(named, lambda v: S.insert_variable(i, at.key, field, v), field_id + "-variable"),
            gap="2",
            align="center",
            justify="between",
            wrap="wrap",
            width="100%",
        )
    return rx.vstack(
        heading,
        control(
            value=getattr(b, field),
            on_change=lambda v: S.set_block(i, at.key, field, v),
            width="100%",
            **field_invalid_props(error, field_id=field_id),
            **props,
        ),
        field_error(error, field_id=field_id),
        spacing="1",
        width=width,
        max_width="100%",
    )


def _level(b, i, at: _At) -> rx.Component:
    field_id, error = _field_id(i, at, "level"), _error(i, at, "level")
    return rx.vstack(
        rx.el.label(rx.text("Level", size="1", weight="medium"), html_for=field_id),
        rx.select.root(
            rx.select.trigger(**field_invalid_props(error, field_id=field_id)),
            rx.select.content(*[rx.select.item(f"Heading {n}", value=str(n)) for n in (1, 2, 3)]),
            value=b.level,
            on_change=lambda v: S.set_block(i, at.key, "level", v),
        ),
        field_error(error, field_id=field_id),
        spacing="1",
    )


def _row(*fields) -> rx.Component:
    return rx.flex(*fields, gap="2", wrap="wrap", width="100%", align="start")


def _simple_fields(b, i, at: _At) -> list[tuple[str, rx.Component]]:
    """The fields of every kind but two columns, which may hold any of these."""
    return [
        (
            "heading",
            _row(
                _field(
                    "Heading text",
                    b,
                    i,
                    at,
                    "text",
                    width="min(100%, 360px)",
                    max_length=limits.SUBJECT,
                    variables=True,
                ),
                _level(b, i, at),
            ),
        ),
        (
            "paragraph",
            _field(
                "Text (Markdown: **bold**, *italic*, [link](https://…), - lists)",
                b,
                i,
                at,
                "markdown",
                area=True,
                rows="4",
                max_length=limits.TEXT,
                variables=True,
            ),
        ),
        (
            "button",
            _row(
                _field("Label", b, i, at, "label", width="min(100%, 240px)", max_length=200, variables=True),
                _field("Link (https://…)", b, i, at, "url", width="min(100%, 320px)", max_length=2000),
                _field("Colour", b, i, at, "colour", width="130px", placeholder="brand colour", max_length=7),
            ),
        ),
        (
            "image",
            rx.vstack(
                _row(
                    _field("Image URL (https://…)", b, i, at, "url", width="min(100%, 360px)", max_length=2000),
                    _field(
                        "Width (px, at most 600)",
                        b,
                        i,
                        at,
                        "width",
                        width="150px",
                        placeholder="600",
                        input_mode="numeric",
                    ),
                ),
                _row(
                    _field("Alt text (what it shows)", b, i, at, "alt", width="min(100%, 360px)", max_length=500),
                    _field("Links to (optional)", b, i, at, "link", width="min(100%, 320px)", max_length=2000),
                ),
                spacing="2",
                width="100%",
            ),
        ),
        ("divider", _muted("A line across the email.")),
        ("spacer", _field("Height (px)", b, i, at, "height", width="150px", input_mode="numeric")),
        (
            "html",
            _field(
                "HTML",
                b,
                i,
                at,
                "html",
                area=True,
                rows="4",
                max_length=limits.HTML,
                style={"font_family": "monospace"},
            ),
        ),
    ]


def _shared(b, i, at: _At) -> rx.Component:
    """A shared block (top level only: columns hold none) named here, made in Settings → Brand."""
    return rx.vstack(
        _field("Shared block name", b, i, at, "name", width="min(100%, 260px)", max_length=40),
        _muted(
            rx.cond(S.shared_blocks != "", "Yours: " + S.shared_blocks + ". ", "You have no shared blocks yet. ")
            + "They are made and changed in Settings → Brand; a change reaches every email not sent yet."
        ),
        spacing="1",
        width="100%",
    )


def _fields(b, i, j) -> rx.Component:
    return rx.match(
        b.kind,
        *_simple_fields(b, i, _top(j)),
        ("columns", _columns(b, i, j)),
        ("partial", _shared(b, i, _top(j))),
        _muted(b.kind),
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


def _kind_word(kind) -> rx.Component:
    return rx.match(kind, *[(k, word) for k, word in BLOCK_WORDS.items()], kind)


def _moves(i, at: _At, first, last) -> rx.Component:
    of = " of step " + (i + 1).to_string()
    return rx.hstack(
        _block_button("arrow-up", "Move " + at.words + of + " up", S.move_block(i, at.key, -1), first),
        _block_button("arrow-down", "Move " + at.words + of + " down", S.move_block(i, at.key, 1), last),
        _block_button("x", "Remove " + at.words + of, S.remove_block(i, at.key), False, color_scheme="red"),
        spacing="3",
    )


def _column_block(cb, k, column, c: int, i, j) -> rx.Component:
    at = _cell(j, c, k)
    return rx.vstack(
        rx.flex(
            rx.text(_kind_word(cb.kind), size="1", weight="medium"),
            rx.spacer(),
            _moves(i, at, k == 0, k == column.length() - 1),
            align="center",
            width="100%",
        ),
        rx.match(cb.kind, *_simple_fields(cb, i, at), _muted(cb.kind)),
        spacing="2",
        width="100%",
        padding="6px 8px",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="6px",
        class_name="column-block",
        data_kind=cb.kind,
    )


def _column(column, c: int, i, j) -> rx.Component:
    side = ("Left", "Right")[c]
    add_id = "step-" + i.to_string() + "-block-" + j.to_string() + f"-columns-{c}-add"
    return rx.vstack(
        rx.text(f"{side} column", size="1", weight="bold"),
        rx.foreach(column, lambda cb, k: _column_block(cb, k, column, c, i, j)),
        rx.cond(column.length() == 0, _muted("Empty: add a block below.")),
        rx.select.root(
            rx.select.trigger(
                placeholder="Add a block",
                aria_label="Add a block to the " + side.lower() + " column of block " + (j + 1).to_string(),
                id=add_id,
            ),
            rx.select.content(
                *[rx.select.item(word, value=kind) for kind, word in BLOCK_WORDS.items() if kind in COLUMN_KINDS]
            ),
            value="",
            on_change=lambda kind: S.add_column_block(i, j, c, kind),
            size="1",
        ),
        spacing="2",
        flex="1 1 240px",
        min_width="0",
        class_name=f"email-column email-column-{c}",
    )


def _columns(b, i, j) -> rx.Component:
    """Both columns edited in place, side by side where there is room (stacked on a phone, as in the email)."""
    return rx.flex(
        rx.cond(b.columns.length() > 0, _column(b.columns[0], 0, i, j)),
        rx.cond(b.columns.length() > 1, _column(b.columns[1], 1, i, j)),
        gap="3",
        wrap="wrap",
        width="100%",
    )


def _block(b, j, s, i) -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.text(
                "Block ",
                (j + 1).to_string(),
                " · ",
                _kind_word(b.kind),
                size="2",
                weight="medium",
                class_name="block-title",
            ),
            rx.spacer(),
            _moves(i, _top(j), j == 0, j == s.blocks.length() - 1),
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
        _muted(
            "Sent in your brand's layout (Settings → Brand) with its footer and unsubscribe link, read as each email "
            "goes out: a change to the brand or a shared block reaches emails already scheduled.",
            class_name="brand-note",
        ),
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
