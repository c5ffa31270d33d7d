"""Event Log: every delivery with its outcome, live."""

import reflex as rx

from humanic_app.components.shell import page_shell
from humanic_app.components.ui import code_block, notice
from humanic_app.state.event_log import OUTCOMES, EventLogState as S

OUTCOME_COLORS = {"processed": "green", "pending": "gray", "duplicate": "blue", "skipped": "amber", "rejected": "red"}


def _filters() -> rx.Component:
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(placeholder="Source"),
            rx.select.content(
                rx.select.item("All sources", value="all"),
                rx.foreach(S.source_options, lambda s: rx.select.item(s.name, value=s.id)),
            ),
            value=S.filter_source,
            on_change=S.set_source_filter,
        ),
        rx.select(OUTCOMES, value=S.filter_outcome, on_change=S.set_outcome_filter, id="outcome-filter"),
        rx.form(
            rx.hstack(
                rx.input(name="event", placeholder="Event name", default_value=S.filter_event, key=S.filter_event),
                rx.input(
                    name="contact",
                    placeholder="Contact: email, distinct_id or id",
                    default_value=S.filter_contact,
                    key=S.filter_contact,
                    width="240px",
                    id="contact-filter",
                ),
                rx.button("Filter", type="submit", variant="soft"),
                spacing="2",
            ),
            on_submit=S.apply_filters,
            reset_on_submit=False,
        ),
        rx.spacer(),
        rx.hstack(
            rx.switch(checked=S.live, on_change=S.toggle_live, id="live-switch"),
            rx.text("Live", size="2"),
            align="center",
            spacing="1",
        ),
        spacing="2",
        wrap="wrap",
        width="100%",
        align="center",
    )


def _table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                *[rx.table.column_header_cell(h) for h in ("Time (UTC)", "Source", "Event", "Contact", "Outcome")]
            )
        ),
        rx.table.body(
            rx.foreach(
                S.rows,
                lambda r: rx.table.row(
                    rx.table.cell(r.time),
                    rx.table.cell(r.source),
                    rx.table.cell(rx.code(r.event)),
                    rx.table.cell(r.contact),
                    rx.table.cell(
                        rx.badge(r.outcome_label, color_scheme=rx.match(r.outcome, *OUTCOME_COLORS.items(), "gray"))
                    ),
                    on_click=S.open_detail(r.id),
                    style={"cursor": "pointer"},
                    class_name="event-row",
                ),
            )
        ),
        width="100%",
        size="1",
        id="event-log-table",
    )


def _detail() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.hstack(rx.code(S.detail["event"]), rx.text(S.detail["outcome_label"], size="2"))),
            rx.text("Received ", S.detail["time"], " UTC from ", S.detail["source"], size="2"),
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger("Raw payload", value="payload"),
                    rx.tabs.trigger("Headers", value="h"),
                    rx.tabs.trigger("Mapped result", value="m"),
                    rx.tabs.trigger("Campaigns", value="c"),
                ),
                rx.tabs.content(code_block(S.detail["payload"], id="detail-payload"), value="payload"),
                rx.tabs.content(code_block(S.detail["headers"]), value="h"),
                rx.tabs.content(code_block(S.detail["mapped"], id="detail-mapped"), value="m"),
                rx.tabs.content(
                    rx.cond(
                        S.decisions.length() > 0,
                        rx.table.root(
                            rx.table.body(
                                rx.foreach(
                                    S.decisions,
                                    lambda d: rx.table.row(
                                        rx.table.cell(d.campaign),
                                        rx.table.cell(
                                            rx.badge(d.fired, color_scheme=rx.cond(d.fired == "fired", "green", "gray"))
                                        ),
                                        rx.table.cell(d.reason),
                                    ),
                                )
                            ),
                            size="1",
                            id="detail-decisions",
                        ),
                        rx.text("No active campaign looked at this event.", size="2"),
                    ),
                    value="c",
                ),
                default_value="payload",
            ),
            rx.dialog.close(rx.button("Close", variant="soft", on_click=S.close_detail)),
            max_width="760px",
        ),
        open=S.detail_open,
        on_open_change=lambda _: S.close_detail(),
    )


def event_log_page() -> rx.Component:
    return page_shell(
        "Event Log",
        rx.moment(interval=700, on_change=S.poll, display="none"),
        notice(S.error, "red", "triangle-alert", id="event-log-error"),
        _filters(),
        rx.cond(
            S.rows.length() > 0,
            _table(),
            rx.callout(
                "No events match. Every delivery PostHog sends appears here live, with its outcome. "
                "Connect PostHog under Integrations to see the first one.",
                icon="inbox",
                width="100%",
            ),
        ),
        rx.hstack(
            rx.button("Newest", variant="soft", on_click=S.newest),
            rx.cond(S.older_cursor != 0, rx.button("Older", variant="soft", on_click=S.older)),
            spacing="2",
        ),
        _detail(),
    )
