"""Messages: scheduled, sent, failed, suppressed and cancelled emails."""

import reflex as rx

from humanic_app.components.feedback import confirm_action, long_text
from humanic_app.components.shell import empty_state, page_shell
from humanic_app.components.ui import notice
from humanic_app.state.messages import STATUSES, MessagesState as S

COLORS = [
    ("scheduled", "blue"),
    ("sending", "amber"),
    ("sent", "green"),
    ("failed", "red"),
    ("cancelled", "gray"),
    ("suppressed", "orange"),
]


def _table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(*[rx.table.column_header_cell(h) for h in ("Due (UTC)", "To", "Subject", "Status", "")])
        ),
        rx.table.body(
            rx.foreach(
                S.rows,
                lambda m: rx.table.row(
                    rx.table.cell(m.due),
                    rx.table.cell(m.recipient),
                    rx.table.cell(
                        rx.hstack(rx.cond(m.test != "", rx.badge("test")), long_text(m.subject), min_width="0"),
                        max_width="320px",
                    ),
                    rx.table.cell(
                        rx.vstack(
                            rx.badge(m.status, color_scheme=rx.match(m.status, *COLORS, "gray")),
                            rx.text(m.error, size="1", color_scheme="gray"),
                            spacing="1",
                        )
                    ),
                    rx.table.cell(
                        rx.hstack(
                            rx.button("View", size="1", variant="soft", on_click=S.open_message(m.id)),
                            rx.cond(
                                m.status == "scheduled",
                                confirm_action(
                                    "Cancel",
                                    title="Cancel this email?",
                                    consequence="The email to " + m.recipient + " (" + m.subject + ") will not "
                                    "be sent. This cannot be undone.",
                                    confirm_label="Cancel the email",
                                    on_confirm=S.act(m.id, "cancel"),
                                ),
                            ),
                            rx.cond(
                                m.status == "failed",
                                rx.button("Retry", size="1", variant="soft", on_click=S.act(m.id, "retry")),
                            ),
                            rx.cond(
                                m.error.contains("idempotency window"),
                                rx.button(
                                    "Send anew",
                                    size="1",
                                    variant="soft",
                                    color_scheme="orange",
                                    on_click=S.act(m.id, "send_anew"),
                                ),
                            ),
                            spacing="2",
                        )
                    ),
                    class_name="message-row",
                ),
            )
        ),
        width="100%",
        size="1",
    )


def _viewer() -> rx.Component:
    return rx.cond(
        S.selected.contains("id"),
        rx.card(
            rx.vstack(
                rx.heading(S.selected["subject"], size="4", as_="h2", id="message-subject"),
                rx.text("From ", S.selected["from"], " to ", S.selected["to"], size="2"),
                rx.text(
                    "Status ",
                    S.selected["status"],
                    " · provider id ",
                    S.selected["provider_message_id"],
                    " · via ",
                    S.selected["sent_via"],
                    size="1",
                    color_scheme="gray",
                ),
                rx.cond(
                    S.selected["last_error"] != "",
                    rx.text("Last error: ", S.selected["last_error"], size="1", color_scheme="red"),
                ),
                rx.el.iframe(
                    src_doc=S.selected["html"],
                    sandbox="",
                    width="100%",
                    height="420px",
                    style={"border": "1px solid var(--gray-6)", "background": "white"},
                    id="message-html",
                ),
                rx.heading("Delivery events", size="2", as_="h3"),
                rx.cond(
                    S.selected_events.length() > 0,
                    rx.vstack(
                        rx.foreach(
                            S.selected_events,
                            lambda e: rx.text(e.at, " UTC · ", e.type, size="1", class_name="delivery-event"),
                        ),
                        spacing="1",
                        id="delivery-events",
                    ),
                    rx.text(
                        "None yet: Resend reports delivered, opened, clicked, bounced and complained "
                        "events here once its webhook points at /api/webhooks/resend.",
                        size="1",
                        color_scheme="gray",
                        id="delivery-events",
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
        ),
    )


def messages_page() -> rx.Component:
    return page_shell(
        "Messages",
        rx.moment(interval=2000, on_change=S.refresh, display="none"),
        rx.cond(
            S.local_outbox,
            rx.callout(
                "Local outbox: no RESEND_API_KEY is set, so nothing leaves this machine. Emails are "
                "delivered here, exactly as recipients would see them.",
                icon="inbox",
                color_scheme="blue",
                width="100%",
                id="local-outbox-banner",
            ),
        ),
        notice(S.error, "red", "triangle-alert"),
        rx.hstack(
            rx.select(STATUSES, value=S.filter_status, on_change=S.set_status_filter),
            rx.form(
                rx.hstack(
                    rx.input(name="to", placeholder="Recipient email", default_value=S.filter_to, key=S.filter_to),
                    rx.button("Filter", type="submit", variant="soft"),
                    spacing="2",
                ),
                on_submit=S.search,
                reset_on_submit=False,
            ),
            spacing="2",
        ),
        rx.cond(
            S.rows.length() > 0,
            _table(),
            empty_state(
                "mail",
                "No messages yet",
                "When a campaign fires, its emails are scheduled here; each can be viewed as the recipient sees it.",
            ),
        ),
        _viewer(),
    )
