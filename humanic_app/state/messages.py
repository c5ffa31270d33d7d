"""Messages page: the outbox, each email viewable as the recipient sees it."""

from __future__ import annotations

import dataclasses

import reflex as rx

from humanic_app.models import MessageStatus
from humanic_app.services import outbox
from humanic_app.services.delivery import messages
from humanic_app.services.sending import credentials
from humanic_app.state.auth import AuthState, signed_in

STATUSES = ["all"] + [s.value for s in MessageStatus]
SENT_VIA = {"local": "Local outbox", "resend": "Resend"}


@dataclasses.dataclass(frozen=True)
class MessageRow:
    id: str
    recipient: str  # not `to`: a row var's `.to` is Reflex's own cast method
    status: str
    due: str
    subject: str  # empty until it is rendered, at send time
    campaign: str  # the campaign's name; empty for a test send or a deleted campaign
    step: str
    test: str
    error: str


@dataclasses.dataclass(frozen=True)
class DetailRow:
    label: str
    value: str


@dataclasses.dataclass(frozen=True)
class DeliveryEventRow:
    type: str
    at: str


def _when(iso: str | None) -> str:
    return (iso or "")[:16].replace("T", " ")


def detail_rows(data: dict, campaign: str) -> list[DetailRow]:
    """What is known about one message, in reading order; a value not known yet (a scheduled email has no
    sender, provider id or send time) is left out rather than shown as an empty label."""
    step = f"step {int(data['step']) + 1}"
    pairs = [
        ("From", data.get("from") or ""),
        ("Campaign", f"{campaign} · {step}" if campaign else "Test send" if data["is_test"] else ""),
        ("Due (UTC)", _when(data["due_at"]) if data["status"] != "sent" else ""),
        ("Sent (UTC)", _when(data["sent_at"])),
        ("Sent via", SENT_VIA.get(data.get("sent_via") or "", data.get("sent_via") or "")),
        ("Provider id", data["provider_message_id"] or ""),
        ("Attempts", str(data["attempts"]) if data["attempts"] else ""),
    ]
    return [DetailRow(label=label, value=value) for label, value in pairs if value]


class MessagesState(AuthState):
    rows: list[MessageRow] = []
    filter_status: str = "all"
    filter_to: str = ""
    _filters_for: str = ""  # the sign-in the filters were set under
    filters_replaced: int = 0  # bumped when the state sets the filters itself, so the typed field shows them
    selected: dict[str, str] = {}
    selected_details: list[DetailRow] = []
    selected_events: list[DeliveryEventRow] = []
    local_outbox: bool = True
    error: str = ""

    def _refresh(self) -> None:
        with self._service_call() as session:
            self.local_outbox = not credentials.in_effect(session=session).configured
            rows = messages.list_messages(
                session=session,
                status=None if self.filter_status == "all" else self.filter_status,
                to=self.filter_to or None,
                limit=100,
            )
            names = messages.campaign_names(session=session, messages=rows)
            self.rows = [
                MessageRow(
                    id=str(m.id),
                    recipient="(erased)" if m.erased else m.to_email,
                    status=m.status.value,
                    due=m.due_at.strftime("%Y-%m-%d %H:%M"),
                    subject=m.subject,
                    campaign=names.get(m.campaign_id or 0, ""),
                    step=str(m.step_index + 1),
                    test="test" if m.is_test else "",
                    error=m.last_error,
                )
                for m in rows
            ]

    @rx.event
    @signed_in
    def load(self):
        # Remount the field only when there is a filter to clear: a remount wipes what is typed while the
        # page loads.
        if self._new_sign_in("_filters_for") and (self.filter_status, self.filter_to) != ("all", ""):
            self.filter_status, self.filter_to = "all", ""
            self.filters_replaced += 1
        self.selected, self.selected_details, self.selected_events, self.error = {}, [], [], ""
        self._refresh()

    @rx.event
    @signed_in
    def refresh(self, _tick: str = ""):
        self._refresh()

    @rx.event
    @signed_in
    def set_status_filter(self, value: str):
        self.filter_status = value
        self._refresh()

    @rx.event
    @signed_in
    def search(self, form: dict):
        self.filter_to = (form.get("to") or "").strip().lower()
        self._refresh()

    @rx.event
    @signed_in
    def open_message(self, message_id: str, is_open: bool = True):
        """The row's dialog opened (or closed: nothing to load)."""
        if not is_open:
            return
        with self._service_call() as session:
            message = messages.get_message(session=session, message_id=int(message_id))
            data = messages.message_as_dict(message, full=True)
            campaign = messages.campaign_names(session=session, messages=[message]).get(message.campaign_id or 0, "")
            events = messages.delivery_events(session=session, message_id=int(message_id))
        self.selected = {k: "" if v is None else str(v) for k, v in data.items()}
        self.selected_details = detail_rows(data, campaign)
        self.selected_events = [
            DeliveryEventRow(type=e["type"], at=e["occurred_at"][:19].replace("T", " ")) for e in events
        ]

    @rx.event
    @signed_in
    def act(self, message_id: str, action: str):
        with self._service_call("error", then=self._refresh) as session:
            if action == "cancel":
                outbox.cancel(session=session, message_id=int(message_id))
            else:  # "send_anew": the person checked Resend's log for an email that may have been sent
                outbox.retry(session=session, message_id=int(message_id), confirm=action == "send_anew")
