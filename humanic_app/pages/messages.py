"""Messages: scheduled, sent, failed, suppressed and cancelled emails, each viewable in a dialog over the list."""

import reflex as rx

from humanic_app.components.feedback import confirm_action, long_text
from humanic_app.components.filters import filter_bar, filter_select, filter_text
from humanic_app.components.pill import status_pill
from humanic_app.components.shell import empty_state, page_shell
from humanic_app.components.table import data_table
from humanic_app.components.ui import notice
from humanic_app.state.messages import STATUSES, MessageRow, MessagesState as S

COLORS = [
    ("scheduled", "blue"),
    ("sending", "amber"),
    ("sent", "green"),
    ("failed", "red"),
    ("cancelled", "gray"),
    ("suppressed", "orange"),
]
SECONDARY = rx.color("gray", 11)


def _status_badge(status) -> rx.Component:
    return status_pill(status, COLORS, class_name="message-status")


def _filters() -> rx.Component:
    """Status applies at once; the recipient on Filter (or Enter)."""
    return filter_bar(
        filter_select(
            "Status",
            field_id="message-status",
            value=S.filter_status,
            on_change=S.set_status_filter,
            items=rx.fragment(
                *[rx.select.item("All statuses" if s == "all" else s.capitalize(), value=s) for s in STATUSES]
            ),
        ),
        filter_text(
            "Recipient",
            name="to",
            field_id="message-to",
            value=S.filter_to,
            replaced=S.filters_replaced,
            placeholder="Recipient email",
            width="280px",
        ),
        on_submit=S.search,
        label="Filter emails",
    )


def _detail_list() -> rx.Component:
    """Only what is known: a scheduled email has no sender, provider id or send time yet."""
    return rx.el.dl(
        rx.foreach(
            S.selected_details,
            lambda d: rx.fragment(
                rx.el.dt(d.label, style={"color": SECONDARY, "font_size": "var(--font-size-2)"}),
                rx.el.dd(
                    d.value,
                    style={"margin": "0", "font_size": "var(--font-size-2)", "overflow_wrap": "anywhere"},
                ),
            ),
        ),
        id="message-details",
        style={
            "display": "grid",
            "grid_template_columns": "max-content minmax(0, 1fr)",
            "column_gap": "16px",
            "row_gap": "6px",
            "margin": "0",
            "width": "100%",
        },
    )


def _email_frame() -> rx.Component:
    """The email as the recipient sees it (emails are designed on white), inside a surround that follows the
    app's light or dark theme so the dialog does not glare in dark mode."""
    return rx.box(
        rx.cond(
            S.selected["html"] != "",
            rx.el.iframe(
                src_doc=S.selected["html"],
                sandbox="",
                title="The email as the recipient sees it",
                width="100%",
                style={
                    "height": "min(520px, 60vh)",
                    "border": "0",
                    "border_radius": "4px",
                    "background": "white",
                    "display": "block",
                },
                id="message-html",
            ),
            rx.text(
                "Not written yet: the email is rendered when it is sent, from its campaign step and the contact's "
                "data as they are then.",
                size="2",
                color=SECONDARY,
                padding="24px 8px",
                text_align="center",
                id="message-not-rendered",
            ),
        ),
        background=rx.color("gray", 3),
        border=f"1px solid {rx.color('gray', 6)}",
        border_radius="8px",
        padding="12px",
        width="100%",
        class_name="email-surround",
    )


def _delivery_events() -> rx.Component:
    """What Resend reported (delivered, opened…). The local outbox has no provider reporting back, so in
    local-outbox mode this section only shows if the message went through Resend earlier."""
    return rx.cond(
        ~S.local_outbox | (S.selected_events.length() > 0),
        rx.vstack(
            rx.heading("Delivery events", size="3", as_="h3"),
            rx.cond(
                S.selected_events.length() > 0,
                rx.vstack(
                    rx.foreach(
                        S.selected_events,
                        lambda e: rx.text(e.at, " UTC · ", e.type, size="2", class_name="delivery-event"),
                    ),
                    spacing="1",
                    id="delivery-events",
                ),
                rx.text(
                    "None yet: Resend reports delivered, opened, clicked, bounced and complained events here once "
                    "its webhook points at /api/webhooks/resend.",
                    size="2",
                    color=SECONDARY,
                    id="delivery-events",
                ),
            ),
            spacing="2",
            width="100%",
        ),
    )


def _message_view() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.dialog.title(  # no id of its own: Radix names the dialog after the title's generated id
                rx.text.span(
                    rx.cond(S.selected["subject"] != "", S.selected["subject"], "Email to " + S.selected["to"]),
                    id="message-subject",
                ),
                size="5",
                margin="0",
                style={"overflow_wrap": "anywhere"},
            ),
            rx.dialog.close(
                rx.icon_button(rx.icon("x", size=18), variant="ghost", color_scheme="gray", aria_label="Close")
            ),
            justify="between",
            align="start",
            width="100%",
            spacing="3",
        ),
        rx.dialog.description(
            _status_badge(S.selected["status"]),
            " ",
            rx.text.span(
                rx.cond(S.selected["subject"] != "", "Email to " + S.selected["to"], "Written when it is sent"),
                color=SECONDARY,
            ),
        ),
        _detail_list(),
        rx.cond(
            S.selected["last_error"] != "",
            rx.cond(  # a scheduled email's note says what it waits for; any other's, what went wrong
                S.selected["status"] == "scheduled",
                rx.callout(S.selected["last_error"], icon="clock", color_scheme="amber", size="1", width="100%"),
                rx.callout(S.selected["last_error"], icon="triangle-alert", color_scheme="red", size="1", width="100%"),
            ),
        ),
        _email_frame(),
        _delivery_events(),
        spacing="3",
        width="100%",
    )


def _view_button(m: MessageRow) -> rx.Component:
    """The message opens in a dialog over the list (focus moves in, Escape closes, focus returns to this
    button). Its content waits until the state has loaded this message, so no other one flashes by."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                "View",
                size="1",
                variant="soft",
                aria_label="View the email to " + m.recipient,
                # Its ::after covers the row, so a tap anywhere on the row opens the email (phones above all).
                style={"&::after": {"content": '""', "position": "absolute", "inset": "0"}},
            )
        ),
        rx.dialog.content(
            rx.cond(
                S.selected["id"] == m.id,
                _message_view(),
                rx.center(rx.spinner(size="3"), rx.dialog.title("Loading the email", class_name="visually-hidden")),
            ),
            max_width="min(760px, calc(100vw - 24px))",
            padding=rx.breakpoints(initial="16px", sm="24px"),
            id="message-view",
        ),
        # Loaded on opening, not by the button's on_click: Reflex would wrap a clicking button in a <div>,
        # and Radix would then return focus to that div instead of the button.
        on_open_change=lambda is_open: S.open_message(m.id, is_open),
    )


def _other_actions(m: MessageRow) -> rx.Component:
    """Cancel, Retry, Send anew: above the row-wide View overlay, so they stay clickable."""
    return rx.hstack(
        rx.cond(
            m.status == "scheduled",
            confirm_action(
                "Cancel",
                title="Cancel this email?",
                consequence="The email to "
                + m.recipient
                + rx.cond(m.subject != "", " (" + m.subject + ")", "")
                + " will not be sent. This cannot be undone.",
                confirm_label="Cancel the email",
                on_confirm=S.act(m.id, "cancel"),
            ),
        ),
        rx.cond(
            m.status == "failed",
            # an erased contact's email is never sent again
            rx.cond(
                m.recipient != "(erased)", rx.button("Retry", size="1", variant="soft", on_click=S.act(m.id, "retry"))
            ),
        ),
        rx.cond(
            m.error.contains("idempotency window"),
            rx.button("Send anew", size="1", variant="soft", color_scheme="orange", on_click=S.act(m.id, "send_anew")),
        ),
        spacing="2",
        position="relative",
        z_index="1",
    )


def _row(m: MessageRow) -> rx.Component:
    """The email (subject, recipient) and its status first: what a phone shows before the table scrolls sideways."""
    return rx.table.row(
        rx.table.cell(
            rx.cond(
                m.subject != "",
                long_text(m.subject, weight="medium"),
                rx.text("Written at send time", size="2", color=SECONDARY, style={"font_style": "italic"}),
            ),
            long_text(m.recipient, color=SECONDARY),
            max_width="320px",
            min_width="200px",
        ),
        rx.table.cell(
            _status_badge(m.status),
            rx.cond(
                m.error != "",
                rx.text(
                    m.error,
                    title=m.error,
                    size="1",
                    color=SECONDARY,
                    style={"overflow": "hidden", "text_overflow": "ellipsis", "white_space": "nowrap"},
                ),
            ),
            max_width="240px",
        ),
        rx.table.cell(
            rx.cond(m.campaign != "", long_text(m.campaign), rx.text("—", size="2", color=SECONDARY)),
            rx.text(rx.cond(m.test != "", "Test send · step ", "Step ") + m.step, size="1", color=SECONDARY),
            max_width="220px",
            class_name="message-campaign",
        ),
        rx.table.cell(m.due, white_space="nowrap"),
        rx.table.cell(rx.hstack(_view_button(m), _other_actions(m), spacing="2")),
        key=m.id,
        position="relative",
        _hover={"background": rx.color("gray", 2)},
        class_name="message-row",
    )


def messages_page() -> rx.Component:
    return page_shell(
        "Messages",
        rx.moment(interval=2000, on_change=S.refresh, display="none"),
        rx.cond(
            S.local_outbox,
            rx.callout(
                "Local outbox: Resend is not connected, so nothing leaves this machine. Emails are delivered "
                "here, exactly as recipients would see them. Connect Resend in Settings → Sending.",
                icon="inbox",
                color_scheme="blue",
                high_contrast=True,
                width="100%",
                id="local-outbox-banner",
            ),
        ),
        notice(S.error, "red", "triangle-alert"),
        _filters(),
        rx.cond(
            S.rows.length() > 0,
            data_table(
                ["Email", "Status", "Campaign", "Due (UTC)", ""],
                rx.foreach(S.rows, _row),
                label="Messages",
                min_width="760px",
            ),
            empty_state(
                "mail",
                "No messages yet",
                "When a campaign fires, its emails are scheduled here; each can be viewed as the recipient sees it.",
            ),
        ),
    )
