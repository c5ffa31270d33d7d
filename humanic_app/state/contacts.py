"""Contacts: search, and one contact's properties, distinct_ids and event timeline."""

from __future__ import annotations

import json

import reflex as rx

from humanic_app.db import session_scope
from humanic_app.services import contacts, event_log
from humanic_app.services.errors import NotFound
from humanic_app.state.auth import AuthState, signed_in

PAGE_SIZE = 50


class ContactsState(AuthState):
    query: str = ""
    rows: list[dict[str, str]] = []
    older_cursor: int = 0
    selected: dict[str, str] = {}
    selected_ids: list[str] = []
    timeline: list[dict[str, str]] = []

    def _search(self, before_id: int | None = None) -> None:
        with session_scope() as session:
            found = contacts.search_contacts(session=session, query=self.query, limit=PAGE_SIZE, before_id=before_id)
            self.rows = [{"id": str(c.id), "email": c.email or "—", "name": c.name or "",
                          "updated": c.updated_at.strftime("%Y-%m-%d %H:%M")} for c in found]
        self.older_cursor = found[-1].id if len(found) == PAGE_SIZE else 0

    @rx.event
    @signed_in
    def load(self):
        self.selected, self.timeline, self.selected_ids = {}, [], []
        self._search()

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
    def open_contact(self, contact_id: str):
        with session_scope() as session:
            try:
                contact = contacts.get_contact(session=session, contact_id=int(contact_id))
            except NotFound:
                self.selected = {}
                return
            data = contacts.contact_as_dict(session=session, contact=contact, with_identities=True)
            events = event_log.list_events(session=session, contact_id=contact.id, limit=100)
        self.selected = {"id": str(data["id"]), "email": data["email"] or "—", "name": data["name"],
                         "created": data["created_at"][:19].replace("T", " "),
                         "subscription": f"Unsubscribed {data['unsubscribed_at'][:16].replace('T', ' ')}"
                         if data["unsubscribed_at"] else "Subscribed",
                         "properties": json.dumps(data["properties"], indent=2, default=str)}
        self.selected_ids = data["distinct_ids"] + [f"person:{p}" for p in data["person_ids"]]
        self.timeline = [{"id": str(e.id), "event": e.event_name or "—",
                          "time": (e.timestamp or e.received_at).strftime("%Y-%m-%d %H:%M:%S"),
                          "outcome": event_log.outcome_label(e)} for e in events]
