"""What the reputation guardrail costs the Resend webhook. It checks on bounces and complaints only (delivered
events, most of the traffic, only bump their counter, as before): each bounce recorded in its own transaction
(`suppression.record_resend_event`, as `/api/webhooks/resend` runs it: the address suppressed, commit included)
with the guardrail's check, and with the check replaced by nothing, in alternating rounds (a busy machine's
drift hits both alike).
The counters hold 30 hours of 20 campaigns' delivered/bounced/sent/opened counts and webhook answer buckets, so
the check sums real ranges. Also prints the check's own time.

Usage: python -m bench.reputation [--rounds 10] [--events 150]  (SQLite file in a temp dir, or DATABASE_URL's)
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from humanic_app import clock, migrations
from humanic_app.db import make_engine
from humanic_app.models import Campaign, CampaignStatus, Message, MessageStatus
from humanic_app.services import reputation, stats, suppression, workspace

CAMPAIGNS, HOURS = 20, 30


def _fill(engine: Engine, messages: int) -> list[str]:
    with Session(engine) as session:
        workspace.get_workspace(session=session)
        ids = []
        for i in range(CAMPAIGNS):
            campaign = Campaign(name=f"c{i}", status=CampaignStatus.active, trigger_event="x")
            session.add(campaign)
            session.flush()
            ids.append(campaign.id)
        now, counts = clock.now(), Counter[tuple[datetime, str, str]]()
        for h in range(HOURS):
            hour = stats.hour_of(now - timedelta(hours=h))
            for cid in ids:
                for name, n in (("delivered", 500), ("bounced", 5), ("sent", 510), ("opened", 100)):
                    counts[(hour, name, str(cid))] = n
            for bucket in stats.BUCKET_LABELS:
                counts[(hour, "webhook_ms", bucket)] = 10
        stats.bump(session, counts)
        for n in range(messages):
            session.add(
                Message(
                    campaign_id=ids[n % CAMPAIGNS],
                    to_email=f"r{n}@example.com",
                    due_at=now,
                    idempotency_key=f"bench-{n}",
                    status=MessageStatus.sent,
                    provider_message_id=f"re-{n}",
                )
            )
        session.commit()
    return [f"re-{n}" for n in range(messages)]


def _nothing(**_: Any) -> list[str]:
    return []


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--events", type=int, default=150, help="per round and mode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        with engine.begin() as connection:
            migrations.upgrade(connection=connection)
        provider_ids = iter(_fill(engine, 2 * args.rounds * args.events))
        svix_ids = itertools.count()
        check, spent = reputation.check_after_event, []

        def timed(**kwargs):
            started = time.perf_counter()
            try:
                return check(**kwargs)
            finally:
                spent.append(time.perf_counter() - started)

        per_event: dict[str, list[float]] = {"with the check": [], "without": []}
        for round_ in range(args.rounds):
            modes = ("with the check", "without") if round_ % 2 == 0 else ("without", "with the check")
            for mode in modes:
                suppression.reputation.check_after_event = timed if mode == "with the check" else _nothing
                started = time.perf_counter()
                for _ in range(args.events):
                    n = next(svix_ids)
                    data: dict[str, Any] = {"email_id": next(provider_ids), "to": [f"b{n}@example.com"]}
                    data["bounce"] = {"type": "Permanent", "message": "mailbox does not exist"}
                    payload = {"type": "email.bounced", "created_at": "2026-12-02T12:00:00Z", "data": data}
                    with Session(engine) as session:
                        suppression.record_resend_event(session=session, svix_id=f"m{n}", payload=payload)
                        session.commit()
                per_event[mode].append((time.perf_counter() - started) / args.events * 1000)
        suppression.reputation.check_after_event = check
        print(f"{engine.dialect.name}, {args.rounds} rounds of {args.events} bounces per mode")
        for mode, values in per_event.items():
            print(f"  {mode}: median {statistics.median(values):.2f} ms per event")
        ordered = sorted(spent)
        print(
            f"  the check itself: median {statistics.median(ordered) * 1000:.2f} ms, "
            f"p90 {ordered[int(len(ordered) * 0.9)] * 1000:.2f} ms"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
