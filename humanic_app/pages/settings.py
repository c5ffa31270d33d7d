"""Settings: workspace name, sender defaults, footer address, status, teammates and API keys."""

import reflex as rx

from humanic_app.components.feedback import confirm_action, field_error, field_invalid_props, toast
from humanic_app.components.shell import page_shell
from humanic_app.models import limits
from humanic_app.state.settings import SettingsState


def _setting(label: str, name: str, control, hint: str = "", **props) -> rx.Component:
    """One workspace setting: its label, input (`control`), refusal at the input, and hint."""
    error = SettingsState.settings_errors.get(name, "")
    field_id = "settings-" + name.replace("_", "-")
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=field_id),
        control(
            name=name,
            default_value=getattr(SettingsState, name),
            key=getattr(SettingsState, name),
            **field_invalid_props(error, field_id=field_id),
            **props,
        ),
        field_error(error, field_id=field_id),
        *([rx.text(hint, size="1", color_scheme="gray")] if hint else []),
        spacing="1",
        width="100%",
    )


def _workspace_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _setting("Workspace name", "name", rx.input, width="100%", max_length=limits.NAME),
            rx.grid(
                _setting("Default From name", "from_name", rx.input, width="100%", max_length=limits.NAME),
                _setting(
                    "Default From address",
                    "from_email",
                    rx.input,
                    width="100%",
                    max_length=limits.EMAIL,
                    placeholder="hello@yourdomain.com",
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            _setting(
                "Physical mailing address",
                "physical_address",
                rx.text_area,
                "Printed in every email footer, as anti-spam laws require.",
                width="100%",
                max_length=limits.ADDRESS,
            ),
            _setting(
                "Public URL",
                "public_url",
                rx.input,
                "The address PostHog and your recipients reach this app at. Leave empty to use "
                "HUMANIC_PUBLIC_URL or the address you are browsing.",
                width="100%",
                max_length=limits.URL,
                placeholder="https://humanic.example.com",
            ),
            _setting(
                "Frequency cap (emails per contact per 24 h, across all campaigns)",
                "frequency_cap",
                rx.input,
                "Steps over the cap wait until the contact is under it again; they are not dropped. "
                "0 turns the cap off.",
                width="120px",
                max_length=5,
            ),
            _setting(
                "Timezone",
                "timezone",
                rx.input,
                "Journeys' time windows (\"until 09:00 on weekdays\") use each contact's timezone; this one for "
                "contacts without one. An IANA name, like Europe/Paris.",
                width="240px",
                max_length=64,
                placeholder="Europe/Paris",
            ),
            rx.cond(
                SettingsState.settings_errors.length() > 0,
                rx.callout(
                    rx.cond(
                        SettingsState.settings_errors.length() == 1,
                        "One setting needs fixing: see above.",
                        "Some settings need fixing: see each above.",
                    ),
                    icon="triangle-alert",
                    color_scheme="red",
                    id="settings-error",
                    role="alert",
                ),
            ),
            toast(SettingsState.saved_message, id="settings-saved"),
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
                confirm_action(
                    "Pause workspace",
                    title="Pause the workspace?",
                    consequence="No campaign fires and no email is sent until you resume; scheduled "
                    "emails wait. Events are still received and stored.",
                    confirm_label="Pause workspace",
                    on_confirm=SettingsState.set_paused(True),
                    trigger_props={"size": "2"},
                    color="amber",
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
                        rx.input(
                            name="email",
                            placeholder="teammate@company.com",
                            type="email",
                            required=True,
                            max_length=limits.EMAIL,
                            aria_label="Teammate's email",
                        ),
                        rx.input(
                            name="temporary_password",
                            placeholder="Temporary password (10+ characters)",
                            type="password",
                            required=True,
                            max_length=limits.PASSWORD,
                            aria_label="Temporary password",
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


def _password_field(label: str, name: str, autocomplete: str) -> rx.Component:
    error = SettingsState.password_errors.get(name, "")
    field_id = "password-" + name.replace("_", "-")
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=field_id),
        rx.input(
            name=name,
            type="password",
            required=True,
            max_length=limits.PASSWORD,
            auto_complete=autocomplete,
            width="100%",
            **field_invalid_props(error, field_id=field_id),
        ),
        field_error(error, field_id=field_id),
        spacing="1",
        width="100%",
        max_width="360px",
    )


def _password_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Your password", size="3"),
                _password_field("Current password", "current_password", "current-password"),
                _password_field("New password (at least 10 characters)", "new_password", "new-password"),
                _password_field("Repeat the new password", "new_password_confirm", "new-password"),
                toast(SettingsState.password_saved, id="password-saved"),
                rx.button("Change password", type="submit", variant="soft"),
                spacing="3",
                width="100%",
            ),
            on_submit=SettingsState.change_password,
            reset_on_submit=True,
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
                                    confirm_action(
                                        "Revoke",
                                        title="Revoke the key " + k.name + "?",
                                        consequence="Scripts using it are refused (401) at once. "
                                        "This cannot be undone.",
                                        confirm_label="Revoke key",
                                        on_confirm=SettingsState.revoke_api_key(k.id),
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
                    rx.input(
                        name="name",
                        placeholder="Key name, e.g. Terraform",
                        required=True,
                        max_length=limits.NAME,
                        aria_label="Key name",
                        **field_invalid_props(SettingsState.key_error, field_id="api-key-name"),
                    ),
                    rx.button("Create API key", type="submit", variant="soft"),
                    spacing="2",
                ),
                on_submit=SettingsState.create_api_key,
            ),
            field_error(SettingsState.key_error, field_id="api-key-name"),
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
        _password_card(),
        _api_keys_card(),
    )
