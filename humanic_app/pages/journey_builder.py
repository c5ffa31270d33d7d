"""The journey builder: a vertical flow of node cards (email, wait, wait for event, branch, exit). The ways
out of a wait-for or a branch sit side by side (stacked on a phone): each in its column with the nodes down
it, until the ways meet again (state/journey_layout.py). Each node shows its live counts, and nodes are added
after any node or into a way out, removed and moved in place."""

import reflex as rx

from humanic_app.components.feedback import field_error, field_invalid_props, live_summary
from humanic_app.components.pill import pill
from humanic_app.models import limits
from humanic_app.pages.block_editor import compose_choice, email_blocks, variable_picker
from humanic_app.services.campaigns.schema import OPERATORS
from humanic_app.state import journey_layout
from humanic_app.state.campaigns import CampaignsState as S

KINDS = [
    ("email", "Email", "mail", "indigo"),
    ("wait", "Wait", "hourglass", "amber"),
    ("wait_for", "Wait for event", "radio-tower", "cyan"),
    ("branch", "Branch", "split", "violet"),
    ("exit", "Exit", "log-out", "gray"),
]
WEEKDAY_HINT = "mon, tue, wed, thu, fri"
COUNTS_EVERY_MS = 3000  # how often an open active journey reads its node counts (a snapshot read)


def _muted(text, **props) -> rx.Component:
    return rx.text(text, size="1", color=rx.color("gray", 11), **props)


def _step_field(control, s_index, field: str, width: str = "100%") -> rx.Component:
    """A node's input with its own refusal under it ("steps.<i>.<field>" in the document)."""
    error = S.builder_errors.get("steps." + s_index.to_string() + "." + field, "")
    field_id = "step-" + s_index.to_string() + "-" + field.replace(".", "-")
    return rx.vstack(
        control(**field_invalid_props(error, field_id=field_id)),
        field_error(error, field_id=field_id),
        spacing="1",
        width=width,
    )


def _labelled(label: str, s_index, field: str, value, on_change, placeholder: str = "", width="100%", **props):
    """A labelled text input of a node ("Timeout", "Event"…) with its refusal under it."""
    field_id = "step-" + s_index.to_string() + "-" + field
    return rx.vstack(
        rx.el.label(rx.text(label, size="1", weight="medium"), html_for=field_id),
        _step_field(
            lambda **p: rx.input(
                value=value,
                on_change=on_change,
                placeholder=placeholder,
                width="100%",
                size="2",
                max_length=limits.CONDITION_TEXT,
                **p,
                **props,
            ),
            s_index,
            field,
        ),
        spacing="1",
        width=width,
        max_width="100%",
    )


def _step_button(icon: str, label, on_click, disabled, **props) -> rx.Component:
    """An icon-only step control: its name says which step and what it does ("Move step 2 up")."""
    return rx.icon_button(
        rx.icon(icon, size=14),
        size="2",
        variant="ghost",
        on_click=on_click,
        aria_label=label,
        title=label,
        disabled=disabled,
        **props,
    )


def _add_menu(label, on_pick, *, size: str = "1", text: str = "") -> rx.Component:
    """ "Add a step" as a menu of the five kinds; `label` names where it goes."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("plus", size=14),
                *([text] if text else []),
                size=size,
                variant="soft",
                radius="full",
                aria_label=label,
                title=label,
                class_name="add-node",
            )
        ),
        rx.menu.content(
            *[
                rx.menu.item(rx.hstack(rx.icon(icon, size=14), word, align="center"), on_click=on_pick(kind))
                for kind, word, icon, _ in KINDS
            ]
        ),
        # Non-modal: a modal menu hides the rest of the page with aria-hidden while its links and buttons stay
        # focusable (axe: aria-hidden-focus). Escape and a click or Tab outside still close it.
        modal=False,
    )


def _kind_icon(kind) -> rx.Component:
    return rx.match(
        kind,
        *[
            (
                k,
                rx.box(
                    rx.icon(icon, size=16),
                    background=rx.color(color, 3),
                    color=rx.color(color, 11),
                    border_radius="8px",
                    padding="6px",
                    display="flex",
                    flex_shrink="0",
                ),
            )
            for k, _, icon, color in KINDS
        ],
        rx.fragment(),
    )


def _kind_word(kind) -> rx.Component:
    return rx.match(kind, *[(k, word) for k, word, _, _ in KINDS], "")


def _counts(row) -> rx.Component:
    return rx.cond(
        row.passed != "",
        rx.hstack(
            pill(
                rx.icon("users", size=12),
                row.waiting,
                " waiting",
                color=rx.cond(row.waiting != "0", "amber", "gray"),
                variant="soft",
                class_name="node-waiting",
            ),
            pill(
                rx.icon("arrow-down", size=12),
                row.passed,
                " passed",
                color="gray",
                variant="soft",
                class_name="node-passed",
            ),
            spacing="1",
            wrap="wrap",
        ),
    )


def _header(row, i) -> rx.Component:
    n = (i + 1).to_string()
    return rx.flex(
        rx.hstack(
            _kind_icon(row.kind),
            rx.vstack(
                rx.heading("Step ", n, size="3", as_="h3", class_name="node-title"),
                _muted(_kind_word(row.kind)),
                spacing="0",
            ),
            align="center",
            spacing="2",
        ),
        _counts(row),
        rx.spacer(),
        rx.hstack(
            _step_button("arrow-up", "Move step " + n + " up", S.move_step(i, -1), ~S.can_move[i][0]),
            _step_button("arrow-down", "Move step " + n + " down", S.move_step(i, 1), ~S.can_move[i][1]),
            _step_button("trash-2", "Delete step " + n, S.remove_step(i), S.nodes.length() == 1, color_scheme="red"),
            spacing="2",
        ),
        align="center",
        gap="2",
        wrap="wrap",
        width="100%",
    )


def _email_body(s, i) -> rx.Component:
    n = (i + 1).to_string()
    delay_id = "step-" + i.to_string() + "-delay"
    return rx.vstack(
        rx.hstack(
            rx.el.label(rx.text("Send after", size="1", weight="medium"), html_for=delay_id),
            _step_field(
                lambda **p: rx.input(
                    value=s.delay,
                    on_change=lambda v: S.set_step(i, "delay", v),
                    width="90px",
                    size="1",
                    class_name="step-delay",
                    max_length=limits.DURATION,
                    **p,
                ),
                i,
                "delay",
                width="auto",
            ),
            _muted("from the trigger event, and not before the contact gets here (0 = at once; 2d, 24h, 30m)"),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.flex(
            variable_picker(
                "Step " + n + " subject",
                lambda v: S.insert_variable(i, "", "subject", v),
                "step-" + i.to_string() + "-subject-variable",
            ),
            justify="end",
            width="100%",
        ),
        _step_field(
            lambda **p: rx.input(
                value=s.subject,
                on_change=lambda v: S.set_step(i, "subject", v),
                placeholder="Subject",
                width="100%",
                class_name="step-subject",
                max_length=limits.SUBJECT,
                aria_label="Step " + n + " subject",
                **p,
            ),
            i,
            "subject",
        ),
        compose_choice(s, i),
        rx.cond(
            s.mode == "blocks",
            email_blocks(s, i),
            _step_field(
                lambda **p: rx.text_area(
                    value=s.html,
                    on_change=lambda v: S.set_step(i, "html", v),
                    placeholder="<p>Hi {{ name | default('there') }}</p>",
                    width="100%",
                    rows="5",
                    class_name="step-html",
                    style={"font_family": "monospace"},
                    max_length=limits.HTML,
                    aria_label="Step " + n + " HTML",
                    **p,
                ),
                i,
                "html",
            ),
        ),
        _step_field(
            lambda **p: rx.text_area(
                value=s.text,
                on_change=lambda v: S.set_step(i, "text", v),
                placeholder="Plain-text part (optional; derived from the email when empty)",
                width="100%",
                rows="2",
                max_length=limits.TEXT,
                aria_label="Step " + n + " plain-text part",
                **p,
            ),
            i,
            "text",
        ),
        rx.cond(S.written_later[i], _not_scheduled_yet()),
        rx.button(
            rx.icon("eye", size=14),
            "Preview this email",
            size="1",
            variant="ghost",
            on_click=S.set_preview("step", i.to_string()),
            aria_label="Preview step " + n,
        ),
        spacing="2",
        width="100%",
    )


def _not_scheduled_yet() -> rx.Component:
    """On an email past a wait for an event or a branch: why the outbox's counts leave it out for now."""
    return rx.hstack(
        rx.icon("info", size=14, flex_shrink="0", aria_hidden="true", margin_top="2px"),
        _muted(
            "After a wait for an event or a branch, this email is scheduled only when a contact gets here: until "
            "then Messages, the Dashboard's “Next 24 h” and the emails Archive cancels do not count it."
        ),
        spacing="1",
        align="start",
        class_name="not-scheduled-yet",
    )


def _select(label, value, items: list[tuple[str, str]], on_change, **props) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label=label, **props),
        rx.select.content(*[rx.select.item(word, value=v) for v, word in items]),
        value=value,
        on_change=on_change,
        size="1",
    )


def _wait_body(row, i) -> rx.Component:
    n = (i + 1).to_string()
    return rx.vstack(
        rx.flex(
            _labelled(
                "Wait for",
                i,
                "duration",
                row.duration,
                lambda v: S.set_step(i, "duration", v),
                "e.g. 2d",
                width="120px",
            ),
            rx.vstack(
                rx.text("then until", size="1", weight="medium", aria_hidden="true"),
                _select(
                    "Step " + n + ": then wait until",
                    row.until,
                    [("none", "no time window"), ("time", "a time of day"), ("between", "a window")],
                    lambda v: S.set_step(i, "until", v),
                ),
                spacing="1",
            ),
            rx.cond(
                row.until == "time",
                _labelled(
                    "Time (HH:MM)",
                    i,
                    "until_time",
                    row.until_time,
                    lambda v: S.set_step(i, "until_time", v),
                    "09:00",
                    width="110px",
                ),
            ),
            rx.cond(
                row.until == "between",
                rx.hstack(
                    _labelled(
                        "From",
                        i,
                        "until_start",
                        row.until_start,
                        lambda v: S.set_step(i, "until_start", v),
                        "09:00",
                        width="90px",
                    ),
                    _labelled(
                        "To",
                        i,
                        "until_end",
                        row.until_end,
                        lambda v: S.set_step(i, "until_end", v),
                        "17:00",
                        width="90px",
                    ),
                    spacing="2",
                ),
            ),
            _labelled(
                "On days", i, "until_days", row.days, lambda v: S.set_step(i, "days", v), WEEKDAY_HINT, width="200px"
            ),
            gap="3",
            wrap="wrap",
            align="end",
        ),
        _muted("Times are in the contact's timezone (the workspace's when it is unknown)."),
        field_error(
            S.builder_errors.get("steps." + i.to_string() + ".until", ""), field_id="step-" + i.to_string() + "-until"
        ),
        spacing="2",
        width="100%",
    )


def _filter_row(c, j, i) -> rx.Component:
    label = "Step " + (i + 1).to_string() + " filter " + (j + 1).to_string()
    return rx.hstack(
        _select(
            label + ": read from",
            c.target,
            [("property", "event property"), ("person_property", "person property")],
            lambda v: S.set_filter(i, j, "target", v),
        ),
        rx.input(
            value=c.key,
            placeholder="property",
            size="1",
            on_change=lambda v: S.set_filter(i, j, "key", v),
            aria_label=label + ": property name",
            max_length=limits.CONDITION_TEXT,
            width="120px",
        ),
        _select(label + ": comparison", c.op, [(op, op) for op in OPERATORS], lambda v: S.set_filter(i, j, "op", v)),
        rx.input(
            value=c.value,
            placeholder="value",
            size="1",
            on_change=lambda v: S.set_filter(i, j, "value", v),
            aria_label=label + ": value",
            max_length=limits.CONDITION_TEXT,
            width="100px",
        ),
        rx.icon_button(
            rx.icon("x", size=14),
            size="1",
            variant="ghost",
            on_click=S.remove_filter(i, j),
            aria_label="Remove " + label,
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        class_name="filter-row",
    )


def _wait_for_body(row, i) -> rx.Component:
    return rx.vstack(
        rx.flex(
            _labelled(
                "Event",
                i,
                "event",
                row.event,
                lambda v: S.set_step(i, "event", v),
                "checkout_completed",
                width="220px",
                list="known-events",
            ),
            _labelled(
                "With the same (match)",
                i,
                "match",
                row.match,
                lambda v: S.set_step(i, "match", v),
                "cart_id",
                width="180px",
            ),
            _labelled(
                "At most (timeout)",
                i,
                "timeout",
                row.timeout,
                lambda v: S.set_step(i, "timeout", v),
                "24h",
                width="120px",
            ),
            gap="3",
            wrap="wrap",
        ),
        _muted(
            "Match: the event must carry the same values of these properties as the event that enrolled the "
            "contact (it may come from a server, not the contact)."
        ),
        rx.foreach(row.where, lambda c, j: _filter_row(c, j, i)),
        rx.button("Add filter on the event", size="1", variant="ghost", on_click=S.add_filter(i)),
        _paths(row, i),
        spacing="2",
        width="100%",
    )


_CONDITION_KINDS = [
    ("property", "event property"),
    ("person_property", "person property"),
    ("engagement", "engagement with an email"),
    ("did", "did an event since enrolling"),
    ("cohort", "in a PostHog cohort"),
]


def _path_condition(c, k, j, i) -> rx.Component:
    label = "Step " + (i + 1).to_string() + " path " + (j + 1).to_string() + " condition " + (k + 1).to_string()
    return rx.flex(
        _select(label + ": kind", c.kind, _CONDITION_KINDS, lambda v: S.set_path_condition(i, j, k, "kind", v)),
        rx.match(
            c.kind,
            (
                "engagement",
                rx.hstack(
                    rx.select.root(
                        rx.select.trigger(
                            aria_label=label + ": email",
                            placeholder="which email",
                            width="100%",
                            min_width="0",
                            style={"overflow": "hidden"},
                        ),
                        rx.select.content(rx.foreach(S.email_ids, lambda e: rx.select.item(e.label, value=e.id))),
                        value=c.email,
                        on_change=lambda v: S.set_path_condition(i, j, k, "email", v),
                        size="1",
                    ),
                    _select(
                        label + ": was",
                        c.was,
                        [("delivered", "was delivered"), ("opened", "was opened"), ("clicked", "was clicked")],
                        lambda v: S.set_path_condition(i, j, k, "was", v),
                    ),
                    spacing="2",
                    wrap="wrap",
                    width="100%",
                    min_width="0",
                ),
            ),
            (
                "did",
                rx.input(
                    value=c.did,
                    placeholder="dashboard_created",
                    size="1",
                    list="known-events",
                    on_change=lambda v: S.set_path_condition(i, j, k, "did", v),
                    aria_label=label + ": event",
                    max_length=limits.EVENT_NAME,
                ),
            ),
            (
                "cohort",
                rx.input(
                    value=c.cohort,
                    placeholder="Power users",
                    size="1",
                    on_change=lambda v: S.set_path_condition(i, j, k, "cohort", v),
                    aria_label=label + ": cohort name or id",
                    max_length=400,
                ),
            ),
            rx.hstack(
                rx.input(
                    value=c.key,
                    placeholder="property",
                    size="1",
                    width="110px",
                    on_change=lambda v: S.set_path_condition(i, j, k, "key", v),
                    aria_label=label + ": property name",
                    max_length=limits.CONDITION_TEXT,
                ),
                _select(
                    label + ": comparison",
                    c.op,
                    [(op, op) for op in OPERATORS],
                    lambda v: S.set_path_condition(i, j, k, "op", v),
                ),
                rx.input(
                    value=c.value,
                    placeholder="value",
                    size="1",
                    width="90px",
                    on_change=lambda v: S.set_path_condition(i, j, k, "value", v),
                    aria_label=label + ": value",
                    max_length=limits.CONDITION_TEXT,
                ),
                spacing="2",
                wrap="wrap",
            ),
        ),
        rx.icon_button(
            rx.icon("x", size=14),
            size="1",
            variant="ghost",
            on_click=S.remove_path_condition(i, j, k),
            aria_label="Remove " + label,
        ),
        gap="2",
        wrap="wrap",
        align="center",
        width="100%",
        class_name="path-condition",
    )


# The ways out's widths, in a wait-for's or branch's card and in their columns below it, so that they line up:
# side by side from the small breakpoint while each keeps 260 px, else one under another
_COLUMNS = rx.breakpoints(initial="minmax(0, 1fr)", sm="repeat(auto-fit, minmax(min(100%, 260px), 1fr))")


def _path(p, j, row, i) -> rx.Component:
    n = (i + 1).to_string()
    path_label = "Step " + n + " " + p.title
    is_condition = (row.kind == "branch") & (p.key != "else")
    return rx.vstack(
        rx.hstack(
            pill(
                rx.cond(p.key == "on_timeout", rx.icon("timer-off", size=12), rx.icon("git-branch", size=12)),
                p.title,
                variant="surface",
                color=rx.match(p.key, ("on_timeout", "amber"), ("else", "gray"), ("on_event", "green"), "violet"),
            ),
            rx.spacer(),
            rx.cond(
                p.took != "",
                rx.text(p.took, " took this", size="1", color=rx.color("gray", 11), class_name="path-took"),
            ),
            rx.cond(
                is_condition & (row.paths.length() > 2),
                rx.icon_button(
                    rx.icon("trash-2", size=14),
                    size="1",
                    variant="ghost",
                    color_scheme="red",
                    on_click=S.remove_path(i, j),
                    aria_label="Remove " + path_label,
                ),
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            is_condition,
            rx.vstack(
                rx.input(
                    value=p.name,
                    placeholder="Name this path",
                    size="1",
                    width="100%",
                    on_change=lambda v: S.set_path(i, j, "name", v),
                    aria_label=path_label + ": name",
                    max_length=80,
                ),
                _muted("When all of these hold"),
                rx.foreach(p.conditions, lambda c, k: _path_condition(c, k, j, i)),
                rx.button("Add condition", size="1", variant="ghost", on_click=S.add_path_condition(i, j)),
                spacing="2",
                width="100%",
            ),
        ),
        rx.text("Then go to", size="1", weight="medium", aria_hidden="true"),
        rx.select.root(
            rx.select.trigger(aria_label=path_label + ": then go to", width="100%"),
            rx.select.content(
                rx.select.item("the step below", value="_below"),
                rx.foreach(S.node_choices, lambda c: rx.select.item(c.label, value=c.id)),
            ),
            value=rx.cond(p.then == "", "_below", p.then),
            on_change=lambda v: S.set_path(i, j, "then", v),
            size="1",
        ),
        _add_menu("Add a step to " + path_label, lambda kind: S.add_into_path(i, p.key, kind), text="Add a step here"),
        spacing="2",
        padding="12px",
        border=f"1px dashed {rx.color('gray', 7)}",
        border_radius="10px",
        background=rx.color("gray", 2),
        min_width="0",
        class_name="journey-path",
    )


def _paths(row, i) -> rx.Component:
    return rx.vstack(
        rx.grid(
            rx.foreach(row.paths, lambda p, j: _path(p, j, row, i)),
            columns=_COLUMNS,
            spacing="3",
            width="100%",
            class_name="journey-paths",
        ),
        rx.cond(row.kind == "branch", rx.button("Add path", size="1", variant="soft", on_click=S.add_path(i))),
        spacing="2",
        width="100%",
    )


def _branch_body(row, i) -> rx.Component:
    return rx.vstack(
        _muted("Contacts take the first path whose conditions all hold, when they reach this step."),
        _paths(row, i),
        spacing="2",
        width="100%",
    )


def _next_select(row, i) -> rx.Component:
    """Where an email or a wait goes on (the step below unless told)."""
    n = (i + 1).to_string()
    return rx.cond(
        (row.kind == "email") | (row.kind == "wait"),
        rx.cond(
            S.nodes.length() > 1,
            rx.hstack(
                _muted("Then go to", aria_hidden="true"),
                rx.select.root(
                    rx.select.trigger(aria_label="Step " + n + ": then go to"),
                    rx.select.content(
                        rx.select.item("the step below", value="_below"),
                        rx.foreach(S.node_choices, lambda c: rx.select.item(c.label, value=c.id)),
                    ),
                    value=rx.cond(row.next == "", "_below", row.next),
                    on_change=lambda v: S.set_step(i, "next", v),
                    size="1",
                ),
                align="center",
                spacing="2",
                max_width="100%",
            ),
        ),
    )


def _node_card(row, i) -> rx.Component:
    problem = S.node_problems[i]
    return rx.card(
        rx.vstack(
            _header(row, i),
            rx.cond(
                problem != "",
                rx.callout(
                    S.node_labels[i] + ": " + problem,
                    icon="triangle-alert",
                    color_scheme="red",
                    size="1",
                    width="100%",
                    class_name="node-problem",
                ),
            ),
            rx.match(
                row.kind,
                ("email", _email_body(row, i)),
                ("wait", _wait_body(row, i)),
                ("wait_for", _wait_for_body(row, i)),
                ("branch", _branch_body(row, i)),
                _muted("The journey ends here for the contact (emails already scheduled still go)."),
            ),
            _next_select(row, i),
            spacing="3",
            width="100%",
        ),
        width="100%",
        class_name=rx.cond(row.kind == "email", "node-card step-card", "node-card"),
        data_kind=row.kind,
        data_step=(i + 1).to_string(),
        data_invalid=rx.cond(problem != "", "true", "false"),
        style=rx.cond(
            problem != "",
            {"box_shadow": f"0 0 0 2px {rx.color('red', 9)}"},
            {"box_shadow": f"inset 3px 0 0 {rx.color('accent', 8)}"},
        ),
    )


def _line() -> rx.Component:
    return rx.box(width="2px", height="14px", background=rx.color("gray", 7), flex_shrink="0")


def _connector(i) -> rx.Component:
    return rx.vstack(
        _line(),
        _add_menu("Add a step after step " + (i + 1).to_string(), lambda kind: S.add_node(i + 1, kind)),
        _line(),
        spacing="0",
        align="center",
    )


def _flow_note(note) -> rx.Component:
    """Where a run goes on when the flow does not draw it below ("Then goes to Step 5")."""
    return rx.hstack(
        rx.icon("corner-down-right", size=14, aria_hidden="true"),
        rx.text(note, size="1"),
        spacing="1",
        align="center",
        color=rx.color("gray", 11),
        class_name="flow-note",
    )


def _column(column, depth: int) -> rx.Component:
    """One way out and the nodes down it, until the ways meet again."""
    return rx.vstack(
        pill(
            rx.icon("corner-down-right", size=12),
            "Step ",
            (column.node + 1).to_string(),
            ": ",
            column.title,
            variant="surface",
            color="gray",
            max_width="100%",
            class_name="column-title",
        ),
        _line(),
        _sequence(column.steps, depth),
        rx.cond(column.note != "", _flow_note(column.note)),
        rx.cond(
            (column.steps.length() == 0) & (column.note == ""),
            _muted("No steps on this path yet: it goes straight on."),
        ),
        spacing="0",
        align="center",
        width="100%",
        min_width="0",
        padding="8px",
        border_radius="12px",
        border=f"1px dashed {rx.color('gray', 6)}",
        background=rx.color("gray", 2),
        class_name="journey-column",
        data_step=(column.node + 1).to_string(),
        data_path=column.path.to_string(),
    )


def _flow_item(item, depth: int) -> rx.Component:
    """A node, and after a wait-for or a branch its ways out side by side, then on to where they meet."""
    i = item.node
    split = item.columns.length() > 0
    after = [_line()]
    if depth < journey_layout.DEPTH:  # deeper, the paths' nodes follow the split in this run
        after = [
            rx.grid(
                rx.foreach(item.columns, lambda column: _column(column, depth + 1)),
                columns=_COLUMNS,
                spacing="3",
                width="100%",
                padding_x="12px",  # the card's own padding: each column sits under its way out
                class_name="journey-columns",
            ),
            _line(),
        ]
    return rx.vstack(
        _node_card(S.nodes[i], i),
        rx.cond(split, rx.fragment(_line(), *after), _connector(i)),
        spacing="0",
        align="center",
        width="100%",
        min_width="0",
        class_name="flow-item",
    )


def _sequence(items, depth: int) -> rx.Component:
    return rx.foreach(items, lambda item: _flow_item(item, depth))


def _run(run, k) -> rx.Component:
    """The journey from its trigger; later runs are nodes no way leads to yet."""
    return rx.vstack(
        rx.cond(
            k > 0,
            pill("Not reached from the trigger", color="amber", variant="soft"),
        ),
        _sequence(run.steps, 0),
        rx.cond(run.note != "", _flow_note(run.note)),
        spacing="0",
        align="center",
        width="100%",
    )


def journey_flow() -> rx.Component:
    """The whole flow: where it starts, each node (ways out side by side), and an end marker."""
    return rx.vstack(
        rx.vstack(
            pill(
                rx.icon("zap", size=12),
                "Trigger: ",
                rx.cond(S.trigger_event != "", S.trigger_event, "(no event yet)"),
                size="2",
                variant="surface",
                radius="full",
            ),
            _line(),
            _add_menu("Add a step at the start", lambda kind: S.add_node(0, kind)),
            _line(),
            spacing="0",
            align="center",
        ),
        rx.foreach(S.flow, _run),
        pill(rx.icon("flag", size=12), "End of journey", size="2", variant="surface", color="gray", radius="full"),
        rx.cond(  # an active journey's counts follow the contacts on their own; Refresh stays for at once
            (S.editing_id != 0) & (S.editing_status == "active"),
            rx.moment(interval=COUNTS_EVERY_MS, on_change=S.poll_counts, display="none"),
        ),
        rx.cond(
            S.editing_id != 0,
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh counts",
                size="1",
                variant="ghost",
                on_click=S.refresh_counts,
                id="refresh-counts",
            ),
        ),
        # how the counts moved, said in one short line at most every ten seconds (the state throttles it)
        live_summary(
            S.counts_summary,
            key=S.counts_announcements,
            region_id="counts-summary",
            text_align="center",
            max_width="100%",
            padding_top="4px",
        ),
        spacing="0",
        align="center",
        width="100%",
        id="journey-flow",
    )


def edit_effects_panel() -> rx.Component:
    """Before saving a live journey: who waits where and what the edit does to them."""
    return rx.cond(
        S.edit_effects_summary != "",
        rx.callout(
            rx.vstack(
                rx.text(S.edit_effects_summary, size="2"),
                rx.foreach(
                    S.edit_effects,
                    lambda e: rx.text(
                        rx.text.strong(e.label),
                        " · ",
                        e.waiting,
                        " waiting · ",
                        e.change,
                        ": ",
                        e.what_happens,
                        size="2",
                        class_name="edit-effect",
                    ),
                ),
                rx.hstack(
                    rx.button("Save anyway", size="2", on_click=S.confirm_save, id="confirm-save"),
                    rx.button("Keep editing", size="2", variant="soft", color_scheme="gray", on_click=S.cancel_save),
                    spacing="2",
                ),
                spacing="2",
            ),
            icon="info",
            color_scheme="amber",
            high_contrast=True,
            width="100%",
            id="edit-effects",
            role="status",
        ),
    )
