"""A workspace with a From address and an active PostHog source, fed PostHog-shaped events through the real
intake and processing: the setting of the campaign, checklist and dispatcher tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from humanic_app.models import CampaignStatus, Event, Message, MessageStatus, SourceStatus
from humanic_app.services import processing, sources, workspace
from humanic_app.services.campaigns import library, store
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event

T0 = datetime(2025, 4, 10, 14, 0, tzinfo=UTC)
LINEAR_DIR = Path(__file__).parent / "linear_campaigns"


def linear(slug: str) -> dict[str, Any]:
    """A ready-made campaign as it was before journeys (a list of delayed emails): such documents load and
    behave exactly as they always did, which the tests written for them keep proving."""
    return library.load_file(LINEAR_DIR / f"{slug}.yaml")


class World:
    def __init__(self, session: Session):
        self.session = session
        workspace.update_workspace(
            session=session, changes={"from_email": "hello@acme.io", "physical_address": "1 Main St"}
        )
        self.source = sources.create_source(session=session, name="Prod")
        sources.set_status(session=session, source_id=self.source.id, status=SourceStatus.active)
        session.commit()

    def campaign(self, slug: str | dict[str, Any]):
        document = library.templates(workspace_name="Acme")[slug] if isinstance(slug, str) else slug
        campaign = store.create_campaign(session=self.session, document=document)
        store.set_status(session=self.session, campaign_id=campaign.id, status=CampaignStatus.active)
        self.session.commit()
        return campaign

    def send(
        self, event: str, at: datetime, user: str = "u1", email: str | None = "ada@example.com", **properties
    ) -> None:
        body = posthog_event(
            event=event, distinct_id=user, email=email, name="Ada", timestamp=at, properties=properties
        )
        events = payloads.parse_body(json.dumps(body).encode(), None)
        storing.store_deliveries(
            session=self.session, deliveries=[storing.Delivery(source_id=self.source.id, headers={}, events=events)]
        )
        while processing.process_pending(session=self.session):
            pass

    def schedule(self) -> list[tuple[str, int, datetime, str]]:
        rows = self.session.exec(select(Message).order_by(Message.due_at, Message.id))
        return [(m.to_email, m.step_index, m.due_at, m.status.value) for m in rows]

    def deliver_due(self, until: datetime) -> None:
        """Stands in for the dispatcher: marks messages due by `until` as sent."""
        for message in self.session.exec(
            select(Message).where(Message.status == MessageStatus.scheduled, Message.due_at <= until)
        ):
            message.status = MessageStatus.sent
            self.session.add(message)
        self.session.commit()

    def decisions(self) -> list[list[dict]]:
        return [e.decisions for e in self.session.exec(select(Event).order_by(Event.id))]
