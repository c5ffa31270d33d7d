"""Settings → Sending: how email leaves Humanic (Resend, or the local outbox), the Resend API key field
(write-only), Test connection, Register webhook and Remove key."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import confirm_action, field_error, field_invalid_props, toast
from humanic_app.components.pill import pill
from humanic_app.components.ui import settings_section
from humanic_app.state.sending import SendingState as S

SECTION = "sending"
KEY_FIELD = "sending-api-key"


def _mode_line() -> rx.Component:
    resend = S.mode == "resend"
    return rx.vstack(
        rx.hstack(
            pill(rx.cond(resend, "Resend", "Local outbox"), color=rx.cond(resend, "green", "blue"), size="2"),
            rx.cond(
                resend,
                pill(S.key_access, color="gray", size="2", id="sending-access"),
            ),
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            resend,
            rx.text(
                "Emails go out through Resend with the key ",
                S.key_source_words,
                rx.cond(S.key_set_at != "", rx.fragment(" on ", S.key_set_at), ""),
                ". The key is never shown again.",
                size="2",
                id="sending-key-line",
            ),
            rx.callout(
                "Local outbox: Resend is not connected, so no email leaves this machine; the Messages page "
                "shows each one as its recipient would see it. Paste a Resend API key to send for real.",
                icon="inbox",
                color_scheme="blue",
                high_contrast=True,
                width="100%",
                id="sending-local-outbox",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _key_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label(
                rx.text(
                    rx.cond(S.key_source == "stored", "Replace the Resend API key", "Resend API key"),
                    size="2",
                    weight="medium",
                ),
                html_for=KEY_FIELD,
            ),
            rx.flex(
                rx.input(
                    name="api_key",
                    type="password",
                    placeholder="re_…",
                    auto_complete="off",
                    spell_check=False,
                    required=True,
                    max_length=300,
                    width="100%",
                    **field_invalid_props(S.key_error, field_id=KEY_FIELD),
                ),
                rx.button("Save and test key", type="submit", white_space="nowrap"),
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="3",
                width="100%",
            ),
            field_error(S.key_error, field_id=KEY_FIELD),
            rx.text(
                "Create it in Resend → API Keys. With full access Humanic verifies your domains and registers its "
                "own webhook for bounces and complaints; a sending-only key can send but not do those. It is "
                "stored encrypted and never shown back.",
                size="1",
                color=rx.color("gray", 11),
            ),
            spacing="1",
            width="100%",
        ),
        on_submit=S.save_key,
        reset_on_submit=True,
        width="100%",
    )


def _webhook_line() -> rx.Component:
    return rx.cond(
        S.webhook_endpoint != "",
        rx.text(
            "Resend's webhook is registered at ",
            rx.code(S.webhook_endpoint, style={"word_break": "break-all"}),
            " (",
            S.webhook_registered_at,
            "): bounces and complaints reach Humanic.",
            size="2",
            id="sending-webhook",
        ),
    )


def _actions() -> rx.Component:
    return rx.flex(
        rx.button("Test connection", on_click=S.test_connection, variant="soft", id="sending-test"),
        rx.button("Register webhook", on_click=S.register_webhook, variant="soft", color_scheme="gray"),
        rx.cond(
            S.key_source == "stored",
            confirm_action(
                "Remove key",
                title="Remove the Resend key?",
                consequence="Emails go to the local outbox again: nothing leaves this machine until a key is "
                "set. Humanic's webhook is removed from Resend too.",
                confirm_label="Remove key",
                on_confirm=S.remove_key,
                trigger_props={"size": "2"},
            ),
        ),
        spacing="3",
        wrap="wrap",
    )


def sending_section() -> rx.Component:
    return settings_section(
        "Sending",
        "How emails leave Humanic: through your Resend account, or the local outbox.",
        rx.cond(
            S.sending_loaded,
            rx.vstack(
                _mode_line(),
                rx.foreach(
                    S.notes,
                    # a note may carry the webhook's URL: it breaks anywhere rather than widen the callout
                    lambda note: rx.callout(
                        note, icon="info", color_scheme="amber", size="1", width="100%", overflow_wrap="anywhere"
                    ),
                ),
                rx.cond(S.can_edit, _key_form()),
                rx.cond(S.mode == "resend", _webhook_line()),
                rx.cond(
                    S.webhook_problem != "",
                    rx.callout(
                        S.webhook_problem,
                        icon="triangle-alert",
                        color_scheme="amber",
                        size="1",
                        width="100%",
                        id="sending-webhook-problem",
                        overflow_wrap="anywhere",
                    ),
                ),
                toast(S.done, id="sending-done"),
                toast(S.refused, ok=False, id="sending-refused"),
                rx.cond(S.mode == "resend", _actions()),
                spacing="3",
                width="100%",
            ),
            rx.text("Loading…", size="2"),
        ),
        section_id=SECTION,
        on_mount=S.load_sending,
    )
