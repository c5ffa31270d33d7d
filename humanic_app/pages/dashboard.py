"""Dashboard: the first page after sign-in; the setup checklist until everything is done."""

import reflex as rx

from humanic_app import routes
from humanic_app.components.shell import page_shell
from humanic_app.components.table import data_table
from humanic_app.state.dashboard import DashboardState


def _checklist_item(item) -> rx.Component:
    return rx.hstack(
        rx.cond(
            item.done == "yes",
            rx.icon("circle-check", color=rx.color("green", 9), flex_shrink="0"),
            rx.icon("circle", color=rx.color("gray", 8), flex_shrink="0"),
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
            rx.text(
                rx.text.strong("Fix: "),
                f.fix,
                " ",
                rx.link("Go there", href=f.href, underline="always", high_contrast=True),
            ),
            spacing="1",
        ),
        icon="triangle-alert",
        color_scheme="amber",
        high_contrast=True,  # amber text on amber falls under 4.5:1
        width="100%",
        class_name="finding",
    )


def _axes(y_axis: rx.Component | None = None) -> list[rx.Component]:
    return [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="t", min_tick_gap=16),
        y_axis if y_axis is not None else rx.recharts.y_axis(allow_decimals=False, width=40),
        rx.recharts.graphing_tooltip(),
    ]


def _legend(key: str) -> rx.Component:
    """The series' names under the chart, in HTML: they wrap onto more lines on a phone instead of being cut."""
    return rx.flex(
        rx.foreach(
            DashboardState.chart_series[key],
            lambda s: rx.hstack(
                rx.box(width="10px", height="10px", border_radius="2px", background=s.color, flex_shrink="0"),
                rx.text(s.name, size="1", class_name="wrap-anywhere"),
                spacing="1",
                align="center",
                min_width="0",
            ),
        ),
        wrap="wrap",
        spacing="3",
        width="100%",
        class_name="chart-legend",
    )


def _chart_card(key: str, title: str, fills_it: str, chart: rx.Component) -> rx.Component:
    """A chart, or, while it has nothing to draw, what will fill it: bare axes look broken."""
    return rx.card(
        rx.vstack(
            rx.heading(title, size="2", as_="h3"),
            rx.cond(
                DashboardState.chart_empty[key],
                rx.center(
                    rx.vstack(
                        rx.text("No data yet", size="2", weight="medium"),
                        rx.text(fills_it, size="1", color=rx.color("gray", 11), text_align="center"),
                        align="center",
                        spacing="1",
                        max_width="320px",
                    ),
                    height="160px",
                    width="100%",
                    border=f"1px dashed {rx.color('gray', 6)}",
                    border_radius="6px",
                    class_name="chart-empty",
                ),
                rx.vstack(chart, _legend(key), spacing="2", width="100%"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        min_width="0",
        id=f"chart-{key}",
        class_name="chart",
    )


def _bars(key: str, title: str, fills_it: str) -> rx.Component:
    return _chart_card(
        key,
        title,
        fills_it,
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
    )


def _lines(key: str, title: str, fills_it: str, *extra: rx.Component, y_axis: rx.Component | None = None):
    return _chart_card(
        key,
        title,
        fills_it,
        rx.recharts.line_chart(
            *_axes(y_axis),
            rx.foreach(
                DashboardState.chart_series[key],
                lambda s: rx.recharts.line(
                    data_key=s.name, stroke=s.color, type_="monotone", dot=False, is_animation_active=False
                ),
            ),
            *extra,
            data=DashboardState.chart_rows[key],
            height=220,
            width="100%",
        ),
    )


def _gmail_line(percent: str, words: str, color: str, position: str) -> rx.Component:
    """One of Gmail's limits. The two labels sit at opposite ends of their lines, so however close the lines
    come on a tall axis, the labels never overlap."""
    return rx.recharts.reference_line(
        rx.recharts.label(value=words, position=position, custom_attrs={"fill": color, "fontSize": 12}),
        y=str(percent),
        stroke=color,
        stroke_dasharray="4 4",
        if_overflow="extendDomain",
        class_name="gmail-limit",
    )


def _rates_chart() -> rx.Component:
    return _lines(
        "rates",
        "Bounce and complaint rates vs Gmail's limits",
        "Rates appear once emails are sent: bounces and complaints per email sent, against Gmail's 0.1 % and "
        "0.3 % lines.",
        _gmail_line("0.1", "0.1% target", "#d9650f", "insideBottomLeft"),  # "insideBottom…": just above the line
        _gmail_line("0.3", "0.3% never", "#e5484d", "insideBottomRight"),
        y_axis=rx.recharts.y_axis(
            domain=[0, DashboardState.rates_top],
            allow_data_overflow=False,
            tick_formatter="(value) => `${value}%`",
            width=52,  # room for "100%"
        ),
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
                stat("Rows pruned", h["pruned"], rx.text.span("last run ", h["pruned_last_run"])),
                stat(
                    "Written to PostHog",
                    h["posthog_written"],
                    rx.text.span(h["posthog_backlog"], " waiting, ", h["posthog_failed"], " failed calls"),
                ),
                spacing="6",
                wrap="wrap",
            ),
            _health_notice(h["pacing"], "local-pacing"),
            _health_notice(h["partitions"], "serial-processing"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="pipeline-health",
    )


def _health_notice(text: rx.Var, element_id: str) -> rx.Component:
    """A warning that shows only while `text` says something (empty, or absent before the first load)."""
    return rx.cond(
        text,
        rx.callout(
            text,
            icon="triangle-alert",
            color_scheme="amber",
            high_contrast=True,  # amber text on amber falls under 4.5:1
            width="100%",
            id=element_id,
            role="status",  # it appears with a refresh: read out without moving the focus
        ),
        rx.fragment(),
    )


def _funnel() -> rx.Component:
    columns = ["Campaign", "Status", "Enrolled", "Sent", "Delivered", "Opened", "Clicked", "Reached goal", "Next 24 h"]
    return rx.card(
        rx.vstack(
            rx.heading("Campaigns", size="4", as_="h2"),
            rx.cond(
                DashboardState.funnel.length() > 0,
                data_table(
                    columns,
                    rx.foreach(
                        DashboardState.funnel,
                        lambda r: rx.table.row(
                            rx.table.cell(rx.link(r.name, href=routes.CAMPAIGNS), max_width="240px"),
                            rx.table.cell(r.status),
                            *[
                                rx.table.cell(r[k])
                                for k in ("enrolled", "sent", "delivered", "opened", "clicked", "goal", "next_24h")
                            ],
                            class_name="funnel-row",
                        ),
                    ),
                    label="Campaign funnel",
                    min_width="720px",
                ),
                rx.text("No campaigns yet.", size="2", color=rx.color("gray", 11)),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="campaign-funnel",
    )


def _activity() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.heading("Activity", size="4", as_="h2"),
            rx.segmented_control.root(
                rx.segmented_control.item("24 h", value="24h"),
                rx.segmented_control.item("7 days", value="7d"),
                rx.segmented_control.item("30 days", value="30d"),
                value=DashboardState.range_key,
                on_change=DashboardState.set_range,
                id="range",
                aria_label="Period",
            ),
            justify="between",
            align="center",
            wrap="wrap",
            spacing="2",
            width="100%",
        ),
        rx.grid(
            _bars(
                "events_by_source",
                "Events received, by source",
                "Each source's events, once PostHog delivers to its webhook URL (Integrations).",
            ),
            _bars(
                "events_by_name",
                "Events received, by event name",
                "The event names PostHog sends, e.g. user_signed_up or checkout_started.",
            ),
            _bars(
                "rejected",
                "Rejected deliveries, by reason",
                "Deliveries Humanic refuses (old URL, wrong signature or header, unreadable body) by reason. "
                "Empty is good.",
            ),
            _bars("contacts", "Contacts created", "Contacts are created from events that carry an email."),
            _bars(
                "emails",
                "Emails scheduled, sent, failed, suppressed",
                "Emails appear once an active campaign's trigger event arrives.",
            ),
            _bars(
                "engagement",
                "Unsubscribes, bounces, complaints",
                "Unsubscribes, bounces and spam complaints on the emails sent.",
            ),
            _rates_chart(),
            _lines(
                "webhook",
                "Webhook answer time (ms) and non-2xx answers",
                "How fast Humanic answers PostHog's deliveries, and any errors, once events arrive.",
            ),
            columns=rx.breakpoints(initial="minmax(0, 1fr)", md="repeat(2, minmax(0, 1fr))"),
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
            DashboardState.setup_complete,
            rx.callout(
                "Setup complete: events are flowing in and campaigns are live. Watch them in the "
                "Event Log and Messages.",
                icon="circle-check",
                color_scheme="green",
                width="100%",
                id="setup-complete",
            ),
            rx.card(
                rx.vstack(
                    rx.heading("Setup checklist", size="4", as_="h2"),
                    rx.text(
                        rx.cond(
                            DashboardState.remaining > 0,
                            rx.text.span(
                                DashboardState.remaining, " steps left before product events turn into emails."
                            ),
                            "Every step is done; fix what Troubleshooting lists above to finish.",
                        ),
                        size="2",
                        id="checklist-remaining",
                    ),
                    rx.foreach(DashboardState.items, _checklist_item),
                    spacing="3",
                ),
                width="100%",
                id="setup-checklist",
            ),
        ),
        _health(),
        _funnel(),
        _activity(),
    )
