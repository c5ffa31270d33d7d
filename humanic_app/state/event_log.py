"""Event Log: newest first, filters, keyset pages, live updates, and the detail of one delivery."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC

import reflex as rx

from humanic_app.models import EventOutcome
from humanic_app.services import contacts, event_log, sources, wording
from humanic_app.state.auth import AuthState, signed_in

PAGE_SIZE = 50


# A live tab says how many events streamed in at most this often, so a screen reader hears "240 new events"
# every few seconds rather than one announcement per row at hundreds of events a second.
ANNOUNCE_EVERY_SECONDS = 4.0
COUNT_CAP = 10_000


@dataclasses.dataclass(frozen=True)
class EventRow:
    id: str
    time: str  # ISO 8601 in UTC, for the browser's relative "2 minutes ago"
    time_full: str  # what hovering the relative time shows
    source: str
    event: str
    contact: str
    contact_id: str
    outcome: str
    reason: str
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
    received = event.received_at.astimezone(UTC) if event.received_at.tzinfo else event.received_at
    return EventRow(
        id=str(event.id),
        time=received.strftime("%Y-%m-%dT%H:%M:%SZ"),
        time_full=received.strftime("%Y-%m-%d %H:%M:%S UTC"),
        source=source_names.get(event.source_id, "—"),
        event=event.event_name or "—",
        contact=(event.mapped or {}).get("email") or event.distinct_id or "—",
        contact_id=str(event.contact_id or ""),
        outcome=event.outcome.value,
        reason=event.reason or "",
        outcome_label=event_log.outcome_label(event),
    )


def new_events_summary(count: int) -> str:
    """What the live region says about a burst: '1 new event', '240 new events', '10000+ new events'."""
    return f"{COUNT_CAP}+ new events" if count >= COUNT_CAP else wording.plural(count, "new event")


class EventLogState(AuthState):
    rows: list[EventRow] = []
    source_options: list[SourceOption] = []
    filter_source: str = "all"
    filter_event: str = ""
    filter_outcome: str = "all"
    filter_contact: str = ""
    _filters_for: str = ""  # the sign-in the filters were set under
    filters_replaced: int = 0  # bumped when the state sets the filters itself, so the typed fields show them
    live: bool = True
    older_cursor: int = 0  # the last row's id while older events exist, else 0
    newer_cursor: int = 0  # the first row's id while the page shown is not the newest, else 0
    detail: dict[str, str] = {}
    detail_open: bool = False
    decisions: list[DecisionRow] = []
    error: str = ""
    live_summary: str = ""  # the live region's text: the latest throttled summary of what streamed in
    announcements: int = 0  # counts summaries, so a repeated "12 new events" is a new node, read again
    _newest_id: int = 0
    _unannounced: int = 0
    _announced_at: float = 0.0

    @rx.var
    def filtered(self) -> bool:
        return (
            self.filter_source != "all"
            or self.filter_outcome != "all"
            or bool(self.filter_event.strip())
            or bool(self.filter_contact.strip())
        )

    @rx.var
    def empty_reason(self) -> str:
        return empty_situation(filtered=self.filtered, has_sources=bool(self.source_options))

    def _filters(self, session) -> dict | None:
        """The service's filters from the page's; None when the contact asked for is unknown (which says so)."""
        contact_id = None
        if self.filter_contact.strip():
            contact = contacts.find_contact(session=session, key=self.filter_contact)
            if contact is None:
                self.error = f"No contact has the id, email or distinct_id “{self.filter_contact.strip()}”."
                return None
            contact_id = contact.id
        return {
            "source_id": int(self.filter_source) if self.filter_source not in ("all", "") else None,
            "event_name": self.filter_event.strip() or None,
            "outcome": self.filter_outcome if self.filter_outcome not in ("all", "") else None,
            "contact_id": contact_id,
        }

    def _query(self, session, fetch=event_log.list_events, **extra) -> list[EventRow]:
        """The rows the filters select; an unknown contact in the filter selects none and says so."""
        self.error = ""
        names = {s.id: sources.label(s) for s in sources.list_sources(session=session, include_deleted=True)}
        self.source_options = [SourceOption(id=str(k), name=v) for k, v in names.items()]
        filters = self._filters(session)
        if filters is None:
            return []
        return [_row(e, names) for e in fetch(session=session, **filters, **extra)]

    def _show_page(self, rows: list[EventRow], *, newest: bool) -> None:
        self.rows = rows
        self.older_cursor = int(rows[-1].id) if len(rows) == PAGE_SIZE else 0
        self.newer_cursor = 0 if newest or not rows else int(rows[0].id)

    def _first_page(self) -> None:
        with self._service_call("error") as session:
            rows = self._query(session, limit=PAGE_SIZE)
            self._show_page(rows, newest=True)
            self._newest_id = int(rows[0].id) if rows else self._newest_id

    def _filters_from_address(self) -> bool:
        """/events?outcome=rejected (a finding's link), ?contact=… (a contact's events), ?event=…, ?source=…:
        the address's filters replace the page's. False when the address names none."""
        params = self.router.page.params
        if not any(params.get(k) for k in ("source", "event", "outcome", "contact")):
            return False
        outcome = params.get("outcome", "")
        self.filter_source = params.get("source", "") or "all"
        self.filter_event = params.get("event", "")
        self.filter_outcome = outcome if outcome in OUTCOMES else "all"
        self.filter_contact = params.get("contact", "")
        self.filters_replaced += 1
        return True

    def _reset_filters(self) -> None:
        """A remount wipes what is typed while the page loads, so the fields remount only when a filter changes."""
        cleared = ("all", "", "all", "")
        if (self.filter_source, self.filter_event, self.filter_outcome, self.filter_contact) != cleared:
            self.filter_source, self.filter_event, self.filter_outcome, self.filter_contact = cleared
            self.filters_replaced += 1

    @rx.event
    @signed_in
    def load(self):
        if self._new_sign_in("_filters_for"):
            self._reset_filters()
        if self._filters_from_address():
            self.live = True
        self.live_summary, self._unannounced = "", 0
        self._first_page()

    @rx.event
    @signed_in
    def apply_filters(self, form: dict):
        self.filter_event = form.get("event", "")
        self.filter_contact = form.get("contact", "")
        self._first_page()

    @rx.event
    @signed_in
    def clear_filters(self):
        self._reset_filters()
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
        self.live = False  # a page back in history stays still while reading it
        self._show_page(rows, newest=False)

    @rx.event
    @signed_in
    def newer(self):
        with self._service_call() as session:  # one row more than a page says whether a newer page remains
            rows = self._query(session, fetch=event_log.newer_page, limit=PAGE_SIZE + 1, after_id=self.newer_cursor)
        if len(rows) <= PAGE_SIZE:
            self._first_page()  # nothing newer beyond this page: it is the newest page, live again if switched on
        else:
            self._show_page(rows[1:], newest=False)

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
        if not self.live or self.newer_cursor:
            return
        before = self._newest_id
        if any(r.outcome == "pending" for r in self.rows):
            self._first_page()  # outcomes shown are about to change: reload the page rather than append
        else:
            with self._service_call() as session:
                fresh = (
                    self._query(session, limit=PAGE_SIZE, after_id=before)
                    if before
                    else self._query(session, limit=PAGE_SIZE)
                )
            if fresh:
                self._newest_id = int(fresh[0].id)
                self._show_page((fresh + self.rows)[:PAGE_SIZE], newest=True)
        if self._newest_id > before:
            self._count_arrivals(before)
        self._announce()

    def _count_arrivals(self, after_id: int) -> None:
        with self._service_call() as session:
            filters = self._filters(session)
            if filters is not None:
                self._unannounced += event_log.count_newer(session=session, after_id=after_id, cap=COUNT_CAP, **filters)

    def _announce(self) -> None:
        """The live region's text changes at most once per ANNOUNCE_EVERY_SECONDS, summing what arrived since."""
        now = time.time()  # wall time: a tab's state may be handled by another worker process next
        if self._unannounced and now - self._announced_at >= ANNOUNCE_EVERY_SECONDS:
            self.live_summary = new_events_summary(min(self._unannounced, COUNT_CAP))
            self.announcements += 1
            self._unannounced, self._announced_at = 0, now

    @rx.event
    @signed_in
    def open_detail(self, event_id: str):
        with self._service_call() as session:
            event = event_log.get_event(session=session, event_id=int(event_id))
            names = {s.id: sources.label(s) for s in sources.list_sources(session=session, include_deleted=True)}
        pruned = event_log.pruned_note(event)
        self.detail = {
            **dataclasses.asdict(_row(event, names)),
            "payload": pruned or json.dumps(event.payload, indent=2, default=str),
            "headers": pruned or json.dumps(event.headers, indent=2),
            "mapped": pruned or (json.dumps(event.mapped, indent=2, default=str) if event.mapped else "not mapped yet"),
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


def empty_situation(*, filtered: bool, has_sources: bool) -> str:
    """Why the Event Log shows no row: the filters match nothing, no source is connected yet, or a source is
    waiting for its first delivery. Each reads differently and offers a different way on."""
    if filtered:
        return "no_match"
    return "waiting" if has_sources else "not_connected"
