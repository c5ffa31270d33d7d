"""Settings → Sending: connect Resend with an API key (write-only), test it, register Humanic's webhook,
remove the key. The pasted key passes through a handler's argument only: no state field ever holds it."""

from __future__ import annotations

import reflex as rx

from humanic_app.services.errors import ValidationFailed
from humanic_app.services.sending import connection
from humanic_app.state.auth import AuthState, field_messages, signed_in

_SOURCE_WORDS = {
    "environment": "from the server's environment (RESEND_API_KEY)",
    "stored": "set on this page",
    "none": "",
}
_ACCESS_WORDS = {"full": "Full access", "sending": "Sending only", "unknown": "Not tested yet"}


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _said(exc) -> str:
    return " ".join(field_messages(exc).values())


class SendingState(AuthState):
    sending_loaded: bool = False
    mode: str = "local_outbox"
    key_source: str = "none"
    key_source_words: str = ""
    key_set_at: str = ""
    key_access: str = "Not tested yet"
    webhook_endpoint: str = ""
    webhook_registered_at: str = ""
    can_edit: bool = False
    notes: list[str] = []
    key_error: str = ""  # why a pasted key was refused, shown at the field
    done: str = ""  # what the last action did
    refused: str = ""  # why the last action (other than saving a key) did nothing
    webhook_problem: str = ""  # why the webhook is not registered, with what to do instead

    def _refresh_sending(self) -> None:
        with self._service_call() as session:
            found = connection.status(session=session)
        self.mode = found.mode
        self.key_source = found.api_key_source.value
        self.key_source_words = _SOURCE_WORDS[self.key_source]
        self.key_set_at = _when(found.api_key_set_at)
        self.key_access = _ACCESS_WORDS[found.key_access.value]
        self.webhook_endpoint = found.webhook_endpoint
        self.webhook_registered_at = _when(found.webhook_registered_at)
        self.can_edit = found.can_edit
        self.notes = found.notes
        self.sending_loaded = True

    def _show(self, message: str, ok: bool) -> None:
        self.done, self.refused = (message, "") if ok else ("", message)

    @rx.event
    @signed_in
    def load_sending(self):
        self.key_error = self.done = self.refused = self.webhook_problem = ""
        self._refresh_sending()

    @rx.event
    @signed_in
    def save_key(self, form: dict):
        self.done = self.refused = self.webhook_problem = ""
        with self._service_call("key_error", then=self._refresh_sending, words=_said) as session:
            tested, problem = connection.connect(session=session, api_key=str(form.get("api_key", "")))
            self._show("Key saved. " + tested.message, ok=True)
            self.webhook_problem = problem or ""

    @rx.event
    @signed_in
    def test_connection(self):
        self.key_error = ""
        try:
            with self._service_call(then=self._refresh_sending) as session:
                tested = connection.test_connection(session=session)
        except ValidationFailed as exc:
            self._show(_said(exc), ok=False)
            return
        self._show(tested.message, ok=tested.outcome.value in ("full", "sending"))

    @rx.event
    @signed_in
    def register_webhook(self):
        self.done = self.refused = ""
        with self._service_call(then=self._refresh_sending) as session:
            problem = connection.register_webhook(session=session)
        self.webhook_problem = problem or ""
        if not problem:
            self._show("Webhook registered: Resend's delivery events now reach Humanic.", ok=True)

    @rx.event
    @signed_in
    def remove_key(self):
        self.webhook_problem = ""
        try:
            with self._service_call(then=self._refresh_sending) as session:
                connection.disconnect(session=session)
        except ValidationFailed as exc:
            self._show(_said(exc), ok=False)
            return
        self._show("Key removed: emails now go to the local outbox and nothing leaves this machine.", ok=True)
