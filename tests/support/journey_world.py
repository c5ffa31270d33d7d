"""The campaign World with a clock: event time and processing time both move, as in production, so waits
time out and branches come due through the real processing passes (no sleeps)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlmodel import Session, select

from humanic_app import clock
from humanic_app.models import Enrolment, Message, MessageStatus
from humanic_app.services import processing
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event
from tests.support.campaign_world import T0, World


class JourneyWorld(World):
    def __init__(self, session: Session, monkeypatch: pytest.MonkeyPatch):
        super().__init__(session)
        self.now = T0
        self._monkeypatch = monkeypatch
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def send(
        self,
        event: str,
        at: datetime,
        user: str = "u1",
        email: str | None = "ada@example.com",
        *,
        arrival: datetime | None = None,
        **properties,
    ) -> None:  # type: ignore[override]
        """The event stamped `at` arrives at `arrival` (default: when it happened)."""
        self.now = max(self.now, arrival or at)
        super().send(event, at, user=user, email=email, **properties)
        self.session.commit()

    def send_together(self, *events: tuple[str, datetime, dict]) -> None:
        """Several events (name, time, properties with `user`/`email` as in `send`) stored in this order
        before any pass runs, so one pass processes them as one batch: the serial pass (on PostgreSQL a
        partition pass would stop before an event a `match` wait awaits, and leave it to the next)."""
        self.now = max([self.now, *(at for _, at, _ in events)])
        parsed = []
        for event, at, given in events:
            properties = dict(given)
            user, email = properties.pop("user", "u1"), properties.pop("email", "ada@example.com")
            body = posthog_event(
                event=event, distinct_id=user, email=email, name="Ada", timestamp=at, properties=properties
            )
            parsed += payloads.parse_body(json.dumps(body).encode(), None)
        storing.store_deliveries(
            session=self.session, deliveries=[storing.Delivery(source_id=self.source.id, headers={}, events=parsed)]
        )
        with self._monkeypatch.context() as serial:
            serial.setattr(processing, "_run_partition", lambda session, limit: None)
            assert processing.run_pass(session=self.session).processed == len(events)  # all of them in one pass
        self.session.commit()

    def at(self, moment: datetime) -> None:
        """Time passes to `moment`: the worker's passes run (timeouts, branches coming due)."""
        self.now = max(self.now, moment)
        while processing.process_pending(session=self.session):
            pass
        self.session.commit()

    def enrolments(self) -> list[Enrolment]:
        self.session.expire_all()
        return list(self.session.exec(select(Enrolment).order_by(Enrolment.id)))

    def mark(self, to: str, step: int, **values) -> None:
        """Stands in for the dispatcher and the provider's reports on one email."""
        message = self.session.exec(select(Message).where(Message.to_email == to, Message.step_index == step)).one()
        for key, value in {"status": MessageStatus.sent, **values}.items():
            setattr(message, key, value)
        self.session.add(message)
        self.session.commit()
