"""Campaigns: list, ready-made templates, the builder, a live preview on a real event."""

from typing import get_args

import reflex as rx
from reflex.event import EventSpec
from reflex.vars import FunctionStringVar, FunctionVar, ObjectVar
from reflex.vars.function import ArgsFunctionOperation

from humanic_app import routes
from humanic_app.components.activation import activation_area
from humanic_app.components.feedback import confirm_action, field_error, field_invalid_props, long_text, toast
from humanic_app.components.pill import pill, status_pill
from humanic_app.components.quiet_hours import builder_quiet_hours
from humanic_app.components.shell import empty_state, page_shell
from humanic_app.components.table import cell_text, data_table
from humanic_app.components.topics import topic_select
from humanic_app.components.ui import notice
from humanic_app.models import limits
from humanic_app.pages.design_gallery import design_gallery
from humanic_app.pages.journey_builder import edit_effects_panel, journey_flow
from humanic_app.services.campaigns.schema import OPERATORS, CampaignDocument
from humanic_app.state.campaigns import CampaignsState as S

LIST_HEADING_ID = "campaigns-list-heading"
BUILDER_HEADING_ID = "campaign-builder-heading"


def _focus(element_id: str) -> EventSpec:
    """Moves focus (and so the view) to an element: the builder's heading as the builder appears, the list's
    heading as it goes. Compiled into the page (no eval), so it runs in the browser as it happens."""
    element: ObjectVar = FunctionStringVar.create("document.getElementById").call(element_id).to(ObjectVar)
    return rx.call_function(ArgsFunctionOperation.create((), element.focus.to(FunctionVar).call()))


REENTRY_CHOICES = list(get_args(CampaignDocument.model_fields["reentry"].annotation))

STATUS_COLORS = [("draft", "gray"), ("active", "green"), ("paused", "orange"), ("archived", "red")]


def _status_buttons(c) -> rx.Component:
    return rx.hstack(
        rx.cond(
            c.status != "active",
            rx.cond(
                c.status != "archived",
                rx.button(
                    "Activate",
                    size="1",
                    variant="soft",
                    color_scheme="green",
                    high_contrast=True,
                    on_click=S.change_status(c.id, "active"),
                ),
            ),
        ),
        rx.cond(
            c.status == "active",
            rx.button(
                "Pause",
                size="1",
                variant="soft",
                color_scheme="orange",
                high_contrast=True,
                on_click=S.change_status(c.id, "paused"),
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
                trigger_props={"high_contrast": True},
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
        data_table(
            ["Campaign", "Status", "Trigger", "Emails sent", "Scheduled", ""],
            rx.foreach(
                S.campaigns,
                lambda c: rx.table.row(
                    rx.table.cell(
                        rx.hstack(
                            long_text(c.name),
                            rx.cond(
                                c.id == S.editing_id.to_string(),
                                pill("Editing", variant="outline"),
                            ),
                            spacing="2",
                            align="center",
                        ),
                        max_width="280px",
                    ),
                    rx.table.cell(status_pill(c.status, STATUS_COLORS)),
                    cell_text(c.trigger, max_width="200px", style={"font_family": "var(--code-font-family)"}),
                    rx.table.cell(c.sent),
                    rx.table.cell(c.scheduled),
                    rx.table.cell(_status_buttons(c)),
                    class_name="campaign-row",
                    aria_current=rx.cond(c.id == S.editing_id.to_string(), "true", "false"),
                ),
            ),
            label="Your campaigns",
            min_width="640px",
        ),
        empty_state(
            "send",
            "No campaigns yet",
            "Start from one of the ready-made campaigns below, built on the events PostHog sends.",
        ),
    )


UPLOAD_ID = "campaign-upload"


def _import_button() -> rx.Component:
    # The dropzone's file input takes no props of its own: the label around it names it for screen readers
    # (a label names its first labellable descendant, the input, and a click on the button inside it does not
    # reach the input a second time).
    return rx.el.label(
        rx.upload(
            rx.button(rx.icon("upload", size=14), "Import YAML/JSON", size="2", variant="outline"),
            id=UPLOAD_ID,
            max_files=1,
            multiple=False,
            no_drag=False,
            border="none",
            padding="0",
            accept={"application/x-yaml": [".yaml", ".yml"], "application/json": [".json"], "text/plain": [".txt"]},
            on_drop=S.handle_upload(rx.upload_files(upload_id=UPLOAD_ID)),
        ),
    )


def _list_header() -> rx.Component:
    return rx.flex(
        rx.heading("Your campaigns", size="4", as_="h2", id=LIST_HEADING_ID, tab_index=-1),
        rx.spacer(),
        rx.hstack(
            rx.button(rx.icon("plus", size=14), "Blank campaign", size="2", on_click=S.new_from_template("")),
            _import_button(),
            spacing="2",
            wrap="wrap",
        ),
        align="center",
        gap="3",
        wrap="wrap",
        width="100%",
    )


def _template_card(t) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t.name, size="3", as_="h3"),
            rx.text(t.purpose, size="2", color=rx.color("gray", 11), class_name="template-purpose"),
            rx.hstack(
                pill(rx.icon("zap", size=12), t.trigger, variant="soft", class_name="template-trigger"),
                pill(rx.icon("mail", size=12), t.emails, variant="soft", color="gray", class_name="template-emails"),
                spacing="2",
                wrap="wrap",
            ),
            rx.spacer(),
            rx.button(
                "Use this campaign",
                size="2",
                variant="soft",
                on_click=S.new_from_template(t.slug),
                aria_label="Use " + t.name,
            ),
            spacing="2",
            height="100%",
            align="start",
        ),
        class_name="template-card",
    )


def _templates() -> rx.Component:
    return rx.vstack(
        rx.heading("Start from a ready-made campaign", size="4", as_="h2"),
        rx.text(
            "Each is built on events PostHog sends. Their emails say \u201c",
            rx.text.strong(S.workspace_name),
            "\u201d, your workspace's name in ",
            rx.link("Settings", href=routes.SETTINGS, underline="always"),
            ".",
            size="2",
            color=rx.color("gray", 11),
            id="template-workspace-hint",
        ),
        rx.grid(
            rx.foreach(S.templates, _template_card),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="3",
            width="100%",
        ),
        spacing="3",
        width="100%",
        id="campaign-templates",
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


def _condition_row(c, i) -> rx.Component:
    n = (i + 1).to_string()
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(aria_label="Condition " + n + ": read from"),
            rx.select.content(
                rx.select.item("event property", value="property"),
                rx.select.item("person property", value="person_property"),
            ),
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
            aria_label="Condition " + n + ": property name",
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Condition " + n + ": comparison"),
            rx.select.content(*[rx.select.item(op, value=op) for op in OPERATORS]),
            value=c.op,
            on_change=lambda v: S.set_condition(i, "op", v),
            size="1",
        ),
        rx.input(
            value=c.value,
            placeholder="50",
            on_change=lambda v: S.set_condition(i, "value", v),
            size="1",
            max_length=limits.CONDITION_TEXT,
            aria_label="Condition " + n + ": value",
        ),
        rx.icon_button(
            rx.icon("x", size=14),
            size="1",
            variant="ghost",
            on_click=S.remove_condition(i),
            aria_label="Remove condition " + n,
        ),
        spacing="2",
        align="center",
        class_name="condition-row",
        wrap="wrap",
    )


def _section(title: str, *content, hint: str = "") -> rx.Component:
    """A titled part of the builder (h3 under the builder's h2)."""
    return rx.vstack(
        rx.heading(title, size="2", as_="h3"),
        *([rx.text(hint, size="1", color=rx.color("gray", 11))] if hint else []),
        *content,
        spacing="2",
        width="100%",
    )


def _select_field(label: str, field_id: str, items: list[str], value, on_change) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="1", weight="medium"), html_for=field_id),
        rx.select.root(
            rx.select.trigger(id=field_id),
            rx.select.content(*[rx.select.item(item.replace("_", " "), value=item) for item in items]),
            value=value,
            on_change=on_change,
        ),
        spacing="1",
    )


def _builder_header() -> rx.Component:
    return rx.vstack(
        rx.button(
            rx.icon("arrow-left", size=14),
            "Back to campaigns",
            size="2",
            variant="ghost",
            on_click=[_focus(LIST_HEADING_ID), S.close_builder],
            id="back-to-campaigns",
        ),
        rx.hstack(
            rx.heading(
                rx.cond(S.editing_id != 0, "Edit campaign", "New campaign"),
                size="4",
                as_="h2",
                id=BUILDER_HEADING_ID,
                tab_index=-1,
                on_mount=_focus(BUILDER_HEADING_ID),
            ),
            rx.cond(S.editing_status != "", status_pill(S.editing_status, STATUS_COLORS)),
            align="center",
            spacing="2",
        ),
        spacing="2",
        align="start",
        width="100%",
    )


def _trigger_section() -> rx.Component:
    return _section(
        "Trigger",
        rx.el.datalist(rx.foreach(S.known_events, lambda e: rx.el.option(value=e)), id="known-events"),
        rx.hstack(
            _text(
                "Event",
                "trigger_event",
                S.trigger_event,
                "checkout_started",
                width="240px",
                list="known-events",
                id="trigger-event",
                error_key="trigger.event",
            ),
            _text(
                "Only on occurrence #", "occurrence", S.occurrence, "1", width="80px", error_key="trigger.occurrence"
            ),
            _text("counted within", "within", S.within, "e.g. 30d", width="90px", error_key="trigger.within"),
            spacing="3",
            wrap="wrap",
        ),
        rx.el.datalist(rx.foreach(S.known_cohorts, lambda c: rx.el.option(value=c)), id="known-cohorts"),
        _text(
            "Only contacts in PostHog cohort (optional)",
            "trigger_cohort",
            S.trigger_cohort,
            "e.g. Power users",
            width="240px",
            max_length=400,
            list="known-cohorts",
            error_key="trigger.in_cohort",
        ),
        rx.text("Conditions (all must hold)", size="1", weight="medium"),
        rx.foreach(S.conditions, _condition_row),
        rx.button("Add condition", size="1", variant="soft", on_click=S.add_condition),
    )


def _unless_section() -> rx.Component:
    # Empty until an event is named: a "24h" sitting in an unused section reads as a setting in force.
    return _section(
        "Unless (optional)",
        rx.hstack(
            _text(
                "this event happens first",
                "unless_event",
                S.unless_event,
                "e.g. checkout_completed",
                error_key="unless.event",
                width="220px",
                list="known-events",
                id="unless-event",
            ),
            _text("within", "unless_within", S.unless_within, "e.g. 24h", width="90px", error_key="unless.within"),
            _text(
                "with the same",
                "unless_match",
                S.unless_match,
                "e.g. cart_id",
                width="140px",
                max_length=limits.CONDITION_TEXT,
            ),
            spacing="3",
            wrap="wrap",
        ),
        hint="Nobody is emailed when this event follows the trigger in time (within 24 h unless you say).",
    )


def _exit_section() -> rx.Component:
    return _section(
        "Exit, re-entry and send rate",
        rx.hstack(
            _text(
                "Exit when (goal events)",
                "exit_on",
                S.exit_on,
                "e.g. subscription_upgraded",
                width="260px",
                max_length=limits.CONDITION_TEXT,
            ),
            _select_field(
                "Re-entry", "campaign-reentry", REENTRY_CHOICES, S.reentry, lambda v: S.set_text("reentry", v)
            ),
            _text("Emails per minute (optional)", "emails_per_minute", S.emails_per_minute, "no limit", width="160px"),
            topic_select(S.topic, S.topic_choices, lambda v: S.set_text("topic", v)),
            spacing="3",
            wrap="wrap",
        ),
        hint="A send rate spaces a large enrolment: at most that many of this campaign's emails go out in any "
        "minute; the rest wait their turn, and other campaigns are not slowed. The topic decides who receives "
        "it: recipients who opted out of it are skipped; transactional mail ignores marketing opt-outs.",
    )


def _builder_actions() -> rx.Component:
    return rx.hstack(
        rx.button("Save", on_click=S.save, id="save-campaign"),
        rx.cond(
            S.editing_id != 0,
            rx.cond(
                S.editing_status != "active",
                rx.button(
                    "Activate",
                    color_scheme="green",
                    high_contrast=True,
                    id="activate-campaign",
                    on_click=S.change_status(S.editing_id.to_string(), "active"),
                ),
            ),
        ),
        rx.button("Download YAML", variant="soft", on_click=S.download_yaml),
        spacing="2",
        wrap="wrap",
    )


def _builder() -> rx.Component:
    return rx.card(
        rx.vstack(
            _builder_header(),
            rx.cond(
                S.editing_status == "active",
                rx.callout(
                    "This campaign is active: changes apply to contacts who enrol from now on.", icon="info", size="1"
                ),
            ),
            notice(S.overlap_warning, "amber", "triangle-alert", size="1", id="overlap-warning", high_contrast=True),
            _text("Name", "name", S.name, "Drop-off recovery", id="campaign-name", max_length=limits.NAME),
            _trigger_section(),
            _unless_section(),
            _exit_section(),
            builder_quiet_hours(S),
            _section(
                "Journey",
                journey_flow(),
                hint="Each contact goes down from the trigger, one step at a time. Waits and branches send "
                "different contacts different ways.",
            ),
            rx.foreach(
                S.field_errors,
                lambda e: rx.callout(
                    e, icon="triangle-alert", color_scheme="red", size="1", class_name="builder-error"
                ),
            ),
            toast(S.message, id="campaign-message"),
            edit_effects_panel(),
            _builder_actions(),
            activation_area((S.editing_id != 0) & (S.editing_status != "active")),
            rx.el.details(
                rx.el.summary("YAML (paste to import)"),
                rx.vstack(
                    rx.text_area(
                        value=S.yaml_text,
                        on_change=lambda v: S.set_text("yaml_text", v),
                        rows="12",
                        width="100%",
                        style={"font_family": "monospace"},
                        max_length=limits.YAML,
                        aria_label="Campaign YAML",
                    ),
                    rx.button("Load YAML into the builder", size="1", variant="soft", on_click=S.import_yaml),
                    spacing="2",
                    padding_top="8px",
                ),
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
    )


def _email_header(label: str, value, **props) -> rx.Component:
    return rx.text(
        rx.el.span(label + " ", style={"color": rx.color("gray", 11)}),
        value,
        size="2",
        style={"overflow_wrap": "anywhere"},
        **props,
    )


def _rendered_email() -> rx.Component:
    return rx.cond(
        S.preview_subject != "",
        rx.vstack(
            rx.box(
                _email_header(
                    "From:",
                    rx.cond(S.preview_from != "", S.preview_from, "(no From address yet: set it in Settings)"),
                    id="preview-from",
                ),
                _email_header("Subject:", S.preview_subject, id="preview-subject", weight="medium"),
                padding="8px 12px",
                border_bottom=f"1px solid {rx.color('gray', 6)}",
                width="100%",
            ),
            # sandbox="": the email's own markup runs nothing and reaches nothing of the page
            rx.box(
                rx.el.iframe(
                    src_doc=S.preview_html,
                    sandbox="",
                    title="Email preview: " + S.preview_subject,
                    width=rx.cond(S.preview_width == "phone", "390px", "600px"),
                    height=rx.cond(S.preview_width == "phone", "640px", "480px"),
                    style={
                        "border": "0",
                        "background": rx.cond(S.preview_scheme == "dark", "#111317", "white"),
                        "display": "block",
                        "max_width": "100%",
                        "margin": "0 auto",
                    },
                    id="preview-html",
                    data_width=S.preview_width,
                    data_scheme=S.preview_scheme,
                ),
                width="100%",
                background=rx.color("gray", 3),
            ),
            spacing="0",
            width="100%",
            style={"border": f"1px solid {rx.color('gray', 6)}", "border_radius": "8px", "overflow": "hidden"},
        ),
        rx.cond(
            S.preview_error == "",
            rx.text(
                "Give the email a subject and HTML to see it here, as it will be sent.",
                size="2",
                color=rx.color("gray", 11),
                id="preview-empty",
            ),
        ),
    )


def _preview_checks() -> rx.Component:
    """What predicts the email renders well in mail clients (size, alt text, absolute links, width, contrast)."""
    return rx.cond(
        S.preview_checks.length() > 0,
        rx.el.ul(
            rx.foreach(
                S.preview_checks,
                lambda c: rx.el.li(
                    rx.hstack(
                        rx.cond(
                            c.ok,
                            rx.icon("circle-check", size=14, color=rx.color("green", 11), aria_hidden="true"),
                            rx.icon("triangle-alert", size=14, color=rx.color("amber", 11), aria_hidden="true"),
                        ),
                        rx.text(rx.cond(c.ok, "", "Check: "), c.message, size="1"),
                        spacing="2",
                        align="start",
                    ),
                    class_name=rx.cond(c.ok, "preview-check", "preview-check preview-check-failed"),
                ),
            ),
            aria_label="Checks of the rendered email",
            id="preview-checks",
            style={"list_style": "none", "padding": "0", "margin": "0", "display": "grid", "gap": "4px"},
        ),
    )


def _view_choice(label: str, field: str, value, choices: list[tuple[str, str]]) -> rx.Component:
    """How the preview frame shows the email: a labelled radio group, one arrow key per choice."""
    return rx.radio_group.root(
        rx.hstack(
            rx.text(label, size="1", weight="medium"),
            *[rx.text(rx.radio_group.item(value=v), " " + words, as_="label", size="2") for v, words in choices],
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        value=value,
        on_change=lambda v: S.set_preview_view(field, v),
        aria_label="Preview " + label.lower(),
        id=f"preview-{field}",
    )


def _preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Preview", size="4", as_="h2"),
            rx.text(
                "Exactly as it will be sent, footer and unsubscribe link included, on a real received event "
                "of the trigger type or a sample.",
                size="1",
                color=rx.color("gray", 11),
            ),
            rx.flex(
                rx.vstack(
                    rx.el.label(rx.text("Event", size="1", weight="medium"), html_for="preview-event"),
                    rx.select.root(
                        rx.select.trigger(placeholder="Event", width="100%", id="preview-event"),
                        rx.select.content(
                            rx.select.item("Sample event", value="sample"),
                            rx.foreach(S.preview_events, lambda e: rx.select.item(e.label, value=e.id)),
                        ),
                        value=S.preview_event_id,
                        on_change=lambda v: S.set_preview("event", v),
                    ),
                    spacing="1",
                    flex="1 1 180px",
                    min_width="0",
                ),
                rx.vstack(
                    rx.el.label(rx.text("Step", size="1", weight="medium"), html_for="preview-step-choice"),
                    rx.select.root(
                        rx.select.trigger(placeholder="Step", id="preview-step-choice", max_width="100%"),
                        rx.select.content(rx.foreach(S.email_choices, lambda c: rx.select.item(c.label, value=c.id))),
                        value=S.preview_step,
                        on_change=lambda v: S.set_preview("step", v),
                    ),
                    spacing="1",
                    max_width="100%",
                    min_width="0",
                ),
                # wraps: a step's label holds its subject, too long to share a phone's width with the event
                gap="2",
                width="100%",
                align="end",
                wrap="wrap",
            ),
            rx.flex(
                _view_choice(
                    "Width", "width", S.preview_width, [("desktop", "Desktop (600 px)"), ("phone", "Phone (390 px)")]
                ),
                _view_choice("Colours", "scheme", S.preview_scheme, [("light", "Light"), ("dark", "Dark")]),
                gap="4",
                wrap="wrap",
                width="100%",
            ),
            rx.button("Render preview", size="1", variant="soft", on_click=S.render_preview, id="render-preview"),
            rx.cond(
                S.preview_error != "",
                rx.callout(
                    S.preview_error, icon="triangle-alert", color_scheme="red", width="100%", id="preview-error"
                ),
            ),
            _rendered_email(),
            _preview_checks(),
            rx.cond(S.preview_sends != "", rx.text(S.preview_sends, size="2", id="preview-sends")),
            rx.foreach(
                S.preview_missing,
                lambda m: rx.callout(
                    rx.text("Missing variable ", rx.code(m), ": renders empty."),
                    icon="triangle-alert",
                    color_scheme="amber",
                    high_contrast=True,
                    size="1",
                    class_name="missing-variable",
                ),
            ),
            rx.el.label(rx.text("Send a test of this email to", size="1", weight="medium"), html_for="test-to"),
            rx.hstack(
                rx.input(
                    value=S.test_to,
                    on_change=S.set_test_to,
                    placeholder="you@company.com",
                    size="2",
                    max_length=limits.EMAIL,
                    type="email",
                    flex="1",
                    min_width="0",
                    **field_invalid_props(S.test_send_error, field_id="test-to"),
                ),
                rx.button("Send test", size="2", variant="soft", on_click=S.send_test, id="send-test"),
                spacing="2",
                width="100%",
            ),
            field_error(S.test_send_error, field_id="test-to"),
            toast(S.test_send_result, id="test-send-result"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _dry_run() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Dry run", size="4", as_="h2"),
            rx.hstack(
                rx.el.label(rx.text("What would it have sent over the last", size="2"), html_for="dry-run-days"),
                rx.input(
                    value=S.dry_run_days,
                    on_change=S.set_dry_run_days,
                    width="60px",
                    size="1",
                    id="dry-run-days",
                    input_mode="numeric",
                ),
                rx.text("days?", size="2"),
                rx.button("Dry run", size="1", on_click=S.run_dry_run, id="dry-run"),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.cond(S.dry_run_summary != "", rx.text(S.dry_run_summary, size="2", id="dry-run-summary", role="status")),
            rx.foreach(S.dry_run_paths, lambda line: rx.text(line, size="2", class_name="dry-run-path")),
            rx.cond(
                S.dry_run_rows.length() > 0,
                data_table(
                    ["Due", "To", "Step"],
                    rx.foreach(
                        S.dry_run_rows,
                        lambda r: rx.table.row(
                            rx.table.cell(r.due, white_space="nowrap"),
                            cell_text(r.recipient, max_width="200px"),
                            rx.table.cell("Step ", r.step),
                        ),
                    ),
                    label="What the dry run would have sent",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _status_error() -> rx.Component:
    return rx.cond(
        S.status_error != "",
        rx.callout(
            rx.text(
                S.status_error,
                " ",
                rx.cond(
                    S.status_fix != "",
                    rx.link(rx.cond(S.status_fix == "/settings", "Open Settings", "Open Domains"), href=S.status_fix),
                ),
            ),
            icon="triangle-alert",
            color_scheme="red",
            width="100%",
            id="campaigns-error",
            role="alert",
        ),
    )


def campaigns_page() -> rx.Component:
    return page_shell(
        "Campaigns",
        _status_error(),
        toast(S.message, id="campaigns-message"),
        _paused_banners(),
        _list_header(),
        _list(),
        design_gallery(),
        rx.cond(
            S.builder_open,
            # minmax(0, …): a long unbroken value wraps inside its column instead of widening the grid
            rx.grid(
                _builder(),
                # beside the builder the preview stays in view while the emails below are edited
                rx.vstack(
                    _preview(),
                    _dry_run(),
                    spacing="4",
                    min_width="0",
                    position=rx.breakpoints(initial="static", lg="sticky"),
                    top="16px",
                    align_self="start",
                ),
                columns=rx.breakpoints(initial="minmax(0, 1fr)", lg="minmax(0, 3fr) minmax(0, 2fr)"),
                spacing="4",
                width="100%",
                id="campaign-builder",
            ),
            _templates(),
        ),
    )
