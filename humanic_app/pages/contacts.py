"""Contacts: created from events that carry an email; search, properties, identities, timeline."""

import reflex as rx

from humanic_app import routes
from humanic_app.components.shell import empty_state, page_shell
from humanic_app.components.ui import code_block
from humanic_app.state.contacts import ContactsState as S


def _list() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.hstack(
                rx.input(
                    name="q",
                    placeholder="Search email, name or distinct_id",
                    default_value=S.query,
                    key=S.query,
                    width="320px",
                    id="contact-search",
                ),
                rx.button("Search", type="submit", variant="soft"),
                spacing="2",
            ),
            on_submit=S.search,
            reset_on_submit=False,
        ),
        rx.cond(
            S.rows.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Email"),
                        rx.table.column_header_cell("Name"),
                        rx.table.column_header_cell("Updated"),
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        S.rows,
                        lambda c: rx.table.row(
                            rx.table.cell(c.email),
                            rx.table.cell(c.name),
                            rx.table.cell(c.updated),
                            on_click=S.open_contact(c.id),
                            style={"cursor": "pointer"},
                            class_name="contact-row",
                        ),
                    )
                ),
                width="100%",
                size="1",
            ),
            empty_state(
                "users",
                "No contacts found",
                "Contacts are created automatically when an event arrives with an email address. "
                "Include email in your PostHog $identify calls.",
            ),
        ),
        rx.cond(S.older_cursor != 0, rx.button("More", variant="soft", on_click=S.older)),
        spacing="3",
        width="100%",
    )


def _detail() -> rx.Component:
    return rx.cond(
        S.selected.contains("id"),
        rx.card(
            rx.vstack(
                rx.heading(S.selected["email"], size="4", as_="h2", id="contact-email"),
                rx.hstack(
                    rx.text(S.selected["name"], color_scheme="gray"),
                    rx.badge(S.selected["subscription"], id="contact-subscription"),
                    spacing="2",
                ),
                rx.text("Identities", weight="medium", size="2"),
                rx.hstack(
                    rx.foreach(S.selected_ids, lambda i: rx.badge(i, variant="soft")),
                    wrap="wrap",
                    id="contact-identities",
                ),
                rx.text("Properties", weight="medium", size="2"),
                code_block(S.selected["properties"]),
                rx.hstack(
                    rx.text("Events", weight="medium", size="2"),
                    rx.link(
                        "All in the Event Log →",
                        href=f"{routes.EVENT_LOG}?contact=" + S.selected["id"],
                        size="2",
                        id="contact-events-link",
                    ),
                    spacing="3",
                    align="center",
                ),
                rx.table.root(
                    rx.table.body(
                        rx.foreach(
                            S.timeline,
                            lambda e: rx.table.row(
                                rx.table.cell(e.time), rx.table.cell(rx.code(e.event)), rx.table.cell(e.outcome)
                            ),
                        )
                    ),
                    size="1",
                    width="100%",
                    id="contact-timeline",
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
        ),
    )


def _suppressions() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Suppression list", size="4", as_="h2"),
            rx.text(
                "Addresses that are never emailed: unsubscribes, permanent bounces, complaints, Resend's own list, "
                "and any you add.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.hstack(
                    rx.input(name="email", placeholder="address@example.com", id="suppress-email"),
                    rx.input(name="note", placeholder="Reason (optional)"),
                    rx.button("Suppress", type="submit", variant="soft"),
                    spacing="2",
                    wrap="wrap",
                ),
                on_submit=S.suppress,
                reset_on_submit=True,
            ),
            rx.cond(S.suppression_message != "", rx.text(S.suppression_message, color_scheme="red", size="2")),
            rx.table.root(
                rx.table.body(
                    rx.foreach(
                        S.suppressions,
                        lambda r: rx.table.row(
                            rx.table.cell(r.email),
                            rx.table.cell(rx.badge(r.reason)),
                            rx.table.cell(r.note),
                            rx.table.cell(r.created_at),
                            rx.table.cell(
                                rx.button("Remove", size="1", variant="ghost", on_click=S.unsuppress(r.email))
                            ),
                            class_name="suppression-row",
                        ),
                    )
                ),
                size="1",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def contacts_page() -> rx.Component:
    return page_shell(
        "Contacts",
        rx.grid(_list(), _detail(), columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%"),
        _suppressions(),
    )
