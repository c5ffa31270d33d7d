"""Settings page: workspace identity and status, teammates, API keys."""

from __future__ import annotations

import dataclasses

import reflex as rx

from humanic_app.services import auth, workspace
from humanic_app.state.auth import AuthState, field_messages, signed_in


@dataclasses.dataclass(frozen=True)
class UserRow:
    email: str
    role: str
    note: str


@dataclasses.dataclass(frozen=True)
class ApiKeyRow:
    id: str
    name: str
    prefix: str
    state: str
    last_used: str


def _password_form_fields(errors: dict[str, str]) -> dict[str, str]:
    """The service names the new password `password`; the form calls it `new_password`."""
    return {
        "new_password" if field == "password" else field or "current_password": msg for field, msg in errors.items()
    }


def _password_form_errors(exc) -> dict[str, str]:
    return _password_form_fields(field_messages(exc))


def _said(exc) -> str:
    """A refusal's messages without the field names they are keyed by."""
    return " ".join(field_messages(exc).values())


class SettingsState(AuthState):
    name: str = ""
    from_name: str = ""
    from_email: str = ""
    physical_address: str = ""
    public_url: str = ""
    status: str = "active"
    frequency_cap: str = "3"
    timezone: str = "UTC"
    settings_errors: dict[str, str] = {}  # by workspace field, each shown at its input
    key_error: str = ""
    saved_message: str = ""
    users: list[UserRow] = []
    api_keys: list[ApiKeyRow] = []
    new_api_key: str = ""
    invite_message: str = ""
    invite_error: str = ""
    password_errors: dict[str, str] = {}  # by field of the password form
    password_saved: str = ""
    loaded: bool = False  # the form shows once it holds the saved values: typing earlier would be wiped

    def _refresh(self) -> None:
        with self._service_call() as session:
            data = workspace.workspace_as_dict(workspace.get_workspace(session=session))
            self.users = [
                UserRow(email=u.email, role=u.role.value, note="must change password" if u.must_change_password else "")
                for u in auth.list_users(session=session)
            ]
            self.api_keys = [
                ApiKeyRow(
                    id=str(k.id),
                    name=k.name,
                    prefix=k.prefix + "…",
                    state="revoked" if k.revoked_at else "active",
                    last_used=k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "never",
                )
                for k in auth.list_api_keys(session=session)
            ]
        for key, value in data.items():
            setattr(self, key, str(value) if key == "frequency_cap" else value)
        self.workspace_paused = self.status == "paused"

    @rx.event
    @signed_in
    def load(self):
        self.key_error = self.saved_message = self.new_api_key = self.invite_message = self.invite_error = ""
        self.password_saved = ""
        self.password_errors, self.settings_errors = {}, {}
        self._refresh()
        self.loaded = True

    @rx.event
    @signed_in
    def save(self, form: dict):
        changes = {
            k: form.get(k, "")
            for k in ("name", "from_name", "from_email", "physical_address", "public_url", "frequency_cap", "timezone")
        }
        self.saved_message = ""
        with self._service_call("settings_errors", then=self._refresh, words=field_messages) as session:
            workspace.update_workspace(session=session, changes=changes)
            self.saved_message = "Settings saved."

    @rx.event
    @signed_in
    def change_password(self, form: dict):
        self.password_saved = ""
        if form.get("new_password") != form.get("new_password_confirm"):
            self.password_errors = {"new_password_confirm": "The two new passwords differ."}
            return
        principal = self._principal()
        if principal is None or principal.user_id is None:  # an API key has no password
            return
        with self._service_call("password_errors", words=_password_form_errors) as session:
            change = auth.change_password(
                session=session,
                user_id=principal.user_id,
                current_password=form.get("current_password", ""),
                new_password=form.get("new_password", ""),
                keep_token=self.session_token,
            )
            if change.errors:
                self.password_errors = _password_form_fields(change.errors)
                return
            ended = change.other_sessions_ended
            self.password_saved = "Password changed." + (
                f" Signed out {ended} other session{'s' if ended != 1 else ''}." if ended else ""
            )

    @rx.event
    @signed_in
    def resume_sending(self):
        with self._service_call(then=self._refresh) as session:
            workspace.resume_sending(session=session)

    @rx.event
    @signed_in
    def set_paused(self, paused: bool):
        with self._service_call(then=self._refresh) as session:
            workspace.update_workspace(session=session, changes={"status": "paused" if paused else "active"})

    @rx.event
    @signed_in
    def invite(self, form: dict):
        self.invite_message = ""
        with self._service_call("invite_error", then=self._refresh, words=_said) as session:
            inviter = self._principal()
            assert inviter is not None  # @signed_in let the call through
            auth.invite_user(
                session=session,
                inviter=inviter,
                email=form.get("email", ""),
                temporary_password=form.get("temporary_password", ""),
            )
            self.invite_message = (
                f"Invited {form.get('email', '').strip().lower()}. Share the temporary password privately."
            )

    @rx.event
    @signed_in
    def create_api_key(self, form: dict):
        self.new_api_key = ""
        with self._service_call("key_error", then=self._refresh, words=_said) as session:
            _, self.new_api_key = auth.create_api_key(session=session, name=form.get("name", ""))

    @rx.event
    @signed_in
    def revoke_api_key(self, api_key_id: str):
        with self._service_call(then=self._refresh) as session:
            auth.revoke_api_key(session=session, api_key_id=int(api_key_id))
