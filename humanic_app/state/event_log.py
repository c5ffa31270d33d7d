"""Event Log: newest first, filters, keyset pages, live updates, and the detail of one delivery."""

from __future__ import annotations

import dataclasses
import json

import reflex as rx

from humanic_app.models import EventOutcome
from humanic_app.services import contacts, event_log, sources
from humanic_app.state.auth import AuthState, signed_in

PAGE_SIZE = 50


@dataclasses.dataclass(frozen=True)
class EventRow:
    id: str
    time: str
    source: str
    event: str
    contact: str
    contact_id: str
    outcome: str
    outcome_label: str


@dataclasses.dataclass(frozen=True)
class SourceOption:
    id: str
    name: str


@dataclasses.dataclass(frozen=True)
class DecisionRow:
    campaign: str
    fired: str
    reason: str


def _row(event, source_names: dict[int | None, str]) -> EventRow:
    return EventRow(
        id=str(event.id),
        time=event.received_at.strftime("%Y-%m-%d %H:%M:%S"),
        source=source_names.get(event.source_id, "—"),
        event=event.event_name or "—",
        contact=(event.mapped or {}).get("email") or event.distinct_id or "—",
        contact_id=str(event.contact_id or ""),
        outcome=event.outcome.value,
        outcome_label=event_log.outcome_label(event),
    )


class EventLogState(AuthState):
    rows: list[EventRow] = []
    source_options: list[SourceOption] = []
    filter_source: str = "all"
    filter_event: str = ""
    filter_outcome: str = "all"
    filter_contact: str = ""
    _filters_for: str = ""  # the sign-in the filters were set under
    live: bool = True
    older_cursor: int = 0
    detail: dict[str, str] = {}
    detail_open: bool = False
    decisions: list[DecisionRow] = []
    error: str = ""
    _newest_id: int = 0

    def _query(self, session, **extra) -> list[EventRow]:
        """The rows the filters select; an unknown contact in the filter selects none and says so."""
        self.error = ""
        names = {s.id: sources.label(s) for s in sources.list_sources(session=session, include_deleted=True)}
        self.source_options = [SourceOption(id=str(k), name=v) for k, v in names.items()]
        contact_id = None
        if self.filter_contact.strip():
            contact = contacts.find_contact(session=session, key=self.filter_contact)
            if contact is None:
                self.error = f"No contact has the id, email or distinct_id “{self.filter_contact.strip()}”."
                return []
            contact_id = contact.id
        rows = event_log.list_events(
            session=session,
            source_id=int(self.filter_source) if self.filter_source != "all" else None,
            event_name=self.filter_event.strip() or None,
            outcome=self.filter_outcome if self.filter_outcome != "all" else None,
            contact_id=contact_id,
            **extra,
        )
        return [_row(e, names) for e in rows]

    def _first_page(self) -> None:
        with self._service_call("error") as session:
            rows = self._query(session, limit=PAGE_SIZE)
            self.rows = rows
            self._newest_id = int(rows[0].id) if rows else self._newest_id
            self.older_cursor = int(rows[-1].id) if len(rows) == PAGE_SIZE else 0

    @rx.event
    @signed_in
    def load(self):
        if self._new_sign_in("_filters_for"):
            self.filter_source, self.filter_event, self.filter_outcome, self.filter_contact = "all", "", "all", ""
        self.filter_contact = self.router.page.params.get("contact", "") or self.filter_contact
        self._first_page()

    @rx.event
    @signed_in
    def apply_filters(self, form: dict):
        self.filter_event = form.get("event", "")
        self.filter_contact = form.get("contact", "")
        self._first_page()

    @rx.event
    @signed_in
    def set_source_filter(self, value: str):
        self.filter_source = value
        self._first_page()

    @rx.event
    @signed_in
    def set_outcome_filter(self, value: str):
        self.filter_outcome = value
        self._first_page()

    @rx.event
    @signed_in
    def newest(self):
        self._first_page()

    @rx.event
    @signed_in
    def older(self):
        with self._service_call() as session:
            rows = self._query(session, limit=PAGE_SIZE, before_id=self.older_cursor)
        self.rows = rows
        self.live = False
        self.older_cursor = int(rows[-1].id) if len(rows) == PAGE_SIZE else 0

    @rx.event
    @signed_in
    def toggle_live(self, live: bool):
        self.live = live
        if live:
            self._first_page()

    @rx.event
    @signed_in
    def poll(self, _tick: str = ""):
        """Each open tab asks for rows newer than the newest it shows: one indexed query per tick, bounded."""
        if not self.live:
            return
        if any(r.outcome == "pending" for r in self.rows):
            self._first_page()  # outcomes shown are about to change: reload the page rather than append
            return
        with self._service_call() as session:
            fresh = (
                self._query(session, limit=PAGE_SIZE, after_id=self._newest_id)
                if self._newest_id
                else self._query(session, limit=PAGE_SIZE)
            )
        if fresh:
            self._newest_id = int(fresh[0].id)
            self.rows = (fresh + self.rows)[:PAGE_SIZE]

    @rx.event
    @signed_in
    def open_detail(self, event_id: str):
        with self._service_call() as session:
            event = event_log.get_event(session=session, event_id=int(event_id))
            names = {s.id: sources.label(s) for s in sources.list_sources(session=session, include_deleted=True)}
        self.detail = {
            **dataclasses.asdict(_row(event, names)),
            "payload": json.dumps(event.payload, indent=2, default=str),
            "headers": json.dumps(event.headers, indent=2),
            "reason": event.reason,
            "mapped": json.dumps(event.mapped, indent=2, default=str) if event.mapped else "not mapped yet",
        }
        self.decisions = [
            DecisionRow(
                campaign=d.get("campaign", ""),
                fired="fired" if d.get("fired") else "not fired",
                reason=d.get("reason", ""),
            )
            for d in (event.decisions or [])
        ]
        self.detail_open = True

    @rx.event
    def close_detail(self):
        self.detail_open = False


OUTCOMES = ["all"] + [o.value for o in EventOutcome]
