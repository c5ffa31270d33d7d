"""Domains: the sending domain, its DNS records and verification status."""

import reflex as rx

from humanic_app.components.shell import empty_state, page_shell
from humanic_app.components.table import data_table
from humanic_app.components.ui import copy_text, notice
from humanic_app.state.domains import DomainsState as S

COLORS = [
    ("verified", "green"),
    ("pending", "amber"),
    ("not_started", "gray"),
    ("failed", "red"),
    ("temporary_failure", "orange"),
]


def _records() -> rx.Component:
    return data_table(
        ["Domain", "Record", "Type", "Name", "Value", "Priority", "Status"],
        rx.foreach(
            S.records,
            lambda r: rx.table.row(
                rx.table.cell(r.domain),
                rx.table.cell(r.record),
                rx.table.cell(r.type),
                rx.table.cell(
                    rx.hstack(
                        rx.code(r.name),
                        rx.icon_button(
                            rx.icon("copy", size=12),
                            size="1",
                            variant="ghost",
                            on_click=copy_text(r.name),
                            aria_label="Copy name",
                        ),
                        align="center",
                    )
                ),
                rx.table.cell(
                    rx.hstack(
                        rx.code(r.value, style={"word_break": "break-all"}),
                        rx.icon_button(
                            rx.icon("copy", size=12),
                            size="1",
                            variant="ghost",
                            on_click=copy_text(r.value),
                            aria_label="Copy value",
                        ),
                        align="center",
                    ),
                    min_width="220px",
                ),
                rx.table.cell(r.priority),
                rx.table.cell(r.status),
                class_name="dns-record",
            ),
        ),
        label="DNS records",
        width="100%",
    )


def _configured() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.hstack(
                rx.input(name="name", placeholder="mail.yourcompany.com", id="domain-name"),
                rx.button("Add domain", type="submit"),
                spacing="2",
            ),
            on_submit=S.add,
            reset_on_submit=True,
        ),
        rx.cond(
            S.domains.length() > 0,
            rx.vstack(
                rx.foreach(
                    S.domains,
                    lambda d: rx.hstack(
                        rx.text(d.name, weight="medium"),
                        rx.badge(d.label, color_scheme=rx.match(d.status, *COLORS, "gray"), class_name="domain-status"),
                        rx.text("checked ", d.checked, size="1", color_scheme="gray"),
                        rx.button("Verify", size="1", on_click=S.verify(d.id)),
                        align="center",
                        spacing="3",
                    ),
                ),
                rx.text(
                    "Add these records at your DNS provider. DMARC is not required by Resend, but Gmail "
                    "and Yahoo expect at least p=none from bulk senders.",
                    size="2",
                ),
                _records(),
                spacing="3",
                width="100%",
            ),
            empty_state(
                "globe",
                "No sending domain yet",
                "Campaigns send from your own domain through your Resend account. Add the domain "
                "of your From address; campaigns won't send until it is verified.",
            ),
        ),
        spacing="3",
        width="100%",
    )


def domains_page() -> rx.Component:
    return page_shell(
        "Domains",
        notice(S.message, "green", "info"),
        notice(S.error, "red", "triangle-alert", id="domains-error"),
        rx.cond(
            S.resend_configured,
            _configured(),
            rx.callout(
                "Local outbox mode (no RESEND_API_KEY): emails stay on this machine (see Messages), so "
                "no sending domain is needed. Set RESEND_API_KEY to send through your Resend account "
                "from your own domain, then add and verify the domain here.",
                icon="info",
                width="100%",
                id="domains-not-needed",
            ),
        ),
    )
