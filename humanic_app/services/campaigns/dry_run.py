"""Dry run: what would this campaign have sent over the last N days of stored events? Nothing is
written or sent. Runs in memory over the few event names the campaign cares about, so it takes
seconds even over hundreds of thousands of stored events.

Approximation, stated in the result: `person_property` conditions use each contact's current
properties, not their value at the time of each event.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Contact, Event, EventOutcome
from humanic_app.services.campaigns.conditions import failing_condition
from humanic_app.services.campaigns.schema import CampaignDocument, parse_duration, validate_document

MAX_LISTED = 200


@dataclasses.dataclass
class _Row:
    name: str
    contact_id: int
    time: datetime
    properties: dict[str, Any]


def _load(session: Session, names: set[str], since: datetime) -> list[_Row]:
    stmt = (select(Event.event_name, Event.contact_id, Event.timestamp, Event.payload)
            .where(col(Event.event_name).in_(names), Event.outcome == EventOutcome.processed,
                   Event.contact_id.is_not(None), Event.timestamp >= since))
    rows = []
    for name, contact_id, timestamp, payload in session.execute(stmt):
        event = (payload or {}).get("event") if isinstance((payload or {}).get("event"), dict) else payload or {}
        props = event.get("properties") if isinstance(event.get("properties"), dict) else {}
        rows.append(_Row(name, contact_id, timestamp, props))
    rows.sort(key=lambda r: r.time)
    return rows


def dry_run(*, session: Session, document: dict[str, Any], days: int = 30) -> dict[str, Any]:
    doc: CampaignDocument = validate_document(document)
    now = clock.now()
    since = now - timedelta(days=days)
    lookback = parse_duration(doc.trigger.within) if doc.trigger.within else timedelta(days=3650)
    names = {doc.trigger.event, *doc.exit_on} | ({doc.unless.event} if doc.unless else set())
    rows = _load(session, names, since - (lookback if doc.trigger.occurrence > 1 else timedelta(0)))
    by_contact: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        by_contact[row.contact_id].append(row)
    contact_ids = list({r.contact_id for r in rows if r.name == doc.trigger.event})
    contacts: dict[int, Contact] = {}
    for start in range(0, len(contact_ids), 500):
        chunk = contact_ids[start:start + 500]
        contacts.update({c.id: c for c in session.exec(select(Contact).where(col(Contact.id).in_(chunk)))})

    skipped: Counter[str] = Counter()
    emails: list[dict[str, Any]] = []
    enrolled_contacts: set[int] = set()
    per_step = Counter()
    for contact_id, history in by_contact.items():
        contact = contacts.get(contact_id)
        trigger_times: list[datetime] = []
        enrolments: list[tuple[datetime, datetime | None]] = []  # (start, end)
        for row in history:
            if row.name != doc.trigger.event:
                continue
            trigger_times.append(row.time)
            if row.time < since:
                continue
            if contact is None or not contact.email:
                skipped["contact has no email"] += 1
                continue
            if failing_condition(doc.trigger.where, row.properties, contact.properties):
                skipped["where clause failed"] += 1
                continue
            if doc.trigger.occurrence > 1 or doc.trigger.within:
                count = sum(1 for t in trigger_times if row.time - lookback <= t <= row.time)
                if count != doc.trigger.occurrence:
                    skipped[f"occurrence {min(count, doc.trigger.occurrence + 1)} of {doc.trigger.occurrence}"
                            if count <= doc.trigger.occurrence else "occurrence past the one that fires"] += 1
                    continue
            if doc.reentry == "once" and enrolments:
                skipped["re-entry blocked"] += 1
                continue
            if doc.reentry == "after_exit" and any(end is None or end > row.time for _, end in enrolments):
                skipped["re-entry blocked"] += 1
                continue
            if doc.unless and any(
                    r.name == doc.unless.event and row.time <= r.time <= row.time + parse_duration(doc.unless.within)
                    and all(r.properties.get(k) == row.properties.get(k) for k in doc.unless.match)
                    for r in history):
                skipped[f"cancelled by unless ({doc.unless.event})"] += 1
                enrolments.append((row.time, row.time))
                continue
            exit_time = next((r.time for r in history if r.name in doc.exit_on and r.time >= row.time), None)
            enrolments.append((row.time, exit_time))
            enrolled_contacts.add(contact_id)
            for index, step in enumerate(doc.steps):
                due = row.time + parse_duration(step.delay)
                if exit_time is not None and due > exit_time:
                    skipped["step after exit goal"] += 1
                    continue
                per_step[index] += 1
                emails.append({"contact_id": contact_id, "to": contact.email, "step": index,
                               "due_at": due.isoformat(), "already_due": due <= now})
    emails.sort(key=lambda e: e["due_at"])
    return {
        "days": days, "events_considered": len(rows), "contacts": len(enrolled_contacts), "emails": len(emails),
        "emails_per_step": [per_step.get(i, 0) for i in range(len(doc.steps))],
        "first_email_at": emails[0]["due_at"] if emails else None,
        "last_email_at": emails[-1]["due_at"] if emails else None,
        "not_sent": dict(skipped.most_common()), "sample": emails[:MAX_LISTED],
        "note": "person_property conditions are checked against each contact's current properties.",
    }
