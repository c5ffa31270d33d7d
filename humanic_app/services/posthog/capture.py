"""Enqueueing engagement for PostHog: one capture row per fact, inserted in the caller's transaction (the
one that records the fact), so a fact and its capture commit or vanish together.

Stand-alone on purpose: the dispatcher, Resend's delivery events, unsubscribes and the campaign engine all
call `enqueue`, so it imports nothing of theirs (only models), and any layer may call it.

Each row's uuid is uuid5 of the fact ("sent:<message id>", "resend:<svix id>", "enrolled:<enrolment id>"…):
enqueueing the same fact again inserts nothing, and PostHog, which deduplicates events on their uuid,
counts a batch sent twice (a crash between its call and marking it) once."""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from humanic_app import clock
from humanic_app.models import PosthogCapture, PosthogConnection
from humanic_app.models.rows import table_of

CONNECTION_ROW = 1
NAMESPACE = uuid.UUID("5d0f6a3e-8a43-4f0e-9a53-6b7f1c2d9e10")  # Humanic's: uuid5(NAMESPACE, fact)
MARKER = "humanic_writeback"  # on every event written: the webhook drops events carrying it (loop safety)

# kind → the event name written to PostHog. Humanic's own names, lower case with spaces like PostHog's
# product events; PostHog's `$workflows_*` names belong to its own messaging product.
EVENTS: dict[str, str] = {
    "email_sent": "humanic email sent",
    "email_delivered": "humanic email delivered",
    "email_opened": "humanic email opened",
    "email_clicked": "humanic email clicked",
    "email_bounced": "humanic email bounced",
    "email_complained": "humanic email complained",
    "unsubscribed": "humanic unsubscribed",
    "resubscribed": "humanic resubscribed",
    "campaign_enrolled": "humanic campaign enrolled",
    "campaign_exited": "humanic campaign exited",
    "campaign_goal_reached": "humanic campaign goal reached",
}
KINDS = tuple(EVENTS)
RESEND_KINDS = {f"email.{kind.removeprefix('email_')}": kind for kind in KINDS if kind.startswith("email_")}


@dataclasses.dataclass(frozen=True)
class Fact:
    """Something that happened to a contact. `fact` names it uniquely (it becomes the uuid)."""

    kind: str
    fact: str
    contact_id: int | None
    at: datetime
    properties: dict[str, Any] = dataclasses.field(default_factory=dict)


def campaign_ended(
    *, enrolment_id: int | None, contact_id: int | None, campaign_id: int, reason: str, goal: bool, at: datetime
) -> Fact:
    """An enrolment's end, however it ended (goal, `unless`, the campaign archived, contacts merged): one
    fact per enrolment, so a second ending of it writes nothing."""
    kind, prefix = ("campaign_goal_reached", "goal") if goal else ("campaign_exited", "exited")
    return Fact(kind, f"{prefix}:{enrolment_id}", contact_id, at, {"campaign_id": campaign_id, "reason": reason[:300]})


def enabled_kinds(*, session: Session) -> frozenset[str]:
    """The kinds written back now: none until a host and key are set. A primary-key get, so a session that
    enqueues many facts reads the row once."""
    row = session.get(PosthogConnection, CONNECTION_ROW)
    if row is None or not row.host or not row.api_key_cipher:
        return frozenset()
    return frozenset(row.kinds) & frozenset(KINDS)


def uuid_for(fact: str) -> str:
    return str(uuid.uuid5(NAMESPACE, fact))


def enqueue(*, session: Session, facts: Iterable[Fact]) -> int:
    """Inserts the captures of the enabled kinds (one statement); a fact already enqueued is skipped.
    Returns how many rows the statement offered."""
    kinds = enabled_kinds(session=session)
    if not kinds:
        return 0
    now = clock.now()
    rows = [
        {
            "uuid": uuid_for(f.fact),
            "kind": f.kind,
            "event": EVENTS[f.kind],
            "contact_id": f.contact_id,
            "timestamp": f.at,
            "properties": f.properties,
            "created_at": now,
            "outcome": "",
        }
        for f in facts
        if f.kind in kinds and f.contact_id is not None
    ]
    if rows:
        connection = session.connection()
        connection.execute(_insert_ignoring_repeats(connection.dialect.name), rows)
    return len(rows)


@functools.lru_cache(maxsize=2)
def _insert_ignoring_repeats(dialect: str):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table_of(PosthogCapture)).on_conflict_do_nothing(index_elements=["uuid"])


def message_properties(message: Any) -> dict[str, Any]:
    """What every email event says of its email (a Message row); the campaign's name is added when sent."""
    return {
        "campaign_id": message.campaign_id,
        "step": message.step_index + 1,
        "message_id": message.id,
        "subject": message.subject,
    }
