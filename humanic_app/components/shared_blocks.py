"""Settings → Brand → Shared blocks: each with its blocks as YAML, the campaigns using it, Save and Delete
(confirmed; refused while a campaign uses it), and a form for a new one."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import confirm_action, field_error, field_invalid_props, toast
from humanic_app.components.ui import settings_section
from humanic_app.state.partials import EXAMPLE, SharedBlockRow, SharedBlocksState as S

_HINT = (
    "Blocks as in a campaign's YAML: heading, paragraph, button, image, divider, spacer, columns, html. "
    "An email puts it in with a Shared block in its blocks."
)


def _blocks_field(field_id, error, value, key) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text("Blocks (YAML)", size="2", weight="medium"), html_for=field_id),
        rx.text_area(
            name="blocks",
            default_value=value,
            key=key,
            rows="6",
            width="100%",
            style={"font_family": "monospace"},
            max_length=20_000,
            **field_invalid_props(error, field_id=field_id),
        ),
        field_error(error, field_id=field_id),
        spacing="1",
        width="100%",
    )


def _listed(row: SharedBlockRow) -> rx.Component:
    field_id = "shared-" + row.name + "-blocks"
    return rx.form(
        rx.vstack(
            rx.heading(row.name, size="3", as_="h3", class_name="shared-block-name"),
            rx.text(row.used_by, size="1", color=rx.color("gray", 11)),
            rx.el.input(type="hidden", name="editing", value=row.name),
            _blocks_field(field_id, S.shared_errors.get(row.name + ".blocks", ""), row.blocks, row.blocks),
            rx.hstack(
                rx.button("Save", type="submit", size="1", aria_label="Save the shared block " + row.name),
                confirm_action(
                    "Delete",
                    title="Delete the shared block " + row.name + "?",
                    consequence="Emails can no longer put it in. A shared block a campaign uses is kept.",
                    confirm_label="Delete it",
                    on_confirm=S.delete_shared_block(row.name),
                    trigger_props={"aria_label": "Delete the shared block " + row.name},
                ),
                spacing="2",
            ),
            spacing="2",
            width="100%",
            padding="12px",
            border=f"1px solid {rx.color('gray', 6)}",
            border_radius="8px",
        ),
        on_submit=S.save_shared_block,
        reset_on_submit=False,
        width="100%",
        class_name="shared-block",
    )


def _new() -> rx.Component:
    name_error = S.shared_errors.get("name", "")
    return rx.form(
        rx.vstack(
            rx.heading("New shared block", size="3", as_="h3"),
            rx.el.label(rx.text("Name", size="2", weight="medium"), html_for="shared-new-name"),
            rx.input(
                name="name",
                placeholder="signature",
                max_length=40,
                width="min(100%, 260px)",
                **field_invalid_props(name_error, field_id="shared-new-name"),
            ),
            field_error(name_error, field_id="shared-new-name"),
            rx.text("Lowercase letters, digits and dashes.", size="1", color=rx.color("gray", 11)),
            _blocks_field("shared-new-blocks", S.shared_errors.get("blocks", ""), EXAMPLE, "new"),
            rx.button("Add shared block", type="submit", size="2", align_self="start"),
            spacing="2",
            width="100%",
        ),
        on_submit=S.save_shared_block,
        reset_on_submit=False,
        width="100%",
    )


def shared_blocks_section() -> rx.Component:
    return settings_section(
        "Shared blocks",
        "A signature or a product card written once and put in any email by name. A change reaches every email "
        "not sent yet, scheduled ones included.",
        rx.cond(
            S.shared_loaded,
            rx.vstack(
                rx.text(_HINT, size="1", color=rx.color("gray", 11)),
                rx.foreach(S.shared_rows, _listed),
                _new(),
                toast(S.shared_saved, id="shared-saved"),
                spacing="3",
                width="100%",
            ),
            rx.text("Loading…", size="2"),
        ),
        section_id="shared-blocks",
        on_mount=S.load_shared_blocks,
    )
