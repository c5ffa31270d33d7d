"""Contacts: created from events that carry an email; search, properties, identities, timeline. The list uses
the page's whole width; a contact opens in a dialog over it."""

import reflex as rx

from humanic_app import routes
from humanic_app.components.contact_privacy import erased_notice, privacy_section
from humanic_app.components.filters import filter_bar, filter_text
from humanic_app.components.pill import pill
from humanic_app.components.shell import empty_state, page_shell
from humanic_app.components.table import cell_text, data_table
from humanic_app.components.topics import contact_topics_section
from humanic_app.components.ui import code_block
from humanic_app.state.contacts import ContactRow, ContactsState as S

SECONDARY = rx.color("gray", 11)
_LABEL = "rt-Text rt-r-size-2 rt-r-weight-medium"


def _search() -> rx.Component:
    return filter_bar(
        filter_text(
            "Search contacts",
            name="q",
            field_id="contact-search",
            value=S.query,
            replaced=S.search_replaced,
            placeholder="Search email, name or distinct_id",
            width="360px",
        ),
        on_submit=S.search,
        label="Search contacts",
        submit="Search",
    )


def _section(title: str, *content: rx.Component) -> rx.Component:
    return rx.vstack(rx.heading(title, size="3", as_="h3"), *content, spacing="2", width="100%")


def _contact_view() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.dialog.title(  # no id of its own: Radix names the dialog after the title's generated id
                rx.text.span(S.selected["email"], id="contact-email"),
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
            rx.cond(S.selected["name"] != "", rx.text.span(S.selected["name"], " · ", color=SECONDARY)),
            pill(S.selected["subscription"], id="contact-subscription"),
            " ",
            rx.text.span("· first seen ", S.selected["created"], " UTC", color=SECONDARY),
            size="2",
        ),
        _section(
            "Identities",
            rx.flex(
                rx.foreach(
                    S.selected_ids,
                    lambda i: pill(
                        i,
                        variant="soft",
                        # A distinct_id can be one long token: it wraps inside the badge rather than widen the dialog.
                        style={"white_space": "normal", "overflow_wrap": "anywhere", "max_width": "100%"},
                    ),
                ),
                wrap="wrap",
                spacing="2",
                id="contact-identities",
            ),
        ),
        _section("Properties", code_block(S.selected["properties"], label="Properties")),
        rx.vstack(
            rx.flex(
                rx.heading("Events", size="3", as_="h3"),
                rx.link(
                    "All in the Event Log →",
                    href=f"{routes.EVENT_LOG}?contact=" + S.selected["id"],
                    size="2",
                    id="contact-events-link",
                ),
                spacing="3",
                align="baseline",
                wrap="wrap",
            ),
            rx.cond(
                S.timeline.length() > 0,
                rx.box(
                    data_table(
                        ["Time (UTC)", "Event", "Outcome"],
                        rx.foreach(
                            S.timeline,
                            lambda e: rx.table.row(
                                rx.table.cell(e.time, white_space="nowrap"),
                                rx.table.cell(rx.code(e.event)),
                                cell_text(e.outcome, max_width="240px"),
                            ),
                        ),
                        label="The contact's events",
                    ),
                    id="contact-timeline",
                    width="100%",
                ),
                rx.text("No events stored for this contact.", size="2", color=SECONDARY),
            ),
            spacing="2",
            width="100%",
        ),
        rx.cond(
            S.written_back.length() > 0,
            rx.vstack(
                rx.heading("Written to PostHog", size="3", as_="h3"),
                rx.box(
                    data_table(
                        ["Time (UTC)", "Event", "State"],
                        rx.foreach(
                            S.written_back,
                            lambda w: rx.table.row(
                                rx.table.cell(w.time, white_space="nowrap"),
                                rx.table.cell(rx.code(w.event)),
                                cell_text(w.state, max_width="240px"),
                            ),
                        ),
                        label="Events written to PostHog about the contact",
                    ),
                    id="contact-written-back",
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
        ),
        contact_topics_section(S.selected),
        privacy_section(S.selected),
        spacing="4",
        width="100%",
    )


def _open_contact(c: ContactRow) -> rx.Component:
    """The contact's email opens it in a dialog (focus moves in, Escape closes, focus returns here). Its
    ::after covers the whole row, so a click anywhere on the row opens it too; the content waits until the
    state has loaded this contact, so the previous one never flashes by."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.el.button(
                c.email,
                title=c.email,
                class_name="contact-open",
                style={
                    "all": "unset",
                    "cursor": "pointer",
                    "color": rx.color("accent", 11),
                    "display": "block",
                    "max_width": "100%",
                    "overflow": "hidden",
                    "text_overflow": "ellipsis",
                    "white_space": "nowrap",
                    "&::after": {"content": '""', "position": "absolute", "inset": "0"},
                },  # its focus ring: assets/humanic.css
            )
        ),
        rx.dialog.content(
            rx.cond(
                S.selected["id"] == c.id,
                _contact_view(),
                rx.center(rx.spinner(size="3"), rx.dialog.title("Loading the contact", class_name="visually-hidden")),
            ),
            max_width="min(760px, calc(100vw - 24px))",
            padding=rx.breakpoints(initial="16px", sm="24px"),
            id="contact-view",
        ),
        # Loaded on opening, not by the button's on_click: Reflex would wrap a clicking button in a <div>,
        # and Radix would then return focus to that div instead of the button.
        on_open_change=lambda is_open: S.open_contact(c.id, is_open),
    )


def _list() -> rx.Component:
    return rx.vstack(
        erased_notice(),
        _search(),
        rx.cond(
            S.rows.length() > 0,
            data_table(
                ["Email", "Name", "Updated (UTC)"],
                rx.foreach(
                    S.rows,
                    lambda c: rx.table.row(
                        rx.table.cell(_open_contact(c), max_width="360px"),
                        cell_text(c.name, max_width="280px"),
                        rx.table.cell(c.updated, white_space="nowrap"),
                        key=c.id,
                        position="relative",
                        _hover={"background": rx.color("gray", 2)},
                        class_name="contact-row",
                    ),
                ),
                label="Contacts",
                id="contacts-table",
            ),
            empty_state(
                "users",
                "No contacts found",
                "Contacts are created automatically when an event arrives with an email address. "
                "Include email in your PostHog $identify calls.",
            ),
        ),
        rx.cond(S.older_cursor != 0, rx.button("Show more", variant="soft", on_click=S.older)),
        spacing="3",
        width="100%",
    )


def _suppression_form() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.vstack(
                rx.el.label("Email address", html_for="suppress-email", class_name=_LABEL),
                rx.input(name="email", type="email", placeholder="address@example.com", id="suppress-email"),
                spacing="1",
            ),
            rx.vstack(
                rx.el.label("Reason (optional)", html_for="suppress-note", class_name=_LABEL),
                rx.input(name="note", placeholder="Asked by phone", id="suppress-note"),
                spacing="1",
            ),
            rx.button("Suppress", type="submit", variant="soft"),
            spacing="2",
            wrap="wrap",
            align="end",
        ),
        on_submit=S.suppress,
        reset_on_submit=True,
    )


def _suppressions() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Suppression list", size="4", as_="h2"),
            rx.text(
                "Addresses that are never emailed: unsubscribes, permanent bounces, complaints, Resend's own list, "
                "and any you add.",
                size="2",
                color=SECONDARY,
            ),
            _suppression_form(),
            rx.cond(
                S.suppression_message != "",
                rx.text(S.suppression_message, color_scheme="red", size="2", role="alert"),
            ),
            rx.cond(
                S.suppressions.length() > 0,
                data_table(
                    ["Email", "Reason", "Note", "Added (UTC)", ""],
                    rx.foreach(
                        S.suppressions,
                        lambda r: rx.table.row(
                            cell_text(r.email, max_width="280px"),
                            rx.table.cell(pill(r.reason)),
                            cell_text(r.note, max_width="240px"),
                            rx.table.cell(r.created_at, white_space="nowrap"),
                            rx.table.cell(
                                rx.button(
                                    "Remove",
                                    size="1",
                                    variant="soft",
                                    color_scheme="gray",
                                    aria_label="Remove " + r.email + " from the suppression list",
                                    on_click=S.unsuppress(r.email),
                                )
                            ),
                            key=r.email,
                            class_name="suppression-row",
                        ),
                    ),
                    label="Suppression list",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def contacts_page() -> rx.Component:
    return page_shell("Contacts", _list(), _suppressions())
