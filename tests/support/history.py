"""A few days of realistic activity written through the real services with the clock moved back hour by
hour, as if the app had been running: deliveries (some retried, some rejected, some without an email),
processing, campaigns, sends through the local outbox and a few Resend delivery events."""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta

from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Campaign, CampaignStatus, Message, MessageStatus, Source, SourceStatus
from humanic_app.services import processing, sources, suppression, workspace
from humanic_app.services.campaigns import library, store
from humanic_app.services.delivery import dispatcher
from humanic_app.services.delivery.senders import LocalOutboxSender
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event

NAMES = [
    ("user_signed_up", 3),
    ("feature_first_used", 4),
    ("checkout_started", 3),
    ("pricing_page_viewed", 5),
    ("$pageview", 12),
    ("subscription_upgraded", 1),
]


SEEDED_CAMPAIGNS = ("onboarding-activation", "feature-adoption", "paid-conversion-pricing")


def retire_history(engine) -> None:
    """Archives the seeded campaigns and pauses the seeded sources."""
    names = {library.templates()[slug]["name"] for slug in SEEDED_CAMPAIGNS}
    with Session(engine) as session:
        for campaign in session.exec(select(Campaign).where(Campaign.status == CampaignStatus.active)):
            if campaign.name in names:
                store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.archived)
        for source in session.exec(select(Source).where(Source.name.in_(["Production", "Staging"]))):
            if source.status == SourceStatus.active:
                sources.set_status(session=session, source_id=source.id, status=SourceStatus.paused)
        session.commit()


def _free_names(session, *names: str) -> None:
    """Source names are unique: an earlier journey's source of the same name is renamed, and keeps working."""
    for source in sources.list_sources(session=session):
        if source.name in names:
            sources.rename_source(session=session, source_id=source.id, name=f"{source.name} #{source.id}")


def seed_history(engine, *, hours: int = 72, per_hour: int = 40, monkeypatch) -> None:
    rng = random.Random(3)
    start = clock.now() - timedelta(hours=hours)
    with Session(engine, expire_on_commit=False) as session:
        workspace.update_workspace(
            session=session,
            changes={"from_email": "hello@acme.io", "from_name": "Acme", "physical_address": "1 Main St, Springfield"},
        )
        _free_names(session, "Production", "Staging")
        production = sources.create_source(session=session, name="Production")
        staging = sources.create_source(session=session, name="Staging")
        session.flush()
        for source in (production, staging):
            sources.set_status(session=session, source_id=source.id, status=SourceStatus.active)
        for slug in SEEDED_CAMPAIGNS:
            campaign = store.create_campaign(session=session, document=library.templates()[slug])
            session.flush()
            store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active)
        session.commit()
    names = [name for name, weight in NAMES for _ in range(weight)]
    users = 0
    reported: set[int] = set()
    for hour in range(hours):
        at = start + timedelta(hours=hour)
        monkeypatch.setattr(clock, "now", lambda at=at: at)
        busy = 0.4 + 0.6 * abs(((at.hour + 10) % 24) - 12) / 12  # quieter at night
        deliveries = []
        for _ in range(int(per_hour * busy)):
            if rng.random() < 0.15:
                users += 1
            user = rng.randrange(users + 1)
            name = "user_signed_up" if rng.random() < 0.05 else rng.choice(names)
            email = None if rng.random() < 0.04 else f"user{user}@example.com"
            body = posthog_event(
                event=name,
                distinct_id=f"user_{user}",
                email=email,
                name=f"User {user}",
                timestamp=at,
                properties={"feature_name": "Dashboards", "cart_value": 40},
            )
            source = production if rng.random() < 0.9 else staging
            events = payloads.parse_body(json.dumps(body).encode(), None)
            arrived = time.perf_counter() - rng.uniform(0.003, 0.03)  # answered in a few ms, as over HTTP
            deliveries.append(storing.Delivery(source_id=source.id, headers={}, events=events, arrived=arrived))
            if rng.random() < 0.03:
                deliveries.append(
                    storing.Delivery(source_id=source.id, headers={}, events=events, arrived=arrived)
                )  # a retry
        if rng.random() < 0.2:
            deliveries.append(
                storing.Delivery(
                    source_id=production.id,
                    headers={},
                    arrived=time.perf_counter(),
                    rejected_reason="401 bad signature: no signature matches",
                )
            )
        with Session(engine) as session:
            storing.store_deliveries(session=session, deliveries=deliveries)
            while processing.process_pending(session=session):
                pass
            session.commit()
        dispatcher.dispatch_due(
            engine=engine, sender=LocalOutboxSender(), public_url="https://humanic.acme.io", limit=500
        )
        with Session(engine) as session:
            sent = session.exec(
                select(Message).where(Message.status == MessageStatus.sent, col(Message.id).not_in(reported))
            ).all()
            for message in sent:
                reported.add(message.id)
                kind = "email.opened" if rng.random() < 0.45 else "email.delivered"
                roll = rng.random()
                if roll < 0.012:
                    kind = "email.bounced"
                elif roll < 0.014:
                    kind = "email.complained"
                suppression.record_resend_event(
                    session=session,
                    svix_id=f"msg_{message.id}_{kind}",
                    payload={
                        "type": kind,
                        "created_at": at.isoformat(),
                        "data": {
                            "email_id": message.provider_message_id,
                            "to": [message.to_email],
                            "bounce": {"type": "Permanent"},
                        },
                    },
                )
            session.commit()
    monkeypatch.undo()
