"""Campaigns: list, ready-made templates, the builder, a live preview on a real event."""

from typing import get_args

import reflex as rx

from humanic_app.components.feedback import confirm_action, field_error, field_invalid_props, long_text, toast
from humanic_app.components.shell import empty_state, page_shell
from humanic_app.components.ui import notice
from humanic_app.models import limits
from humanic_app.services.campaigns.schema import OPERATORS, CampaignDocument
from humanic_app.state.campaigns import CampaignsState as S

REENTRY_CHOICES = list(get_args(CampaignDocument.model_fields["reentry"].annotation))

STATUS_COLORS = [("draft", "gray"), ("active", "green"), ("paused", "orange"), ("archived", "red")]


def _status_buttons(c) -> rx.Component:
    return rx.hstack(
        rx.cond(
            c.status != "active",
            rx.cond(
                c.status != "archived",
                rx.button("Activate", size="1", color_scheme="green", on_click=S.change_status(c.id, "active")),
            ),
        ),
        rx.cond(
            c.status == "active",
            rx.button(
                "Pause", size="1", variant="soft", color_scheme="orange", on_click=S.change_status(c.id, "paused")
            ),
        ),
        rx.cond(
            c.status != "archived",
            confirm_action(
                "Archive",
                title="Archive " + c.name + "?",
                consequence=c.archive_consequence,
                confirm_label="Archive",
                on_confirm=S.change_status(c.id, "archived"),
            ),
        ),
        rx.button("Edit", size="1", variant="outline", on_click=S.edit(c.id)),
        spacing="2",
    )


def _paused_banners() -> rx.Component:
    return rx.foreach(
        S.campaigns,
        lambda c: rx.cond(
            c.paused_reason != "",
            rx.callout(
                rx.text(rx.text.strong(c.name), ": ", c.paused_reason),
                icon="triangle-alert",
                color_scheme="red",
                width="100%",
                class_name="campaign-paused-banner",
            ),
        ),
    )


def _list() -> rx.Component:
    return rx.cond(
        S.campaigns.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Campaign", "Status", "Trigger", "Emails sent", "Scheduled", "")
                    ]
                )
            ),
            rx.table.body(
                rx.foreach(
                    S.campaigns,
                    lambda c: rx.table.row(
                        rx.table.cell(long_text(c.name), max_width="260px"),
                        rx.table.cell(rx.badge(c.status, color_scheme=rx.match(c.status, *STATUS_COLORS, "gray"))),
                        rx.table.cell(rx.code(c.trigger)),
                        rx.table.cell(c.sent),
                        rx.table.cell(c.scheduled),
                        rx.table.cell(_status_buttons(c)),
                        class_name="campaign-row",
                    ),
                )
            ),
            width="100%",
            size="1",
        ),
        empty_state(
            "send",
            "No campaigns yet",
            "Start from one of the ready-made campaigns below, built on the events PostHog sends.",
        ),
    )


UPLOAD_ID = "campaign-upload"


def _templates() -> rx.Component:
    return rx.hstack(
        rx.text("New campaign:", size="2", weight="medium"),
        rx.foreach(
            S.template_names,
            lambda t: rx.button(t.name, size="1", variant="soft", on_click=S.new_from_template(t.slug)),
        ),
        rx.button("Blank", size="1", variant="outline", on_click=S.new_from_template("")),
        rx.upload(
            rx.button("Upload YAML/JSON", size="1", variant="outline"),
            id=UPLOAD_ID,
            max_files=1,
            multiple=False,
            no_drag=False,
            border="none",
            padding="0",
            accept={"application/x-yaml": [".yaml", ".yml"], "application/json": [".json"], "text/plain": [".txt"]},
            on_drop=S.handle_upload(rx.upload_files(upload_id=UPLOAD_ID)),
        ),
        spacing="2",
        wrap="wrap",
        align="center",
    )


def _text(
    label: str,
    field: str,
    value,
    placeholder: str = "",
    width: str = "100%",
    max_length: int = limits.EVENT_NAME,
    error_key: str = "",
    **props,
) -> rx.Component:
    """A labelled builder input; `error_key` is the document field whose refusal shows under it."""
    field_id = props.pop("id", "campaign-" + field.replace("_", "-"))
    error = S.builder_errors.get(error_key or field, "")
    return rx.vstack(
        rx.el.label(rx.text(label, size="1", weight="medium"), html_for=field_id),
        rx.input(
            value=value,
            on_change=lambda v: S.set_text(field, v),
            placeholder=placeholder,
            width=width,
            max_length=max_length,
            max_width="100%",
            **field_invalid_props(error, field_id=field_id),
            **props,
        ),
        field_error(error, field_id=field_id),
        spacing="1",
        max_width="100%",
    )


def _step_field(control, s_index, field: str) -> rx.Component:
    """A step's input with its own refusal under it ("steps.<i>.<field>" in the document)."""
    error = S.builder_errors.get("steps." + s_index.to_string() + "." + field, "")
    field_id = "step-" + s_index.to_string() + "-" + field
    return rx.vstack(
        control(**field_invalid_props(error, field_id=field_id)),
        field_error(error, field_id=field_id),
        spacing="1",
        width="100%",
    )


def _condition_row(c, i) -> rx.Component:
    return rx.hstack(
        rx.select(
            ["property", "person_property"],
            value=c.target,
            on_change=lambda v: S.set_condition(i, "target", v),
            size="1",
        ),
        rx.input(
            value=c.key,
            placeholder="cart_value",
            on_change=lambda v: S.set_condition(i, "key", v),
            size="1",
            max_length=limits.CONDITION_TEXT,
        ),
        rx.select(list(OPERATORS), value=c.op, on_change=lambda v: S.set_condition(i, "op", v), size="1"),
        rx.input(
            value=c.value,
            placeholder="50",
            on_change=lambda v: S.set_condition(i, "value", v),
            size="1",
            max_length=limits.CONDITION_TEXT,
        ),
        rx.icon_button(
            rx.icon("x", size=14),
            size="1",
            variant="ghost",
            on_click=S.remove_condition(i),
            aria_label="Remove condition",
        ),
        spacing="2",
        align="center",
        class_name="condition-row",
        wrap="wrap",
    )


def _step_card(s, i) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge("Step ", i + 1),
                rx.text("Delay after the trigger event", size="1"),
                rx.box(
                    _step_field(
                        lambda **p: rx.input(
                            value=s.delay,
                            on_change=lambda v: S.set_step(i, "delay", v),
                            width="90px",
                            size="1",
                            class_name="step-delay",
                            max_length=limits.DURATION,
                            aria_label="Delay after the trigger event",
                            **p,
                        ),
                        i,
                        "delay",
                    )
                ),
                rx.spacer(),
                rx.icon_button(
                    rx.icon("arrow-up", size=14),
                    size="1",
                    variant="ghost",
                    on_click=S.move_step(i, -1),
                    aria_label="Move step up",
                ),
                rx.icon_button(
                    rx.icon("arrow-down", size=14),
                    size="1",
                    variant="ghost",
                    on_click=S.move_step(i, 1),
                    aria_label="Move step down",
                ),
                rx.icon_button(
                    rx.icon("trash-2", size=14),
                    size="1",
                    variant="ghost",
                    color_scheme="red",
                    on_click=S.remove_step(i),
                    aria_label="Remove step",
                ),
                align="center",
                width="100%",
                spacing="2",
            ),
            _step_field(
                lambda **p: rx.input(
                    value=s.subject,
                    on_change=lambda v: S.set_step(i, "subject", v),
                    placeholder="Subject",
                    width="100%",
                    class_name="step-subject",
                    max_length=limits.SUBJECT,
                    aria_label="Subject",
                    **p,
                ),
                i,
                "subject",
            ),
            _step_field(
                lambda **p: rx.text_area(
                    value=s.html,
                    on_change=lambda v: S.set_step(i, "html", v),
                    placeholder="<p>Hi {{ name | default('there') }}</p>",
                    width="100%",
                    rows="5",
                    class_name="step-html",
                    style={"font_family": "monospace"},
                    max_length=limits.HTML,
                    aria_label="HTML",
                    **p,
                ),
                i,
                "html",
            ),
            _step_field(
                lambda **p: rx.text_area(
                    value=s.text,
                    on_change=lambda v: S.set_step(i, "text", v),
                    placeholder="Plain-text part (optional; derived from the HTML when empty)",
                    width="100%",
                    rows="2",
                    max_length=limits.TEXT,
                    aria_label="Plain-text part",
                    **p,
                ),
                i,
                "text",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="step-card",
    )


def _builder() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(rx.cond(S.editing_id != 0, "Edit campaign", "New campaign"), size="4", as_="h2"),
                rx.cond(S.editing_status != "", rx.badge(S.editing_status)),
                rx.spacer(),
                rx.button("Close", size="1", variant="ghost", on_click=S.close_builder),
                width="100%",
            ),
            rx.cond(
                S.editing_status == "active",
                rx.callout(
                    "This campaign is active: changes apply to contacts who enrol from now on.", icon="info", size="1"
                ),
            ),
            notice(S.overlap_warning, "amber", "triangle-alert", size="1", id="overlap-warning"),
            notice(S.journey_note, "blue", "info", size="1", id="journey-note"),
            _text("Name", "name", S.name, "Drop-off recovery", id="campaign-name", max_length=limits.NAME),
            rx.el.datalist(rx.foreach(S.known_events, lambda e: rx.el.option(value=e)), id="known-events"),
            rx.hstack(
                _text(
                    "Trigger event",
                    "trigger_event",
                    S.trigger_event,
                    "checkout_started",
                    width="240px",
                    list="known-events",
                    id="trigger-event",
                    error_key="trigger.event",
                ),
                _text(
                    "Only on occurrence #",
                    "occurrence",
                    S.occurrence,
                    "1",
                    width="80px",
                    error_key="trigger.occurrence",
                ),
                _text("counted within", "within", S.within, "30d", width="90px", error_key="trigger.within"),
                spacing="3",
                wrap="wrap",
            ),
            rx.text("Conditions (all must hold)", size="1", weight="medium"),
            rx.foreach(S.conditions, _condition_row),
            rx.button("Add condition", size="1", variant="soft", on_click=S.add_condition),
            rx.hstack(
                _text(
                    "Unless this event happens first",
                    "unless_event",
                    S.unless_event,
                    "checkout_completed",
                    error_key="unless.event",
                    width="220px",
                    list="known-events",
                    id="unless-event",
                ),
                _text("within", "unless_within", S.unless_within, "24h", width="80px", error_key="unless.within"),
                _text(
                    "with the same",
                    "unless_match",
                    S.unless_match,
                    "cart_id",
                    width="140px",
                    max_length=limits.CONDITION_TEXT,
                ),
                spacing="3",
                wrap="wrap",
            ),
            rx.hstack(
                _text(
                    "Exit when (goal events)",
                    "exit_on",
                    S.exit_on,
                    "subscription_upgraded",
                    width="260px",
                    max_length=limits.CONDITION_TEXT,
                ),
                rx.vstack(
                    rx.text("Re-entry", size="1", weight="medium"),
                    rx.select(REENTRY_CHOICES, value=S.reentry, on_change=lambda v: S.set_text("reentry", v)),
                    spacing="1",
                ),
                spacing="3",
                wrap="wrap",
            ),
            rx.text("Emails", size="1", weight="medium"),
            rx.foreach(S.steps, _step_card),
            rx.button("Add email", size="1", variant="soft", on_click=S.add_step),
            rx.foreach(
                S.field_errors,
                lambda e: rx.callout(
                    e, icon="triangle-alert", color_scheme="red", size="1", class_name="builder-error"
                ),
            ),
            notice(S.message, "green", "check", size="1", id="campaign-message"),
            rx.hstack(
                rx.button("Save", on_click=S.save, id="save-campaign"),
                rx.cond(
                    S.editing_id != 0,
                    rx.cond(
                        S.editing_status != "active",
                        rx.button(
                            "Activate",
                            color_scheme="green",
                            id="activate-campaign",
                            on_click=S.change_status(S.editing_id.to_string(), "active"),
                        ),
                    ),
                ),
                rx.button("Download YAML", variant="soft", on_click=S.download_yaml),
                spacing="2",
            ),
            rx.el.details(
                rx.el.summary("YAML (paste to import)"),
                rx.text_area(
                    value=S.yaml_text,
                    on_change=lambda v: S.set_text("yaml_text", v),
                    rows="12",
                    width="100%",
                    style={"font_family": "monospace"},
                    max_length=limits.YAML,
                ),
                rx.button("Load YAML into the builder", size="1", variant="soft", on_click=S.import_yaml),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Preview", size="4", as_="h2"),
            rx.text("Rendered on a real received event of the trigger type, or on a sample.", size="1"),
            rx.select.root(
                rx.select.trigger(placeholder="Event", width="100%"),
                rx.select.content(
                    rx.select.item("Sample event", value="sample"),
                    rx.foreach(S.preview_events, lambda e: rx.select.item(e.label, value=e.id)),
                ),
                value=S.preview_event_id,
                on_change=lambda v: S.set_preview("event", v),
            ),
            rx.select.root(
                rx.select.trigger(placeholder="Step"),
                rx.select.content(
                    rx.foreach(S.steps, lambda s, i: rx.select.item("Step ", i + 1, value=i.to_string()))
                ),
                value=S.preview_step,
                on_change=lambda v: S.set_preview("step", v),
            ),
            rx.button("Render preview", size="1", on_click=S.render_preview, id="render-preview"),
            rx.cond(
                S.preview_error != "",
                rx.callout(
                    S.preview_error, icon="triangle-alert", color_scheme="red", width="100%", id="preview-error"
                ),
            ),
            rx.cond(
                S.preview_subject != "",
                rx.vstack(
                    rx.text(
                        rx.text.strong("Subject: "),
                        S.preview_subject,
                        id="preview-subject",
                        style={"overflow_wrap": "anywhere"},
                    ),
                    rx.el.iframe(
                        src_doc=S.preview_html,
                        sandbox="",
                        width="100%",
                        height="320px",
                        style={"border": "1px solid var(--gray-6)", "background": "white"},
                        id="preview-html",
                    ),
                    spacing="2",
                    width="100%",
                ),
            ),
            rx.el.label(rx.text("Send a test of this email to", size="1", weight="medium"), html_for="test-to"),
            rx.hstack(
                rx.input(
                    value=S.test_to,
                    on_change=S.set_test_to,
                    placeholder="you@company.com",
                    size="1",
                    max_length=limits.EMAIL,
                    type="email",
                    **field_invalid_props(S.test_send_error, field_id="test-to"),
                ),
                rx.button("Send test", size="1", variant="soft", on_click=S.send_test, id="send-test"),
                spacing="2",
                wrap="wrap",
            ),
            field_error(S.test_send_error, field_id="test-to"),
            toast(S.test_send_result, id="test-send-result"),
            rx.foreach(
                S.preview_missing,
                lambda m: rx.callout(
                    rx.text("Missing variable ", rx.code(m), ": renders empty."),
                    icon="triangle-alert",
                    color_scheme="amber",
                    size="1",
                    class_name="missing-variable",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _dry_run() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Dry run", size="4", as_="h2"),
            rx.hstack(
                rx.text("What would it have sent over the last", size="2"),
                rx.input(value=S.dry_run_days, on_change=S.set_dry_run_days, width="60px", size="1"),
                rx.text("days?", size="2"),
                rx.button("Dry run", size="1", on_click=S.run_dry_run, id="dry-run"),
                align="center",
                spacing="2",
            ),
            rx.cond(S.dry_run_summary != "", rx.text(S.dry_run_summary, size="2", id="dry-run-summary")),
            rx.cond(
                S.dry_run_rows.length() > 0,
                rx.table.root(
                    rx.table.body(
                        rx.foreach(
                            S.dry_run_rows,
                            lambda r: rx.table.row(
                                rx.table.cell(r.due), rx.table.cell(r.recipient), rx.table.cell("Step ", r.step)
                            ),
                        )
                    ),
                    size="1",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def campaigns_page() -> rx.Component:
    return page_shell(
        "Campaigns",
        rx.cond(
            S.status_error != "",
            rx.callout(
                rx.text(
                    S.status_error,
                    " ",
                    rx.cond(
                        S.status_fix != "",
                        rx.link(
                            rx.cond(S.status_fix == "/settings", "Open Settings", "Open Domains"), href=S.status_fix
                        ),
                    ),
                ),
                icon="triangle-alert",
                color_scheme="red",
                width="100%",
                id="campaigns-error",
                role="alert",
            ),
        ),
        toast(S.message, id="campaigns-message"),
        _paused_banners(),
        _list(),
        _templates(),
        rx.cond(
            S.builder_open,
            # minmax(0, …): a long unbroken value wraps inside its column instead of widening the grid
            rx.grid(
                _builder(),
                rx.vstack(_preview(), _dry_run(), spacing="4", min_width="0"),
                columns=rx.breakpoints(initial="minmax(0, 1fr)", lg="minmax(0, 3fr) minmax(0, 2fr)"),
                spacing="4",
                width="100%",
                id="campaign-builder",
            ),
        ),
    )
