"""Domains: the sending domain, its DNS records and verification status."""

import reflex as rx

from humanic_app.components.feedback import toast
from humanic_app.components.pill import pill
from humanic_app.components.shell import empty_state, page_shell
from humanic_app.components.table import cell_text, data_table
from humanic_app.components.ui import copy_text
from humanic_app.components.warmup import warmup_panel
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
                cell_text(r.domain, max_width="200px"),
                rx.table.cell(rx.text(r.record, size="2", white_space="nowrap")),
                rx.table.cell(rx.code(r.type, size="2")),
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


def _domain_row(d) -> rx.Component:
    """Verify sits beside the status it changes, so a phone sees both without scrolling the table."""
    return rx.table.row(
        cell_text(d.name, max_width="260px"),
        rx.table.cell(
            rx.hstack(
                pill(d.label, color=rx.match(d.status, *COLORS, "gray"), class_name="domain-status", size="2"),
                rx.button("Verify", size="1", variant="soft", on_click=S.verify(d.id), aria_label="Verify " + d.name),
                align="center",
                spacing="2",
            )
        ),
        rx.table.cell(rx.text(d.checked, size="2", white_space="nowrap")),
    )


def _add_form() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.vstack(
                rx.el.label(rx.text("Domain of your From address", size="2", weight="medium"), html_for="domain-name"),
                rx.input(
                    name="name", placeholder="mail.yourcompany.com", id="domain-name", required=True, width="100%"
                ),
                spacing="1",
                width="100%",
                max_width=rx.breakpoints(initial="100%", sm="360px"),
            ),
            rx.button("Add domain", type="submit"),
            direction=rx.breakpoints(initial="column", sm="row"),
            align=rx.breakpoints(initial="stretch", sm="end"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.add,
        reset_on_submit=True,
        width="100%",
    )


def _configured() -> rx.Component:
    return rx.vstack(
        _add_form(),
        rx.cond(
            S.domains.length() > 0,
            rx.vstack(
                data_table(
                    ["Domain", "Status", "Last checked"],
                    rx.foreach(S.domains, _domain_row),
                    label="Sending domains",
                ),
                rx.heading("DNS records", size="4", as_="h2"),
                rx.text(
                    "Add these records at your DNS provider. DMARC is not required by Resend, but Gmail "
                    "and Yahoo expect at least p=none from bulk senders.",
                    size="2",
                    color=rx.color("gray", 11),
                ),
                _records(),
                warmup_panel(),
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
        spacing="4",
        width="100%",
    )


def domains_page() -> rx.Component:
    return page_shell(
        "Domains",
        toast(S.message, id="domains-message"),
        toast(S.error, ok=False, id="domains-error"),
        rx.cond(
            S.resend_configured,
            _configured(),
            rx.callout(
                "Local outbox mode (Resend is not connected): emails stay on this machine (see Messages), so "
                "no sending domain is needed. Connect Resend in Settings → Sending to send through your "
                "Resend account from your own domain, then add and verify the domain here.",
                icon="info",
                width="100%",
                id="domains-not-needed",
            ),
        ),
    )
