"""Settings → Topics: add and delete the topics campaigns belong to and recipients opt out of."""

from __future__ import annotations

import reflex as rx

from humanic_app.components.feedback import confirm_action, field_error, field_invalid_props, toast
from humanic_app.components.ui import settings_section
from humanic_app.state.topics import TopicsState as S

SECTION = "topics"
NAME_FIELD = "settings-topic-name"


def _row(topic) -> rx.Component:
    """One topic: its name editable in place (the key stays), its key and opt-outs, and a confirmed Delete."""
    field_id = "topic-name-" + topic["id"].to(str)
    error = S.rename_errors.get(topic["id"], "")
    return rx.el.li(
        rx.form(
            rx.el.input(type="hidden", name="topic_id", value=topic["id"]),
            rx.flex(
                rx.vstack(
                    rx.input(
                        name="name",
                        default_value=topic["name"],
                        key=topic["name"],  # a saved rename shows the stored name
                        max_length=100,
                        required=True,
                        aria_label="Name of topic " + topic["name"].to(str),
                        width=rx.breakpoints(initial="100%", sm="16em"),
                        **field_invalid_props(error, field_id=field_id),
                    ),
                    field_error(error, field_id=field_id),
                    rx.text(
                        "Key: ", rx.code(topic["key"]), " · ", topic["opted_out"], size="1", color=rx.color("gray", 11)
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.hstack(
                    rx.button(
                        "Rename",
                        type="submit",
                        variant="soft",
                        size="1",
                        aria_label="Rename topic " + topic["name"].to(str),
                    ),
                    confirm_action(
                        "Delete",
                        title="Delete the topic " + topic["name"].to(str) + "?",
                        consequence="Its opt-outs go with it ("
                        + topic["opted_out"].to(str)
                        + "). Campaigns that name it must get another topic first.",
                        confirm_label="Delete topic",
                        on_confirm=S.delete_topic(topic["id"]),
                        trigger_props={"aria_label": "Delete topic " + topic["name"].to(str)},
                    ),
                    spacing="2",
                    flex_shrink="0",
                ),
                justify="between",
                align="start",
                gap="3",
                width="100%",
                direction=rx.breakpoints(initial="column", sm="row"),
            ),
            on_submit=S.rename_topic,
            width="100%",
        ),
        class_name="topic-row",
        style={"listStyle": "none", "padding": "8px 0", "borderBottom": "1px solid var(--gray-5)"},
    )


def _form() -> rx.Component:
    error = S.topic_errors.get("name", "")
    return rx.form(
        rx.vstack(
            rx.el.label(rx.text("New topic", size="2", weight="medium"), html_for=NAME_FIELD),
            rx.flex(
                rx.input(
                    name="name",
                    placeholder="Product tips",
                    max_length=100,
                    required=True,
                    width=rx.breakpoints(initial="100%", sm="18em"),
                    **field_invalid_props(error, field_id=NAME_FIELD),
                ),
                rx.button("Add topic", type="submit", white_space="nowrap"),
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="3",
                width="100%",
            ),
            field_error(error, field_id=NAME_FIELD),
            spacing="1",
            width="100%",
        ),
        on_submit=S.add_topic,
        reset_on_submit=True,
        width="100%",
    )


def topics_section() -> rx.Component:
    return settings_section(
        "Topics",
        "What your marketing emails are about. Each campaign names one topic, or is transactional (account and "
        "billing mail). Recipients opt out of a topic on the preference page their emails link to.",
        rx.cond(
            S.topics_loaded,
            rx.vstack(
                rx.cond(
                    S.topic_rows.length() > 0,
                    rx.el.ul(rx.foreach(S.topic_rows, _row), style={"padding": 0, "margin": 0, "width": "100%"}),
                    rx.text("No topics yet.", size="2"),
                ),
                _form(),
                rx.cond(
                    S.topic_errors.contains(""),
                    rx.callout(S.topic_errors[""], color_scheme="red", role="alert"),
                ),
                toast(S.topic_saved, id="topic-saved"),
                spacing="3",
                width="100%",
            ),
            rx.text("Loading…", size="2"),
        ),
        section_id=SECTION,
        on_mount=S.load_topics,
    )


def contact_topics_section(contact) -> rx.Component:
    """The Contacts dialog's topic choices (ContactsState.open_contact has them read for the contact)."""
    return rx.vstack(
        rx.heading("Topics", size="3", as_="h3"),
        rx.cond(
            S.contact_topics.length() > 0,
            rx.el.ul(
                rx.foreach(
                    S.contact_topics,
                    lambda t: rx.el.li(
                        rx.text(t["name"], ": ", rx.text.span(t["subscribed"], weight="medium"), size="2")
                    ),
                ),
                id="contact-topics",
                style={"margin": 0, "paddingLeft": "1.2em"},
            ),
            rx.text("No topics in this workspace.", size="2"),
        ),
        spacing="1",
        width="100%",
    )


def topic_select(value, choices, on_change) -> rx.Component:
    """The campaign builder's Topic field: a topic, transactional, or none."""
    return rx.vstack(
        rx.el.label(rx.text("Topic", size="1", weight="medium"), html_for="campaign-topic"),
        rx.select.root(
            rx.select.trigger(id="campaign-topic"),
            rx.select.content(rx.foreach(choices, lambda c: rx.select.item(c[1], value=c[0]))),
            value=value,
            on_change=on_change,
        ),
        spacing="1",
    )
