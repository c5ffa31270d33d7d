"""PostHog write-back benchmarks:

1. send path: the same burst of campaign emails dispatched with the local outbox sender, write-back off and
   then on (each sent email then also inserts its capture row in the dispatcher's result transaction).
   Prints emails/s and the median and p99 time of a dispatcher pass (claim, gate, render, record).
2. drain: the capture rows the burst left, written through the real periodic job's drain
   (workers.drain_to_posthog) over HTTP to the test suite's fake of PostHog's batch endpoint. Prints events/s.

Usage: python -m bench.posthog_writeback [--emails 20000] [--rounds 2]
(SQLite file in a temp dir, or DATABASE_URL's database.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert
from sqlmodel import Session, select

from humanic_app import clock, db, migrations, workers
from humanic_app.db import make_engine
from humanic_app.models import (
    CampaignStatus,
    Contact,
    ContactIdentity,
    IdentityKind,
    Message,
    MessageStatus,
    PosthogCapture,
)
from humanic_app.models.rows import table_of
from humanic_app.services import workspace
from humanic_app.services.campaigns import library, store
from humanic_app.services.delivery import dispatcher
from humanic_app.services.delivery.senders import LocalOutboxSender
from humanic_app.services.posthog import connection
from tests.support.fake_posthog import FakePosthog

# a campaign of delayed emails (the test suite's linear form of the onboarding campaign): its first step renders
LINEAR_CAMPAIGN = Path(__file__).parents[2] / "tests" / "support" / "linear_campaigns" / "onboarding-activation.yaml"


def _seed(engine, campaign_id: int, start: int, count: int) -> None:
    """`count` contacts, each with a distinct_id and one campaign email due now."""
    now = clock.now()
    with Session(engine) as session:
        contact_ids = (
            session.execute(
                insert(table_of(Contact)).returning(table_of(Contact).c.id, sort_by_parameter_order=True),
                [
                    {
                        "email": f"u{i}@example.com",
                        "name": f"U{i}",
                        "properties": {},
                        "property_times": {},
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(start, start + count)
                ],
            )
            .scalars()
            .all()
        )
        session.execute(
            insert(ContactIdentity),
            [{"contact_id": c, "kind": IdentityKind.distinct_id, "value": f"user-{c}"} for c in contact_ids],
        )
        session.execute(
            insert(Message),
            [
                {
                    "campaign_id": campaign_id,
                    "contact_id": c,
                    "to_email": f"u{start + n}@example.com",
                    "step_index": 0,
                    "due_at": now,
                    "status": MessageStatus.scheduled,
                    "idempotency_key": f"bench-{start + n}",
                    "variables": {"name": f"U{n}"},
                    "is_test": False,
                    "attempts": 0,
                    "last_error": "",
                    "created_at": now,
                }
                for n, c in enumerate(contact_ids)
            ],
        )
        session.commit()


def _burst(engine) -> tuple[int, float, list[float]]:
    sender, sent, passes = LocalOutboxSender(), 0, []
    started = time.perf_counter()
    while True:
        tick = time.perf_counter()
        report = dispatcher.dispatch_due(engine=engine, sender=sender, public_url="https://h.acme.io")
        if not report.sent:
            break
        passes.append(time.perf_counter() - tick)
        sent += report.sent
    return sent, time.perf_counter() - started, passes


def _describe(label: str, sent: int, seconds: float, passes: list[float]) -> str:
    passes = sorted(passes)
    return (
        f"{label}: {sent:,} emails in {seconds:.1f} s = {sent / seconds:,.0f} emails/s; a pass of 100: "
        f"median {1000 * statistics.median(passes):.1f} ms, p99 {1000 * passes[int(len(passes) * 0.99) - 1]:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakePosthog() as fake:
        os.environ.setdefault("HUMANIC_DATA_DIR", tmp)
        engine = make_engine(os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/writeback.db")
        with engine.begin() as conn:
            migrations.upgrade(connection=conn)
        db.use_engine(engine)
        with Session(engine) as session:
            workspace.update_workspace(
                session=session,
                changes={"from_email": "hello@acme.io", "physical_address": "1 Main St", "frequency_cap": 0},
            )
            document = library.load_file(LINEAR_CAMPAIGN)
            campaign_id = store.create_campaign(session=session, document=document).id or 0
            store.set_status(session=session, campaign_id=campaign_id, status=CampaignStatus.active)
            session.commit()
        seeded = 0
        for round_ in range(1, args.rounds + 1):
            for on in (False, True):
                with Session(engine) as session:
                    if on:
                        connection.save(session=session, host=fake.url, api_key=fake.api_key)
                    else:
                        connection.remove(session=session)
                    session.commit()
                _seed(engine, campaign_id, seeded, args.emails)
                seeded += args.emails
                label = f"round {round_}, write-back {'on ' if on else 'off'}"
                print(_describe(label, *_burst(engine)), flush=True)
        with Session(engine) as session:
            waiting = session.exec(select(func.count()).where(PosthogCapture.sent_at == None)).one()  # noqa: E711
        started = time.perf_counter()
        written = workers.drain_to_posthog()
        seconds = time.perf_counter() - started
        print(
            f"drain: {written:,} of {waiting:,} events written to the fake PostHog in {seconds:.1f} s = "
            f"{written / seconds:,.0f} events/s ({len(fake.requests)} batch calls, {len(fake.events):,} stored)"
        )
        db.use_engine(None)
        engine.dispose()


if __name__ == "__main__":
    main()
