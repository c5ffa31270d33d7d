"""Settings → Recover missed events (PostHog read with the API access set above): names and a UTC range, a
dry run saying what would be imported and triggered, then the import, quietly or (confirmed) firing emails;
Continue while PostHog holds more than one run reads. `/settings?backfill_events=a,b&since=…&until=…` fills
it in."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import confirm_action, labelled_field
from humanic_app.components.posthog_access import access_line
from humanic_app.components.ui import settings_section
from humanic_app.state.posthog_backfill import BackfillState as S, CountRow

PANEL = "posthog-backfill"
_LIST = {"margin": "0", "padding_left": "1.25em", "font_size": "var(--font-size-2)"}


def _offered(name) -> rx.Component:
    field_id = "backfill-event-" + name.to(str)
    return rx.hstack(
        rx.checkbox(
            name="event:" + name.to(str),
            default_checked=S.backfill_chosen.contains(name),
            key=S.backfill_chosen.to_string() + name.to(str),
            id=field_id,
        ),
        rx.el.label(rx.code(name, size="2", style={"word_break": "break-all"}), html_for=field_id),
        spacing="2",
        align="center",
    )


def _events() -> rx.Component:
    error = S.backfill_errors.get("events", "")
    return rx.el.fieldset(
        rx.el.legend(rx.text("Events to recover", size="2", weight="medium")),
        rx.cond(
            S.backfill_offered.length() > 0,
            rx.flex(rx.foreach(S.backfill_offered, _offered), wrap="wrap", gap="3", width="100%"),
            rx.text("No active campaign reads an event yet: type the names below.", size="1"),
        ),
        labelled_field(
            "Other event names",
            "backfill-other-events",
            error,
            "Comma-separated, as PostHog names them (up to 50 names in all).",
            name="other_events",
            default_value=S.backfill_other,
            key=S.backfill_other,
            placeholder="checkout_started, user_signed_up",
            max_length=5000,
        ),
        style={"border": "none", "padding": "0", "margin": "0", "min_width": "0"},
        width="100%",
    )


def _range() -> rx.Component:
    return rx.grid(
        labelled_field(
            "From (UTC)",
            "backfill-since",
            S.backfill_errors.get("since", ""),
            "Times are UTC.",
            name="since",
            type="datetime-local",
            default_value=S.backfill_since,
            key=S.backfill_since,
        ),
        labelled_field(
            "To (UTC)",
            "backfill-until",
            S.backfill_errors.get("until", ""),
            "At most 90 days after the start.",
            name="until",
            type="datetime-local",
            default_value=S.backfill_until,
            key=S.backfill_until,
        ),
        columns=rx.breakpoints(initial="1", sm="2"),
        spacing="3",
        width="100%",
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            access_line(),
            _events(),
            _range(),
            rx.button("Dry run", type="submit", id="backfill-dry-run", loading=S.backfill_busy != ""),
            spacing="3",
            width="100%",
        ),
        on_submit=S.dry_run_backfill,
        reset_on_submit=False,
        width="100%",
    )


def _count(row: CountRow) -> rx.Component:
    return rx.el.li(
        rx.code(row.event, style={"word_break": "break-all"}),
        f": {row.new} new, {row.duplicates} already received",
    )


def _actions() -> rx.Component:
    return rx.flex(
        rx.cond(
            S.backfill_can_import,
            rx.button(
                "Import quietly",
                on_click=S.import_backfill(False),
                id="backfill-import-quietly",
                disabled=S.backfill_busy != "",
            ),
        ),
        rx.cond(
            S.backfill_can_fire,
            confirm_action(
                "Import and send emails",
                title="Import and send emails?",
                consequence=S.backfill_confirm,
                confirm_label="Import and send emails",
                on_confirm=S.import_backfill(True),
                trigger_props={"size": "2", "variant": "outline"},
                color="red",
            ),
        ),
        rx.cond(
            S.backfill_more != "",
            rx.button("Continue", on_click=S.continue_backfill, variant="soft", disabled=S.backfill_busy != ""),
        ),
        gap="2",
        wrap="wrap",
    )


def _summary() -> rx.Component:
    return rx.vstack(
        rx.heading(S.backfill_title, as_="h3", size="2"),
        rx.text(S.backfill_asked, size="1", color=rx.color("gray", 11), style={"overflow_wrap": "anywhere"}),
        rx.text(S.backfill_totals, size="2", id="backfill-totals"),
        rx.el.ul(rx.foreach(S.backfill_counts, _count), style=_LIST),
        rx.cond(
            S.backfill_campaigns.length() > 0,
            rx.vstack(
                rx.text("Campaigns these events trigger", size="2", weight="medium"),
                rx.el.ul(
                    rx.foreach(S.backfill_campaigns, lambda line: rx.el.li(line)),
                    style=_LIST,
                ),
                spacing="1",
                width="100%",
            ),
        ),
        rx.text(S.backfill_emails, size="2", id="backfill-emails"),
        rx.cond(
            S.backfill_more != "",
            rx.callout(S.backfill_more, icon="info", color_scheme="amber", size="1", width="100%", id="backfill-more"),
        ),
        _actions(),
        spacing="2",
        width="100%",
        id="backfill-summary",
        style={"overflow_wrap": "anywhere"},
    )


def backfill_section() -> rx.Component:
    return settings_section(
        "Recover missed events",
        "When the webhook destination was down or misconfigured, import the events it missed from PostHog. A "
        "dry run says what would be imported and triggered; importing updates contacts and goals and sends no "
        "email unless you ask.",
        rx.cond(S.backfill_loaded, _form(), rx.text("Loading…", size="2")),
        rx.cond(
            S.backfill_general != "",
            rx.callout(
                S.backfill_general, icon="triangle-alert", color_scheme="red", size="1", width="100%", role="alert"
            ),
        ),
        rx.box(rx.cond(S.backfill_busy != "", rx.text(S.backfill_busy, size="2")), role="status", width="100%"),
        rx.cond(S.backfill_done, _summary()),
        section_id=PANEL,
        on_mount=S.load_backfill,
    )
