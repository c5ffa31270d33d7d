"""Dashboard: the first page after sign-in; the setup checklist until everything is done."""

import reflex as rx

from humanic_app import routes
from humanic_app.components.shell import page_shell
from humanic_app.state.dashboard import DashboardState


def _checklist_item(item) -> rx.Component:
    return rx.hstack(
        rx.cond(
            item.done == "yes",
            rx.icon("circle-check", color=rx.color("green", 9)),
            rx.icon("circle", color=rx.color("gray", 8)),
        ),
        rx.vstack(
            rx.link(item.label, href=item.href, weight="medium"),
            rx.cond(item.done == "yes", rx.fragment(), rx.text(item.hint, size="1", color_scheme="gray")),
            spacing="0",
        ),
        align="start",
        spacing="2",
        class_name="checklist-item",
        data_done=item.done,
    )


def _finding(f) -> rx.Component:
    return rx.callout(
        rx.vstack(
            rx.text(rx.text.strong(f.case, ": "), f.problem),
            rx.text(rx.text.strong("Fix: "), f.fix, " ", rx.link("Go there", href=f.href)),
            spacing="1",
        ),
        icon="triangle-alert",
        color_scheme="amber",
        width="100%",
        class_name="finding",
    )


def _axes() -> list[rx.Component]:
    return [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="t"),
        rx.recharts.y_axis(allow_decimals=False, width=40),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
    ]


def _bars(key: str, title: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="2", as_="h3"),
            rx.recharts.bar_chart(
                *_axes(),
                rx.foreach(
                    DashboardState.chart_series[key],
                    lambda s: rx.recharts.bar(data_key=s.name, stack_id="a", fill=s.color, is_animation_active=False),
                ),
                data=DashboardState.chart_rows[key],
                height=220,
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id=f"chart-{key}",
        class_name="chart",
    )


def _lines(key: str, title: str, *extra: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="2", as_="h3"),
            rx.recharts.line_chart(
                *_axes(),
                rx.foreach(
                    DashboardState.chart_series[key],
                    lambda s: rx.recharts.line(
                        data_key=s.name, stroke=s.color, type_="monotone", is_animation_active=False
                    ),
                ),
                *extra,
                data=DashboardState.chart_rows[key],
                height=220,
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id=f"chart-{key}",
        class_name="chart",
    )


def _health() -> rx.Component:
    h = DashboardState.health

    def stat(label: str, value, note=None) -> rx.Component:
        return rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.text(value, size="4", weight="bold"),
            rx.text(note, size="1", color_scheme="gray") if note is not None else rx.fragment(),
            spacing="0",
        )

    return rx.card(
        rx.vstack(
            rx.heading("Pipeline health", size="4", as_="h2"),
            rx.hstack(
                stat("Webhook answers", h["answers"]),
                stat("p50 answer time", h["p50"]),
                stat("p99 answer time", h["p99"], "PostHog gives up after 3 s"),
                stat("Non-2xx answers", h["non_2xx"]),
                stat("Processing backlog", h["processing_backlog"], rx.text.span("oldest ", h["processing_oldest"])),
                stat("Dispatch backlog", h["dispatch_backlog"], rx.text.span("oldest ", h["dispatch_oldest"])),
                stat("Dispatcher errors", h["dispatcher_errors"], rx.text.span(h["render_errors"], " render errors")),
                spacing="6",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="pipeline-health",
    )


def _funnel() -> rx.Component:
    columns = ["Campaign", "Status", "Enrolled", "Sent", "Delivered", "Opened", "Clicked", "Reached goal", "Next 24 h"]
    return rx.card(
        rx.vstack(
            rx.heading("Campaigns", size="4", as_="h2"),
            rx.cond(
                DashboardState.funnel.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(c) for c in columns])),
                    rx.table.body(
                        rx.foreach(
                            DashboardState.funnel,
                            lambda r: rx.table.row(
                                rx.table.cell(rx.link(r.name, href=routes.CAMPAIGNS)),
                                rx.table.cell(r.status),
                                *[
                                    rx.table.cell(r[k])
                                    for k in ("enrolled", "sent", "delivered", "opened", "clicked", "goal", "next_24h")
                                ],
                                class_name="funnel-row",
                            ),
                        )
                    ),
                    width="100%",
                    size="1",
                ),
                rx.text("No campaigns yet.", size="2", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="campaign-funnel",
    )


def _activity() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Activity", size="4", as_="h2"),
            rx.spacer(),
            rx.segmented_control.root(
                rx.segmented_control.item("24 h", value="24h"),
                rx.segmented_control.item("7 days", value="7d"),
                rx.segmented_control.item("30 days", value="30d"),
                value=DashboardState.range_key,
                on_change=DashboardState.set_range,
                id="range",
            ),
            width="100%",
            align="center",
        ),
        rx.grid(
            _bars("events_by_source", "Events received, by source"),
            _bars("events_by_name", "Events received, by event name"),
            _bars("rejected", "Rejected deliveries, by reason"),
            _bars("contacts", "Contacts created"),
            _bars("emails", "Emails scheduled, sent, failed, suppressed"),
            _bars("engagement", "Unsubscribes, bounces, complaints"),
            _lines(
                "rates",
                "Bounce and complaint rates vs Gmail's limits",
                rx.recharts.reference_line(y="0.1", stroke="#f76b15", stroke_dasharray="4 4", label="0.1% target"),
                rx.recharts.reference_line(y="0.3", stroke="#e5484d", label="0.3% never"),
            ),
            _lines("webhook", "Webhook answer time (ms) and non-2xx answers"),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def dashboard_page() -> rx.Component:
    return page_shell(
        "Dashboard",
        rx.cond(
            DashboardState.findings.length() > 0,
            rx.vstack(
                rx.heading("Troubleshooting", size="4", as_="h2"),
                rx.foreach(DashboardState.findings, _finding),
                spacing="2",
                width="100%",
                id="findings",
            ),
        ),
        rx.cond(
            DashboardState.remaining > 0,
            rx.card(
                rx.vstack(
                    rx.heading("Setup checklist", size="4", as_="h2"),
                    rx.text(
                        DashboardState.remaining,
                        " steps left before product events turn into emails.",
                        size="2",
                        id="checklist-remaining",
                    ),
                    rx.foreach(DashboardState.items, _checklist_item),
                    spacing="3",
                ),
                width="100%",
                id="setup-checklist",
            ),
            rx.cond(
                DashboardState.findings.length() == 0,  # "live" would be wrong while a finding stands
                rx.callout(
                    "Setup complete: events are flowing in and campaigns are live. Watch them in the "
                    "Event Log and Messages.",
                    icon="circle-check",
                    color_scheme="green",
                    width="100%",
                ),
            ),
        ),
        _health(),
        _funnel(),
        _activity(),
    )
