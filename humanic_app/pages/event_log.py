"""Event Log: every delivery with its outcome, live."""

import reflex as rx

from humanic_app import routes
from humanic_app.components.feedback import live_summary
from humanic_app.components.filters import filter_bar, filter_select, filter_text
from humanic_app.components.pill import pill, status_pill
from humanic_app.components.shell import empty_state, page_shell
from humanic_app.components.table import cell_text, data_table
from humanic_app.components.ui import code_block, focus_element, notice
from humanic_app.state.event_log import OUTCOMES, EventLogState as S

OUTCOME_COLORS = {"processed": "green", "pending": "gray", "duplicate": "blue", "skipped": "amber", "rejected": "red"}


def _outcome_pill(outcome, size: str = "1") -> rx.Component:
    """The outcome as a pill that never shrinks or wraps (the reason beside it is what gets cut)."""
    return status_pill(
        outcome,
        list(OUTCOME_COLORS.items()),
        size=size,
        style={"text_transform": "capitalize"},
        class_name="outcome-pill",
    )


def _filters() -> rx.Component:
    return filter_bar(
        filter_select(
            "Source",
            field_id="source-filter",
            value=S.filter_source,
            on_change=S.set_source_filter,
            items=rx.fragment(
                rx.select.item("All sources", value="all"),
                rx.foreach(S.source_options, lambda s: rx.select.item(s.name, value=s.id)),
            ),
        ),
        filter_select(
            "Outcome",
            field_id="outcome-filter",
            value=S.filter_outcome,
            on_change=S.set_outcome_filter,
            items=rx.fragment(
                rx.select.item("All outcomes", value="all"),
                *[rx.select.item(o.capitalize(), value=o) for o in OUTCOMES if o != "all"],
            ),
        ),
        filter_text(
            "Event name contains",
            name="event",
            field_id="event-filter",
            value=S.filter_event,
            replaced=S.filters_replaced,
            placeholder="Event name",
            width="200px",
        ),
        filter_text(
            "Contact",
            name="contact",
            field_id="contact-filter",
            value=S.filter_contact,
            replaced=S.filters_replaced,
            placeholder="Contact: email, distinct_id or id",
            width="250px",
        ),
        on_submit=S.apply_filters,
        label="Filter events",
        filtered=S.filtered,
        on_clear=S.clear_filters,
    )


def _live_toggle() -> rx.Component:
    """The Live switch, and a polite live region saying how many events streamed in (throttled in the state)."""
    return rx.hstack(
        rx.hstack(
            rx.switch(checked=S.live, on_change=S.toggle_live, id="live-switch", size="2"),
            rx.el.label("Live", html_for="live-switch", style={"cursor": "pointer", "font_size": "var(--font-size-2)"}),
            align="center",
            spacing="2",
            min_height="24px",
        ),
        live_summary(S.live_summary, key=S.announcements, region_id="live-summary"),
        align="center",
        spacing="3",
    )


def _event_row(r) -> rx.Component:
    """What happened and its outcome first, so a phone sees both before the frame scrolls sideways."""
    return rx.table.row(
        rx.table.cell(
            # The row opens on a click anywhere; this button is the same for a keyboard and a screen reader.
            rx.el.button(
                rx.code(r.event, variant="ghost", size="2"),
                type="button",
                on_click=S.open_detail(r.id).stop_propagation,
                aria_label=rx.cond(r.event == "—", "Open this delivery", "Open " + r.event),
                title=r.event,
                class_name="event-open",
                id="event-open-" + r.id,
                max_width=rx.breakpoints(initial="150px", sm="220px"),  # a phone sees the outcome beside it
                style={
                    "background": "none",
                    "border": "0",
                    "padding": "0",
                    "cursor": "pointer",
                    "min_height": "24px",
                    "overflow": "hidden",
                    "text_overflow": "ellipsis",
                    "white_space": "nowrap",
                    "text_align": "left",
                },
            ),
        ),
        rx.table.cell(
            rx.hstack(
                _outcome_pill(r.outcome),
                rx.cond(
                    r.reason != "",
                    rx.text(
                        r.reason,
                        title=r.reason,
                        class_name="outcome-reason",
                        size="1",
                        color=rx.color("gray", 11),
                        style={"overflow": "hidden", "text_overflow": "ellipsis", "white_space": "nowrap"},
                    ),
                ),
                align="center",
                spacing="2",
                max_width="260px",
            ),
        ),
        rx.table.cell(
            rx.el.span(rx.moment(r.time, from_now=True), title=r.time_full, class_name="event-time"),
            white_space="nowrap",
        ),
        cell_text(r.contact, max_width="200px"),
        cell_text(r.source, max_width="140px"),
        on_click=S.open_detail(r.id),
        style={"cursor": "pointer"},
        _hover={"background": rx.color("gray", 2)},
        class_name="event-row",
    )


def _table() -> rx.Component:
    return data_table(
        ["Event", "Outcome", "Time", "Contact", "Source"],
        rx.foreach(S.rows, _event_row),
        label="Events, newest first",
        min_width="640px",
        id="event-log-table",
    )


def _go_to(label: str, href: str) -> rx.Component:
    return rx.button(rx.link(label, href=href, underline="none"), as_child=True, variant="soft")


def _empty() -> rx.Component:
    """Why nothing shows, and the way on: the filters match nothing, or nothing is connected or has arrived."""
    return rx.match(
        S.empty_reason,
        (
            "no_match",
            empty_state(
                "search-x",
                "No events match these filters",
                "Nothing received matches them. Widen the filters, or clear them to see every delivery.",
                rx.button("Clear filters", variant="soft", on_click=S.clear_filters, id="empty-clear-filters"),
            ),
        ),
        (
            "waiting",
            empty_state(
                "radio-tower",
                "Waiting for the first event",
                "A PostHog source is connected; its deliveries appear here live, accepted or rejected, the "
                "moment PostHog sends one. Send a sample event, or check the destination, under Integrations.",
                _go_to("Open Integrations", routes.INTEGRATIONS),
            ),
        ),
        empty_state(
            "plug",
            "No events yet",
            "Every delivery PostHog sends appears here live, with its outcome. Connect PostHog to send the first.",
            _go_to("Connect PostHog", routes.INTEGRATIONS),
        ),
    )


def _paging() -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("chevron-left", size=16, aria_hidden="true"),
            "Newer",
            variant="soft",
            on_click=S.newer,
            disabled=S.newer_cursor == 0,
            id="newer-page",
        ),
        rx.button(
            "Older",
            rx.icon("chevron-right", size=16, aria_hidden="true"),
            variant="soft",
            on_click=S.older,
            disabled=S.older_cursor == 0,
            id="older-page",
        ),
        spacing="2",
        justify="end",
        width="100%",
    )


def _decisions() -> rx.Component:
    return rx.cond(
        S.decisions.length() > 0,
        data_table(
            ["Campaign", "Result", "Why"],
            rx.foreach(
                S.decisions,
                lambda d: rx.table.row(
                    cell_text(d.campaign, max_width="200px"),
                    rx.table.cell(
                        pill(d.fired, color=rx.cond(d.fired == "fired", "green", "gray")),
                        white_space="nowrap",
                    ),
                    rx.table.cell(d.reason),
                ),
            ),
            label="Campaigns that looked at this event",
            id="detail-decisions",
        ),
        rx.text("No active campaign looked at this event.", size="2"),
    )


def _detail() -> rx.Component:
    """One delivery. At 390 px it takes the window's width: the tabs wrap and the payload wraps its lines."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.dialog.title(
                    rx.flex(
                        rx.cond(
                            S.detail["event"] == "—",
                            rx.text("Delivery without an event name"),
                            rx.code(S.detail["event"], style={"word_break": "break-all"}),
                        ),
                        _outcome_pill(S.detail["outcome"], "2"),
                        gap="2",
                        align="center",
                        wrap="wrap",
                    ),
                    margin="0",
                ),
                rx.dialog.description(
                    "Received ",
                    S.detail["time_full"],
                    " from ",
                    S.detail["source"],
                    size="2",
                    color=rx.color("gray", 11),
                ),
                rx.cond(S.detail["reason"] != "", rx.text(S.detail["reason"], size="2", id="detail-reason")),
                rx.tabs.root(
                    rx.tabs.list(
                        rx.tabs.trigger("Raw payload", value="payload"),
                        rx.tabs.trigger("Headers", value="h"),
                        rx.tabs.trigger("Mapped result", value="m"),
                        rx.tabs.trigger("Campaigns", value="c"),
                        style={"flex_wrap": "wrap"},
                    ),
                    rx.tabs.content(
                        code_block(S.detail["payload"], label="Raw payload", id="detail-payload"),
                        value="payload",
                        padding_top="3",
                    ),
                    rx.tabs.content(code_block(S.detail["headers"], label="Headers"), value="h", padding_top="3"),
                    rx.tabs.content(
                        code_block(S.detail["mapped"], label="Mapped result", id="detail-mapped"),
                        value="m",
                        padding_top="3",
                    ),
                    rx.tabs.content(_decisions(), value="c", padding_top="3"),
                    default_value="payload",
                    width="100%",
                ),
                rx.flex(
                    rx.dialog.close(rx.button("Close", variant="soft", on_click=S.close_detail)),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                min_width="0",
            ),
            max_width="760px",
            width="calc(100vw - 24px)",
            padding=rx.breakpoints(initial="16px", sm="24px"),
            id="event-detail",
            # Opened from state, not a Radix trigger: focus goes back to the row's button by hand.
            on_close_auto_focus=focus_element("event-open-" + S.detail["id"]),
        ),
        open=S.detail_open,
        on_open_change=lambda _: S.close_detail(),
    )


def event_log_page() -> rx.Component:
    return page_shell(
        "Event Log",
        rx.moment(interval=700, on_change=S.poll, display="none"),
        notice(S.error, "red", "triangle-alert", id="event-log-error"),
        rx.flex(
            rx.box(_filters(), flex="1 1 320px", min_width="0"),
            _live_toggle(),
            gap="3",
            wrap="wrap",
            align="center",
            justify="between",
            width="100%",
        ),
        rx.cond(
            S.rows.length() > 0,
            rx.vstack(_table(), _paging(), spacing="3", width="100%"),
            _empty(),
        ),
        _detail(),
    )
