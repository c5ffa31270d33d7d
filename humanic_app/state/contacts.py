"""Contacts: search, and one contact's properties, distinct_ids and event timeline."""

from __future__ import annotations

import dataclasses
import json

import reflex as rx

from humanic_app.models import SuppressionReason
from humanic_app.models.rows import id_of
from humanic_app.services import contacts, event_log, suppression
from humanic_app.services.errors import NotFound
from humanic_app.services.posthog import writeback
from humanic_app.state.auth import AuthState, signed_in
from humanic_app.state.topics import TopicsState

PAGE_SIZE = 50


@dataclasses.dataclass(frozen=True)
class ContactRow:
    id: str
    email: str
    name: str
    updated: str


@dataclasses.dataclass(frozen=True)
class TimelineRow:
    id: str
    event: str
    time: str
    outcome: str


@dataclasses.dataclass(frozen=True)
class WrittenRow:
    """An event Humanic wrote (or will write) to PostHog about the contact."""

    event: str
    time: str
    state: str


@dataclasses.dataclass(frozen=True)
class SuppressionRow:
    email: str
    reason: str
    note: str
    created_at: str


class ContactsState(AuthState):
    query: str = ""
    _search_for: str = ""  # the sign-in the search was typed under
    search_replaced: int = 0  # bumped when the state sets the search itself, so the typed field shows it
    rows: list[ContactRow] = []
    older_cursor: int = 0
    selected: dict[str, str] = {}
    selected_ids: list[str] = []
    timeline: list[TimelineRow] = []
    written_back: list[WrittenRow] = []
    suppressions: list[SuppressionRow] = []
    suppression_message: str = ""

    def _search(self, before_id: int | None = None) -> None:
        with self._service_call() as session:
            found = contacts.search_contacts(session=session, query=self.query, limit=PAGE_SIZE, before_id=before_id)
            self.rows = [
                ContactRow(
                    id=str(c.id),
                    email=c.email or "—",
                    name=c.name or "",
                    updated=c.updated_at.strftime("%Y-%m-%d %H:%M"),
                )
                for c in found
            ]
        self.older_cursor = id_of(found[-1]) if len(found) == PAGE_SIZE else 0

    def _load_suppressions(self) -> None:
        with self._service_call() as session:
            self.suppressions = [
                SuppressionRow(
                    email=r.email,
                    reason=r.reason.value,
                    note=r.note,
                    created_at=r.created_at.strftime("%Y-%m-%d %H:%M"),
                )
                for r in suppression.list_all(session=session, limit=200)
            ]

    @rx.event
    @signed_in
    def load(self):
        # Remount the field only when there is a search to clear: a remount wipes what is typed while the
        # page loads.
        if self._new_sign_in("_search_for") and self.query:
            self.query = ""
            self.search_replaced += 1
        self.selected, self.timeline, self.selected_ids, self.suppression_message = {}, [], [], ""
        self.written_back = []
        self._search()
        self._load_suppressions()

    @rx.event
    @signed_in
    def suppress(self, form: dict):
        with self._service_call("suppression_message", then=self._load_suppressions) as session:
            suppression.add(
                session=session, email=form.get("email", ""), reason=SuppressionReason.manual, note=form.get("note", "")
            )

    @rx.event
    @signed_in
    def unsuppress(self, email: str):
        with self._service_call(then=self._load_suppressions) as session:
            suppression.remove(session=session, email=email)

    @rx.event
    @signed_in
    def search(self, form: dict):
        self.query = form.get("q", "")
        self._search()

    @rx.event
    @signed_in
    def older(self):
        self._search(before_id=self.older_cursor)

    @rx.event
    @signed_in
    def open_contact(self, contact_id: str, is_open: bool = True):
        """The row's dialog opened (or closed: nothing to load)."""
        if not is_open:
            return
        with self._service_call() as session:
            try:
                contact = contacts.get_contact(session=session, contact_id=int(contact_id))
            except NotFound:  # gone since the list was drawn: show no contact rather than fail
                self.selected = {}
                return
            data = contacts.contact_as_dict(session=session, contact=contact, with_identities=True)
            suppressed = suppression.is_suppressed(session=session, email=contact.email or "")
            events = event_log.list_events(session=session, contact_id=contact.id, limit=100)
            written = writeback.for_contact(session=session, contact_id=contact.id or 0)
        self.selected = {
            "id": str(data["id"]),
            "email": data["email"] or "—",
            "name": data["name"],
            "created": data["created_at"][:16].replace("T", " "),
            "subscription": f"Suppressed: {suppressed.reason.value}"
            if suppressed
            else f"Unsubscribed {data['unsubscribed_at'][:16].replace('T', ' ')}"
            if data["unsubscribed_at"]
            else "Subscribed",
            "properties": json.dumps(data["properties"], indent=2, default=str),
        }
        self.selected_ids = data["distinct_ids"] + [f"person:{p}" for p in data["person_ids"]]
        self.timeline = [
            TimelineRow(
                id=str(e.id),
                event=e.event_name or "—",
                time=(e.timestamp or e.received_at).strftime("%Y-%m-%d %H:%M:%S"),
                outcome=event_log.outcome_label(e),
            )
            for e in events
        ]
        self.written_back = [WrittenRow(w.event, w.at.strftime("%Y-%m-%d %H:%M:%S"), w.state) for w in written]
        return TopicsState.load_contact_topics(self.selected["id"])  # the dialog's Topics section
