"""Settings: workspace name, sender defaults, footer address, status, teammates and API keys."""

import reflex as rx

from humanic_app.components.brand import brand_section
from humanic_app.components.feedback import confirm_action, field_error, field_invalid_props, toast
from humanic_app.components.pill import pill
from humanic_app.components.posthog import posthog_section
from humanic_app.components.posthog_access import posthog_access_section
from humanic_app.components.posthog_backfill import backfill_section
from humanic_app.components.posthog_cohorts import cohorts_section
from humanic_app.components.posthog_pull import posthog_pull_section
from humanic_app.components.quiet_hours import quiet_hours_section
from humanic_app.components.reputation import reputation_settings
from humanic_app.components.retention import retention_section
from humanic_app.components.sending import sending_section
from humanic_app.components.shared_blocks import shared_blocks_section
from humanic_app.components.shell import page_shell
from humanic_app.components.table import cell_text, data_table
from humanic_app.components.topics import topics_section
from humanic_app.components.ui import copy_text, settings_section
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
        *([rx.text(hint, size="1", color=rx.color("gray", 11))] if hint else []),
        spacing="1",
        width="100%",
    )


def _labelled(label: str, field_id: str, control: rx.Component) -> rx.Component:
    """A label above its input, tied to it (a placeholder is no label: it disappears once typing starts)."""
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=field_id),
        control,
        spacing="1",
        width="100%",
    )


def _inline_form(*fields: rx.Component, button: rx.Component, on_submit, **props) -> rx.Component:
    """Fields and their button side by side from 768 px, stacked on a phone (never wider than the window)."""
    return rx.form(
        rx.flex(
            *fields,
            button,
            direction=rx.breakpoints(initial="column", sm="row"),
            align=rx.breakpoints(initial="stretch", sm="end"),
            spacing="3",
            width="100%",
        ),
        on_submit=on_submit,
        width="100%",
        **props,
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
            rx.button("Save settings", type="submit", align_self="start"),
            spacing="3",
            width="100%",
        ),
        on_submit=SettingsState.save,
        reset_on_submit=False,
        width="100%",
    )


def _status_section() -> rx.Component:
    paused = SettingsState.status == "paused"
    return settings_section(
        "Workspace status",
        "",
        rx.flex(
            rx.hstack(
                pill(rx.cond(paused, "Paused", "Active"), color=rx.cond(paused, "amber", "green"), size="2"),
                rx.text(
                    rx.cond(
                        paused,
                        "Events are stored, nothing is sent.",
                        "Campaigns fire and emails are sent.",
                    ),
                    size="2",
                ),
                align="center",
                spacing="2",
                wrap="wrap",
                id="workspace-status",
            ),
            rx.cond(
                paused,
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
            justify="between",
            align="center",
            gap="3",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            SettingsState.sending_blocked != "",
            rx.flex(
                rx.text(SettingsState.sending_blocked, size="2", color_scheme="red", id="sending-blocked"),
                rx.button("Resume sending", on_click=SettingsState.resume_sending, color_scheme="green"),
                justify="between",
                align="center",
                gap="3",
                wrap="wrap",
                width="100%",
            ),
        ),
        section_id="workspace-status-section",
    )


def _user_row(user) -> rx.Component:
    return rx.table.row(
        cell_text(user.email),
        rx.table.cell(rx.text(user.role, size="2", style={"text_transform": "capitalize"})),
        rx.table.cell(
            rx.cond(
                user.note != "",
                pill(user.note, color="amber"),
                pill("Signed up", color="green"),
            )
        ),
    )


def _users_section() -> rx.Component:
    return settings_section(
        "Users",
        "Everyone who can sign in to this workspace. A teammate replaces the temporary password at the first sign-in.",
        data_table(["Email", "Role", "Status"], rx.foreach(SettingsState.users, _user_row), label="Users"),
        rx.cond(
            SettingsState.user_role == "owner",
            _inline_form(
                _labelled(
                    "Teammate's email",
                    "invite-email",
                    rx.input(
                        id="invite-email",
                        name="email",
                        placeholder="teammate@company.com",
                        type="email",
                        required=True,
                        max_length=limits.EMAIL,
                        width="100%",
                    ),
                ),
                _labelled(
                    "Temporary password (10+ characters)",
                    "invite-password",
                    rx.input(
                        id="invite-password",
                        name="temporary_password",
                        type="password",
                        required=True,
                        max_length=limits.PASSWORD,
                        auto_complete="new-password",
                        width="100%",
                    ),
                ),
                button=rx.button("Invite user", type="submit", variant="soft"),
                on_submit=SettingsState.invite,
            ),
        ),
        toast(SettingsState.invite_message, id="invite-message"),
        toast(SettingsState.invite_error, ok=False, id="invite-error"),
        section_id="users",
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


def _password_section() -> rx.Component:
    return settings_section(
        "Your password",
        "Changing it signs you out everywhere else.",
        rx.form(
            rx.vstack(
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
            width="100%",
        ),
        section_id="password",
    )


def _api_key_row(key) -> rx.Component:
    active = key.state == "active"
    return rx.table.row(
        cell_text(key.name, max_width="200px"),
        rx.table.cell(rx.code(key.prefix, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(key.last_used, size="2", white_space="nowrap")),
        rx.table.cell(pill(key.state, color=rx.cond(active, "green", "gray"))),
        rx.table.cell(
            rx.cond(
                active,
                confirm_action(
                    "Revoke",
                    title="Revoke the key " + key.name + "?",
                    consequence="Scripts using it are refused (401) at once. This cannot be undone.",
                    confirm_label="Revoke key",
                    on_confirm=SettingsState.revoke_api_key(key.id),
                    trigger_props={"aria_label": "Revoke " + key.name},
                ),
            ),
            text_align="right",
        ),
    )


def _new_api_key() -> rx.Component:
    """The key just created, once: long enough to wrap on a phone, with a Copy button."""
    return rx.cond(
        SettingsState.new_api_key != "",
        rx.callout(
            rx.vstack(
                rx.text("Copy this key now; it will not be shown again."),
                rx.flex(
                    rx.code(SettingsState.new_api_key, id="new-api-key", style={"word_break": "break-all"}),
                    rx.button(
                        rx.icon("copy", size=14, aria_hidden="true"),
                        "Copy",
                        size="1",
                        variant="soft",
                        color_scheme="green",
                        on_click=copy_text(SettingsState.new_api_key),
                    ),
                    align="center",
                    gap="2",
                    wrap="wrap",
                ),
                spacing="2",
                width="100%",
            ),
            icon="key-round",
            color_scheme="green",
            width="100%",
        ),
    )


def _api_keys_section() -> rx.Component:
    return settings_section(
        "API keys",
        "Scripts call /api/v1 with 'Authorization: Bearer <key>'. A key is shown once, when created.",
        rx.cond(
            SettingsState.api_keys.length() > 0,
            data_table(
                ["Name", "Key", "Last used", "State", ""],
                rx.foreach(SettingsState.api_keys, _api_key_row),
                label="API keys",
            ),
        ),
        _inline_form(
            _labelled(
                "Key name",
                "api-key-name",
                rx.input(
                    name="name",
                    placeholder="Key name, e.g. Terraform",
                    required=True,
                    max_length=limits.NAME,
                    width="100%",
                    **field_invalid_props(SettingsState.key_error, field_id="api-key-name"),
                ),
            ),
            button=rx.button("Create API key", type="submit", variant="soft"),
            on_submit=SettingsState.create_api_key,
        ),
        field_error(SettingsState.key_error, field_id="api-key-name"),
        _new_api_key(),
        section_id="api-keys",
    )


def settings_page() -> rx.Component:
    return page_shell(
        "Settings",
        settings_section(
            "Workspace",
            "Who your emails come from, the address in their footer, and where this app is reached.",
            rx.cond(SettingsState.loaded, _workspace_form(), rx.text("Loading settings…", size="2")),
            section_id="workspace",
        ),
        _status_section(),
        brand_section(),
        shared_blocks_section(),
        sending_section(),
        posthog_section(),
        posthog_access_section(),
        backfill_section(),
        posthog_pull_section(),
        cohorts_section(),
        quiet_hours_section(),
        settings_section("Sending reputation", "", reputation_settings(), section_id="reputation"),
        retention_section(),
        topics_section(),
        _users_section(),
        _password_section(),
        _api_keys_section(),
    )
