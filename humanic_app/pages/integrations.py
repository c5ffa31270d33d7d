"""Integrations → PostHog: the six steps of the product page, for real."""

import reflex as rx

from humanic_app import routes
from humanic_app.components.feedback import confirm_action, field_error, field_invalid_props, long_text, toast
from humanic_app.components.pill import SOURCE_COLORS, pill, status_pill
from humanic_app.components.shell import page_shell
from humanic_app.components.table import data_table
from humanic_app.components.ui import code_block, copy_text, step
from humanic_app.models import limits
from humanic_app.services.samples import HIGH_SIGNAL_EVENTS
from humanic_app.state.integrations import IntegrationsState as S


def _connect_form() -> rx.Component:
    """Creates a source. Once one exists it says "Add another source", so it is not mistaken for renaming."""
    return rx.form(
        rx.vstack(
            rx.el.label(
                rx.text(
                    rx.cond(S.sources.length() > 0, "Add another source", "Name your first source"),
                    size="2",
                    weight="medium",
                ),
                html_for="source-name",
            ),
            rx.hstack(
                rx.input(
                    name="name",
                    placeholder="Source name, e.g. Production or Staging",
                    max_length=limits.NAME,
                    default_value=rx.cond(S.sources.length() > 0, "", "Production"),
                    key=S.connected.to_string(),  # a fresh, empty field after each Connect; never on load
                    width="280px",
                    max_width="100%",
                    **field_invalid_props(S.connect_error, field_id="source-name"),
                ),
                rx.button("Connect", type="submit", id="connect-button"),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            field_error(S.connect_error, field_id="source-name"),
            spacing="1",
        ),
        on_submit=S.connect,
        reset_on_submit=False,
    )


def _this_source() -> rx.Component:
    """Rename or delete the source shown below."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.el.label(rx.text("Name of this source", size="2", weight="medium"), html_for="rename-source"),
                rx.hstack(
                    rx.input(
                        name="name",
                        default_value=S.sel_name,
                        key=S.sel_name,
                        max_length=limits.NAME,
                        width="280px",
                        max_width="100%",
                        **field_invalid_props(S.rename_error, field_id="rename-source"),
                    ),
                    rx.button("Rename", type="submit", variant="soft", size="2"),
                    confirm_action(
                        "Delete source",
                        title="Delete the source " + S.sel_name + "?",
                        consequence="Its webhook URL stops working at once: PostHog's deliveries to it are "
                        "answered 404, so remove or repoint that destination. The events it "
                        "delivered stay in the Event Log.",
                        confirm_label="Delete source",
                        on_confirm=S.delete_source,
                        trigger_props={"size": "2", "type": "button"},
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                field_error(S.rename_error, field_id="rename-source"),
                spacing="1",
            ),
            on_submit=S.rename_source,
            reset_on_submit=False,
        ),
        width="100%",
    )


def _source_picker() -> rx.Component:
    return rx.cond(
        S.sources.length() > 1,
        rx.hstack(
            rx.text("Source:", size="2"),
            rx.foreach(
                S.sources,
                lambda s: rx.button(
                    long_text(s.name),
                    size="1",
                    max_width="240px",
                    title=s.name,
                    variant=rx.cond(s.id == S.selected_id.to_string(), "solid", "outline"),
                    aria_pressed=rx.cond(s.id == S.selected_id.to_string(), "true", "false"),
                    on_click=S.select_source(s.id),
                ),
            ),
            spacing="2",
            wrap="wrap",
            align="center",
        ),
    )


def _private_url_warning() -> rx.Component:
    return rx.cond(
        S.base_url_is_private,
        rx.callout(
            rx.vstack(
                rx.text(
                    rx.text.strong("PostHog Cloud cannot reach this address. "),
                    "Your webhook URL starts with ",
                    rx.code(S.base_url, high_contrast=True, class_name="wrap-anywhere"),
                    ", a localhost or private address. Deploy Humanic where the internet can reach it and set its "
                    "public URL in Settings (or HUMANIC_PUBLIC_URL), or expose this machine through a tunnel "
                    "(e.g. cloudflared or ngrok) and put the tunnel's https address in Settings.",
                ),
                rx.text(
                    rx.link(
                        "No public URL? Pull events from PostHog instead",
                        href=routes.SETTINGS + "#posthog-pull",
                        id="pull-instead",
                        underline="always",  # inside a callout's text: told apart by more than its colour
                    ),
                    ": Humanic polls PostHog for the events your campaigns use.",
                ),
                rx.text("Meanwhile, try the whole flow without PostHog:"),
                rx.button(
                    rx.cond(S.sending_samples, "Sending…", "Send a sample event"),
                    on_click=S.send_sample,
                    disabled=S.sending_samples,
                    id="send-sample",
                    variant="soft",
                    high_contrast=True,
                ),
                spacing="2",
            ),
            icon="triangle-alert",
            color_scheme="amber",
            high_contrast=True,  # amber text on amber falls under 4.5:1
            width="100%",
            id="private-url-warning",
        ),
    )


def _step1() -> rx.Component:
    return step(
        1,
        "Get your webhook URL from Humanic",
        rx.text("Paste this URL into PostHog in the next step.", size="2"),
        rx.hstack(
            rx.code(S.sel_url, id="webhook-url", size="2", style={"word_break": "break-all"}),
            rx.button(
                rx.icon("copy", size=14),
                "Copy",
                size="1",
                on_click=[copy_text(S.sel_url), S.note_copied],
                id="copy-webhook-url",
            ),
            confirm_action(
                "Regenerate URL",
                title="Regenerate the webhook URL?",
                consequence="The current URL stops working at once. You will need to paste the new one into PostHog.",
                confirm_label="Regenerate",
                on_confirm=S.regenerate,
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
    )


def _step2() -> rx.Component:
    return step(
        2,
        "Create a webhook destination in PostHog",
        rx.el.ol(
            rx.el.li("Open your PostHog project."),
            rx.el.li("In the left sidebar, click ", rx.text.strong("Data pipelines"), "."),
            rx.el.li("Click ", rx.text.strong("+ New → Destination"), " in the top-right corner."),
            rx.el.li("Search for ", rx.text.strong("Webhook"), " and click ", rx.text.strong("+ Create"), "."),
            rx.el.li("In the ", rx.text.strong("Webhook URL"), " field, paste the URL from step 1."),
            rx.el.li("Click ", rx.text.strong("Create & Enable"), "."),
            class_name="numbered-steps",
        ),
        rx.text(
            "PostHog disables a destination that keeps getting 5xx answers or slow responses. Humanic "
            "answers in milliseconds and never 5xx for bad input.",
            size="1",
            color_scheme="gray",
        ),
    )


def _step3() -> rx.Component:
    return step(
        3,
        "Choose which events to send",
        rx.text(
            "In the destination's Filters, send only the events that trigger campaigns: filter by event "
            "name (recommended), event properties (e.g. checkout_started where cart_value > 50) or "
            "person properties (e.g. plan = free). Start with 3–5 high-intent events.",
            size="2",
        ),
        data_table(
            ["Event", "What it means", "Campaign to trigger"],
            rx.fragment(
                *[
                    rx.table.row(rx.table.cell(rx.code(e)), rx.table.cell(m), rx.table.cell(c))
                    for e, m, c in HIGH_SIGNAL_EVENTS
                ]
            ),
            label="High-intent events to send",
            min_width="560px",
        ),
    )


# Label | paths | value from the latest event, side by side from 768 px; stacked on a phone.
_MAPPING_COLUMNS = rx.breakpoints(initial="minmax(0, 1fr)", sm="180px minmax(0, 1fr) minmax(0, 1fr)")


def _mapped_value(r) -> rx.Component:
    """The field's value in the latest event, wrapped (never cut); a plain note, not an empty pill, before one.
    On a phone, where the column headings are gone, it says what it is on its own line's start."""
    return rx.flex(
        rx.text(
            "Latest event:", size="1", color=rx.color("gray", 11), padding_top="4px", display=rx.breakpoints(sm="none")
        ),
        rx.box(
            rx.cond(
                r.value != "",
                rx.text(r.value, size="1", class_name="mapped-value-text"),
                rx.text("No event yet", size="1", color=rx.color("gray", 11), padding_top="4px"),
            ),
            class_name="mapped-value-" + r.field,
            min_width="0",
            flex="1",
        ),
        spacing="2",
        min_width="0",
    )


def _mapping_row(r) -> rx.Component:
    """One mapped field. Its dot-paths box grows with what it holds, so long paths wrap instead of being cut."""
    return rx.grid(
        rx.el.label(r.label, html_for="map-" + r.field, class_name="mapping-label"),
        rx.box(
            rx.text_area(
                name="map_" + r.field,
                default_value=r.paths,
                key=r.paths,
                size="1",
                rows="1",
                width="100%",
                max_length=limits.MAPPING_TEXT,
                on_blur=lambda text: S.preview_draft(r.field, text),
                class_name="mapping-paths",
                **field_invalid_props(S.mapping_errors.get(r.field, ""), field_id="map-" + r.field),
            ),
            field_error(S.mapping_errors.get(r.field, ""), field_id="map-" + r.field),
            min_width="0",
        ),
        _mapped_value(r),
        columns=_MAPPING_COLUMNS,
        spacing="2",
        align="start",
        width="100%",
        class_name="mapping-row",
    )


def _mapping_editor() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.grid(
                rx.text("Humanic field", size="1", weight="medium", color=rx.color("gray", 11)),
                rx.text(
                    "PostHog field (dot-paths, tried in order)", size="1", weight="medium", color=rx.color("gray", 11)
                ),
                rx.text("From the latest event", size="1", weight="medium", color=rx.color("gray", 11)),
                columns=_MAPPING_COLUMNS,
                spacing="2",
                width="100%",
                display=rx.breakpoints(initial="none", sm="grid"),
                aria_hidden="true",  # each row's own label names its box; these only head the columns
            ),
            rx.vstack(rx.foreach(S.mapping_rows, _mapping_row), spacing="3", width="100%", id="mapping-rows"),
            rx.text(
                "Every event and person property is a campaign variable ({{ plan }}, {{ cart_value }} …). "
                "Add named variables from any path, one per line as name = path:",
                size="2",
            ),
            rx.text_area(
                name="variables",
                default_value=S.variables_text,
                key=S.variables_text,
                placeholder="company = person.properties.company",
                width="100%",
                max_length=limits.MAPPING_TEXT,
                aria_label="Named variables",
                on_blur=lambda text: S.preview_draft("variables", text),
                **field_invalid_props(S.mapping_errors.get("variables", ""), field_id="mapping-variables"),
            ),
            field_error(S.mapping_errors.get("variables", ""), field_id="mapping-variables"),
            rx.button("Save mapping", type="submit", variant="soft", size="2"),
            spacing="2",
            width="100%",
        ),
        on_submit=S.save_mapping,
        reset_on_submit=False,
        width="100%",
    )


def _preview() -> rx.Component:
    return rx.cond(
        S.has_test_event,
        rx.vstack(
            rx.heading("Preview on the latest event", size="3", as_="h3"),
            rx.cond(
                S.preview_is_draft,
                rx.text(
                    "This preview uses your unsaved changes: Save mapping to apply them to new events.",
                    size="2",
                    color_scheme="amber",
                    id="preview-is-draft",
                ),
            ),
            rx.foreach(
                S.mapping_warnings,
                lambda w: rx.callout(
                    w,
                    icon="triangle-alert",
                    color_scheme="amber",
                    size="1",
                    high_contrast=True,
                    class_name="mapping-warning",
                ),
            ),
            rx.hstack(
                rx.text("Contact:", weight="medium", size="2"),
                rx.text(S.preview_contact["email"], size="2", id="preview-email"),
                rx.text(S.preview_contact["name"], size="2", color_scheme="gray"),
                pill(S.preview_contact["match"], variant="soft", id="preview-match"),
                spacing="2",
            ),
            rx.text("Variables", weight="medium", size="2"),
            code_block(S.preview_variables, label="Template variables", id="preview-variables"),
            spacing="2",
            width="100%",
        ),
    )


def _step4() -> rx.Component:
    return step(
        4,
        "Verify field mapping in Humanic",
        rx.text(
            rx.text.strong("Email is the most critical field: "),
            "without it and without an existing contact for the distinct_id, Humanic cannot send. "
            "Make sure your PostHog $identify calls include email as a person property.",
            size="2",
        ),
        _mapping_editor(),
        _preview(),
    )


def _step5() -> rx.Component:
    return step(
        5,
        "Test the connection",
        rx.text(
            "In PostHog, open the destination and click Start testing (or trigger the event in your "
            "product). The event appears here the moment it arrives.",
            size="2",
        ),
        rx.box(  # always there, so a screen reader hears the change from waiting to the event
            rx.cond(
                S.has_test_event,
                rx.callout(
                    rx.vstack(
                        rx.text(
                            rx.text.strong("Test event received: "),
                            rx.code(S.latest_event["event"], high_contrast=True),
                            " from ",
                            rx.code(S.latest_event["distinct_id"], high_contrast=True),
                            " at ",
                            S.latest_event["received"],
                            id="received-event",
                        ),
                        rx.link("Open it in the Event Log", href=routes.EVENT_LOG),
                        spacing="1",
                    ),
                    icon="circle-check",
                    color_scheme="green",
                    width="100%",
                ),
                rx.hstack(
                    rx.spinner(size="2"),
                    rx.text("Waiting for a test event…", id="waiting-for-event"),
                    align="center",
                    spacing="2",
                ),
            ),
            role="status",
            aria_live="polite",
            id="test-event-status",
            width="100%",
        ),
        rx.cond(
            ~S.has_test_event & (S.waiting_help.length() > 0),
            rx.callout(
                rx.vstack(
                    rx.text(
                        rx.text.strong("Nothing yet after 30 seconds. "),
                        "Check that the destination is Enabled in PostHog and that its Webhook URL is "
                        "exactly the one above; confirm the event fires in PostHog's Live Events. "
                        "What Humanic sees:",
                    ),
                    rx.foreach(
                        S.waiting_help,
                        lambda h: rx.text("• ", h.problem, " ", rx.text.strong("Fix: "), h.fix, size="2"),
                    ),
                    spacing="1",
                ),
                icon="life-buoy",
                color_scheme="amber",
                high_contrast=True,  # amber text on amber falls under 4.5:1
                width="100%",
                id="waiting-help",
            ),
        ),
        rx.cond(
            S.has_test_event,
            rx.el.details(rx.el.summary("Raw payload"), code_block(S.latest_payload, label="Raw payload")),
        ),
    )


def _switch() -> rx.Component:
    """Activate or Pause: in step 6 while setting up, in the summary once the source is live."""
    return rx.cond(
        S.sel_status == "active",
        rx.button("Pause", on_click=S.set_active(False), variant="soft", color_scheme="orange", id="pause-source"),
        rx.button("Activate", on_click=S.set_active(True), color_scheme="green", id="activate-source"),
    )


def _step6() -> rx.Component:
    return step(
        6,
        "Activate",
        rx.text(
            "Once the test event shows the right contact and variables, activate. Then confirm the "
            "destination shows Enabled in PostHog.",
            size="2",
        ),
        rx.cond(
            S.is_live,
            rx.text("Done: pause or resume this source in its summary above.", size="2"),
            rx.hstack(_switch(), status_pill(S.status_label, SOURCE_COLORS, size="2"), spacing="3", align="center"),
        ),
        rx.cond(
            S.sel_status == "waiting_for_test_event",
            rx.text(
                "No test event has arrived yet: activating now skips the check of step 5, so a "
                "wrong URL or mapping would only show once real events fail to fire.",
                size="2",
                color_scheme="amber",
                id="activate-untested",
            ),
        ),
    )


def _security() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Security (optional)", size="4", as_="h2"),
                rx.hstack(
                    rx.checkbox(
                        name="signing",
                        default_checked=S.sel_signing,
                        key=S.sel_signing.to_string(),
                        id="require-signature",
                    ),
                    rx.el.label(
                        rx.text(
                            "Require a signature (Standard Webhooks: webhook-id, webhook-timestamp, "
                            "webhook-signature; 5-minute tolerance)",
                            size="2",
                        ),
                        html_for="require-signature",
                    ),
                    spacing="2",
                    align="start",
                ),
                rx.cond(
                    S.new_signing_secret != "",
                    rx.callout(
                        rx.vstack(
                            rx.text(
                                "Paste this into the PostHog destination's Signing secret field. It is shown only now:"
                            ),
                            rx.code(
                                S.new_signing_secret,
                                id="signing-secret",
                                high_contrast=True,
                                class_name="wrap-anywhere",
                            ),
                        ),
                        icon="key-round",
                        color_scheme="green",
                        width="100%",
                    ),
                ),
                rx.cond(
                    S.sel_signing & (S.new_signing_secret == ""),
                    rx.text(
                        "Signing is on. Its secret was shown once, when it was turned on; for a new one, "
                        "turn signing off and save, then on and save.",
                        size="2",
                        id="signing-on",
                    ),
                ),
                rx.text("Or require a header, added under the destination's Headers in PostHog:", size="2"),
                rx.flex(
                    rx.vstack(
                        rx.el.label(rx.text("Header name", size="1", weight="medium"), html_for="header-name"),
                        rx.input(
                            name="header_name",
                            placeholder="e.g. X-Humanic-Key",
                            default_value=S.sel_header_name,
                            key=S.sel_header_name,
                            id="header-name",
                            width="100%",
                        ),
                        spacing="1",
                        flex="1 1 220px",
                    ),
                    rx.vstack(
                        rx.el.label(rx.text("Header value", size="1", weight="medium"), html_for="header-value"),
                        rx.input(
                            name="header_value",
                            type="password",
                            id="header-value",
                            width="100%",
                            placeholder=rx.cond(
                                S.sel_header_name != "", "Leave blank to keep the current value", "Secret value"
                            ),
                        ),
                        spacing="1",
                        flex="1 1 220px",
                    ),
                    spacing="2",
                    wrap="wrap",
                    width="100%",
                ),
                rx.cond(
                    S.sel_header_name != "",
                    rx.callout(
                        rx.text(
                            "In PostHog, open this destination → Headers → add a header named ",
                            rx.code(S.sel_header_name, high_contrast=True),
                            " whose value is the secret you saved here "
                            "(never shown again). Deliveries without it are answered 401.",
                        ),
                        icon="key-round",
                        color_scheme="blue",
                        width="100%",
                        id="header-instructions",
                    ),
                ),
                rx.button("Save security settings", type="submit", variant="soft", size="2"),
                spacing="2",
                width="100%",
            ),
            on_submit=S.save_security,
            reset_on_submit=False,
        ),
        width="100%",
    )


def _figure(label: str, *value: rx.Component, **props) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color=rx.color("gray", 11)), *value, spacing="1", min_width="0", **props)


def _summary() -> rx.Component:
    """Once the source is live: how it is doing, at a glance, instead of the steps that set it up."""
    a = S.activity
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading(S.sel_name, size="4", as_="h2", min_width="0", class_name="wrap-anywhere"),
                _switch(),
                justify="between",
                align="center",
                spacing="3",
                width="100%",
            ),
            rx.grid(
                _figure("Status", status_pill(S.status_label, SOURCE_COLORS, size="2", width="fit-content")),
                _figure("Events today (UTC)", rx.text(a["received_today"], size="5", weight="bold", id="events-today")),
                _figure(
                    "Last event",
                    rx.text(
                        rx.code(a["last_event"], class_name="wrap-anywhere"),
                        " ",
                        rx.el.span(
                            rx.moment(a["last_at"], from_now=True, interval=30_000),
                            title=a["last_at_full"],
                            style={"color": rx.color("gray", 11), "white_space": "nowrap"},
                        ),
                        size="2",
                    ),
                    id="last-event",
                ),
                _figure(
                    "Errors today",
                    rx.cond(
                        a["rejected_today"] == "0",
                        rx.text("None", size="2"),
                        rx.vstack(
                            rx.text(
                                a["rejected_words"],
                                size="2",
                                weight="medium",
                                color=rx.color("red", 11),
                            ),
                            rx.text("Latest: ", a["last_rejection"], size="1", class_name="wrap-anywhere"),
                            rx.link("See them in the Event Log", href=routes.EVENT_LOG + "?outcome=rejected", size="1"),
                            spacing="1",
                        ),
                    ),
                    id="errors-today",
                ),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="4",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
        id="source-summary",
    )


def _setup_steps() -> rx.Component:
    """The six steps: the page itself while setting up; folded behind "Setup steps" once the source is live."""
    steps = rx.vstack(
        _step1(),
        _step2(),
        _step3(),
        _step4(),
        _step5(),
        _step6(),
        spacing="4",
        width="100%",
        id="setup-steps",
        display=rx.cond(S.is_live & ~S.steps_open, "none", "flex"),
    )
    toggle = rx.button(
        rx.icon(rx.cond(S.steps_open, "chevron-down", "chevron-right"), size=16, aria_hidden="true"),
        "Setup steps",
        variant="ghost",
        size="2",
        on_click=S.toggle_steps,
        aria_expanded=rx.cond(S.steps_open, "true", "false"),
        aria_controls="setup-steps",
        id="setup-steps-toggle",
        type="button",
    )
    return rx.fragment(rx.cond(S.is_live, toggle), steps)


def integrations_page() -> rx.Component:
    return page_shell(
        "Integrations → PostHog",
        rx.moment(interval=500, on_change=S.poll, display="none"),
        rx.flex(
            rx.text("PostHog tracks what users do; Humanic turns those actions into emails.", size="2"),
            rx.hstack(
                rx.text("Status:", size="2"),
                status_pill(S.status_label, SOURCE_COLORS, size="2", id="source-status"),
                align="center",
                spacing="2",
            ),
            justify="between",
            align="center",
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
        toast(S.message, id="integrations-message"),
        toast(S.error, ok=False, id="integrations-error"),
        _connect_form(),
        rx.cond(
            S.selected_id != 0,
            rx.vstack(
                _source_picker(),
                _this_source(),
                _private_url_warning(),
                rx.cond(S.is_live, _summary()),
                _setup_steps(),
                _security(),
                spacing="4",
                width="100%",
            ),
        ),
    )
