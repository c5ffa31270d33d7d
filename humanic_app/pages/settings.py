"""Settings: workspace name, sender defaults, footer address, status, teammates and API keys."""

import reflex as rx

from humanic_app.components.shell import page_shell
from humanic_app.state.settings import SettingsState


def _labelled(label: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        *([rx.text(hint, size="1", color_scheme="gray")] if hint else []),
        spacing="1",
        width="100%",
    )


def _workspace_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _labelled(
                "Workspace name",
                rx.input(
                    name="name",
                    id="settings-name",
                    default_value=SettingsState.name,
                    key=SettingsState.name,
                    width="100%",
                ),
            ),
            rx.grid(
                _labelled(
                    "Default From name",
                    rx.input(
                        name="from_name",
                        id="settings-from-name",
                        default_value=SettingsState.from_name,
                        key=SettingsState.from_name,
                        width="100%",
                    ),
                ),
                _labelled(
                    "Default From address",
                    rx.input(
                        name="from_email",
                        id="settings-from-email",
                        default_value=SettingsState.from_email,
                        key=SettingsState.from_email,
                        width="100%",
                        placeholder="hello@yourdomain.com",
                    ),
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            _labelled(
                "Physical mailing address",
                rx.text_area(
                    name="physical_address",
                    id="settings-physical-address",
                    default_value=SettingsState.physical_address,
                    key=SettingsState.physical_address,
                    width="100%",
                ),
                "Printed in every email footer, as anti-spam laws require.",
            ),
            _labelled(
                "Public URL",
                rx.input(
                    name="public_url",
                    id="settings-public-url",
                    default_value=SettingsState.public_url,
                    key=SettingsState.public_url,
                    width="100%",
                    placeholder="https://humanic.example.com",
                ),
                "The address PostHog and your recipients reach this app at. Leave empty to use "
                "HUMANIC_PUBLIC_URL or the address you are browsing.",
            ),
            _labelled(
                "Frequency cap (emails per contact per 24 h, across all campaigns)",
                rx.input(
                    name="frequency_cap",
                    id="settings-frequency-cap",
                    default_value=SettingsState.frequency_cap,
                    key=SettingsState.frequency_cap,
                    width="120px",
                ),
                "Steps over the cap wait until the contact is under it again; they are not dropped. "
                "0 turns the cap off.",
            ),
            rx.cond(
                SettingsState.form_error != "",
                rx.callout(SettingsState.form_error, icon="triangle-alert", color_scheme="red", id="settings-error"),
            ),
            rx.cond(
                SettingsState.saved_message != "",
                rx.callout(SettingsState.saved_message, icon="check", color_scheme="green", id="settings-saved"),
            ),
            rx.button("Save settings", type="submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=SettingsState.save,
        reset_on_submit=False,
        width="100%",
    )


def _status_card() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.heading("Workspace status", size="3"),
                rx.text(
                    rx.cond(
                        SettingsState.status == "paused",
                        "Paused: events are stored, nothing is sent.",
                        "Active: campaigns fire and emails are sent.",
                    ),
                    size="2",
                    id="workspace-status",
                ),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(
                SettingsState.status == "paused",
                rx.button("Resume workspace", on_click=SettingsState.set_paused(False), color_scheme="green"),
                rx.button(
                    "Pause workspace", on_click=SettingsState.set_paused(True), color_scheme="amber", variant="soft"
                ),
            ),
            align="center",
            width="100%",
        ),
        rx.cond(
            SettingsState.sending_blocked != "",
            rx.hstack(
                rx.text(SettingsState.sending_blocked, size="2", color_scheme="red", id="sending-blocked"),
                rx.spacer(),
                rx.button("Resume sending", on_click=SettingsState.resume_sending, color_scheme="green"),
                align="center",
                width="100%",
                padding_top="12px",
            ),
        ),
        width="100%",
    )


def _users_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Users", size="3"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Email"),
                        rx.table.column_header_cell("Role"),
                        rx.table.column_header_cell(""),
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        SettingsState.users,
                        lambda u: rx.table.row(rx.table.cell(u.email), rx.table.cell(u.role), rx.table.cell(u.note)),
                    )
                ),
                width="100%",
            ),
            rx.cond(
                SettingsState.user_role == "owner",
                rx.form(
                    rx.hstack(
                        rx.input(name="email", placeholder="teammate@company.com", type="email", required=True),
                        rx.input(
                            name="temporary_password",
                            placeholder="Temporary password (10+ characters)",
                            type="password",
                            required=True,
                        ),
                        rx.button("Invite user", type="submit", variant="soft"),
                        spacing="2",
                        wrap="wrap",
                    ),
                    on_submit=SettingsState.invite,
                ),
            ),
            rx.cond(
                SettingsState.invite_message != "", rx.text(SettingsState.invite_message, size="2", id="invite-message")
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _api_keys_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("API keys", size="3"),
            rx.text(
                "Scripts call /api/v1 with 'Authorization: Bearer <key>'. A key is shown once, when created.",
                size="2",
                color_scheme="gray",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Name"),
                        rx.table.column_header_cell("Key"),
                        rx.table.column_header_cell("Last used"),
                        rx.table.column_header_cell("State"),
                        rx.table.column_header_cell(""),
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        SettingsState.api_keys,
                        lambda k: rx.table.row(
                            rx.table.cell(k.name),
                            rx.table.cell(rx.code(k.prefix)),
                            rx.table.cell(k.last_used),
                            rx.table.cell(k.state),
                            rx.table.cell(
                                rx.cond(
                                    k.state == "active",
                                    rx.button(
                                        "Revoke",
                                        size="1",
                                        color_scheme="red",
                                        variant="soft",
                                        on_click=SettingsState.revoke_api_key(k.id),
                                    ),
                                )
                            ),
                        ),
                    )
                ),
                width="100%",
            ),
            rx.form(
                rx.hstack(
                    rx.input(name="name", placeholder="Key name, e.g. Terraform", required=True),
                    rx.button("Create API key", type="submit", variant="soft"),
                    spacing="2",
                ),
                on_submit=SettingsState.create_api_key,
            ),
            rx.cond(
                SettingsState.new_api_key != "",
                rx.callout(
                    rx.vstack(
                        rx.text("Copy this key now; it will not be shown again."),
                        rx.code(SettingsState.new_api_key, id="new-api-key"),
                    ),
                    icon="key-round",
                    color_scheme="green",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def settings_page() -> rx.Component:
    return page_shell(
        "Settings",
        rx.card(rx.cond(SettingsState.loaded, _workspace_form(), rx.text("Loading settings…", size="2")), width="100%"),
        _status_card(),
        _users_card(),
        _api_keys_card(),
    )
