"""The privacy section of a contact's dialog: download everything held about it, or erase it behind a
confirmation that says what goes and what stays."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import confirm_action, toast
from humanic_app.state.contact_privacy import ContactPrivacyState as P

ERASE_CONSEQUENCE = (
    "This permanently deletes the contact, its identities, all its events with their data, its campaign "
    "enrolments, and the content and delivery history of every email to it (those emails stay counted, "
    "anonymized, with no address). It cannot be undone. The address stays "
    "on the suppression list, kept only as a salted hash, so Humanic will never email it again — even when "
    "PostHog sends new events for it."
)


def privacy_section(contact) -> rx.Component:
    """`contact`: the dialog's selected contact ({"id", "email", …})."""
    return rx.vstack(
        rx.heading("Privacy", size="3", as_="h3"),
        rx.flex(
            rx.button(
                rx.icon("download", size=16),
                "Export (JSON)",
                size="1",
                variant="soft",
                on_click=P.export_contact(contact["id"]),
                id="contact-export",
            ),
            confirm_action(
                "Erase contact…",
                title="Erase " + contact["email"] + "?",
                consequence=ERASE_CONSEQUENCE,
                confirm_label="Erase contact",
                on_confirm=P.erase_contact(contact["id"]),
                trigger_props={"id": "contact-erase"},
            ),
            spacing="2",
            wrap="wrap",
        ),
        toast(P.privacy_error, ok=False),
        spacing="2",
        width="100%",
        position="relative",  # the empty live region is absolutely placed (humanic.css): it stays inside here
    )


def erased_notice() -> rx.Component:
    return toast(P.erased_message, id="contact-erased")
