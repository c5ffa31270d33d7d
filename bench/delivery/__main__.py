"""Outbox dispatcher benchmarks, with the local outbox sender (render + gate + record):

1. lag: 100,000 messages scheduled for later, plus a stream of 100 messages/s coming due over 20 s; the
   dispatcher ticks once a second as in the app. Prints the lag between due time and send time.
2. burst: every message due at once; prints messages/s.
3. provider: messages due at once sent through the Resend sender to a local fake of Resend's API that
   allows 2 requests/s (429 beyond, with draft-06 headers); prints emails/s against the 200/s that
   100-email batches allow, and how many 429s were provoked.

Usage: python -m bench.delivery [--messages 100000] [--rate 100] [--seconds 20] [--provider-messages 6000]
       [--only burst] [--step html|blocks]
(`--step blocks`: the email is a block document with the brand layout, compiled once through MJML and then
only personalised per recipient; `html`: a raw-HTML step.)
(SQLite file in a temp dir, or DATABASE_URL's database.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from humanic_app import clock, migrations
from humanic_app.db import make_engine
from humanic_app.models import Message, MessageStatus
from humanic_app.services import workspace
from humanic_app.services.delivery import dispatcher
from humanic_app.services.delivery.senders import LocalOutboxSender

STEP: dict[str, Any] = {
    "subject": "Hello {{ name | default('there') }}",
    "html": "<p>Your cart of {{ cart_value }} is waiting.</p>",
    "text": None,
    "delay": 0,
}


BLOCKS_STEP = {
    "subject": "Hello {{ name | default('there') }}",
    "blocks": [
        {"type": "heading", "text": "Hi {{ name | default('there') }}"},
        {
            "type": "paragraph",
            "markdown": "Your cart of **{{ cart_value }}** is waiting. [See it](https://acme.io/cart)",
        },
        {"type": "button", "label": "Check out", "url": "https://acme.io/checkout?u={{ name }}"},
        {"type": "image", "url": "https://acme.io/cart.png", "alt": "Your cart", "width": 300},
        {"type": "divider"},
        {
            "type": "columns",
            "columns": [[{"type": "paragraph", "markdown": "Left"}], [{"type": "paragraph", "markdown": "Right"}]],
        },
    ],
    "delay": 0,
}


def _rows(start: int, count: int, due_at) -> list[dict]:
    return [
        {
            "to_email": f"u{i}@example.com",
            "step_index": 0,
            "due_at": due_at,
            "status": MessageStatus.scheduled,
            "idempotency_key": f"bench-{i}",
            "variables": {"name": f"U{i}", "cart_value": i},
            "is_test": True,
            "test_step": STEP,
            "attempts": 0,
            "last_error": "",
            "created_at": due_at,
        }
        for i in range(start, start + count)
    ]


def _drain(engine, sender) -> int:
    sent = 0
    while (
        report := dispatcher.dispatch_due(engine=engine, sender=sender, public_url="https://h.acme.io", limit=500)
    ).sent:
        sent += report.sent
    return sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--provider-messages", type=int, default=6000)
    parser.add_argument("--only", choices=["burst"], default=None)
    parser.add_argument("--step", choices=["html", "blocks"], default="html")
    args = parser.parse_args()
    if args.step == "blocks":
        STEP.clear()
        STEP.update(BLOCKS_STEP)
    if args.only == "burst":
        args.messages, args.seconds = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/delivery.db")
        with engine.begin() as conn:
            migrations.upgrade(connection=conn)
        sender = LocalOutboxSender()
        with Session(engine) as session:
            workspace.update_workspace(
                session=session,
                changes={"from_email": "hello@acme.io", "physical_address": "1 Main St", "frequency_cap": 0},
            )
            now = clock.now()
            for start in range(0, args.messages, 10_000):
                session.execute(
                    insert(Message), _rows(start, min(10_000, args.messages - start), now + timedelta(days=3))
                )
            session.commit()
            stream = args.rate * args.seconds
            now = clock.now()  # after seeding, so the stream's due times are not already in the past
            rows = _rows(args.messages, stream, now)
            for n, row in enumerate(rows):
                row["due_at"] = now + timedelta(seconds=2 + n / args.rate)
            if rows:
                session.execute(insert(Message), rows)
            session.commit()
        deadline = time.monotonic() + args.seconds + 4
        while time.monotonic() < deadline:
            tick = time.monotonic()
            _drain(engine, sender)
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        with Session(engine) as session:
            lags = sorted(
                (m.sent_at - m.due_at).total_seconds()
                for m in session.exec(select(Message).where(Message.status == MessageStatus.sent))
                if m.sent_at
            )
        if lags:
            print(
                f"lag with {args.messages:,} scheduled and {args.rate}/s coming due "
                f"({len(lags):,} sent of {stream:,}): "
                f"p50 {statistics.median(lags):.2f} s, p99 {lags[int(len(lags) * 0.99) - 1]:.2f} s, "
                f"max {lags[-1]:.2f} s"
            )

        with Session(engine) as session:
            session.execute(insert(Message), _rows(args.messages + stream, 20_000, clock.now()))
            session.commit()
        started = time.perf_counter()
        sent = _drain(engine, sender)
        seconds = time.perf_counter() - started
        print(f"burst: {sent:,} messages due at once dispatched in {seconds:.1f} s = {sent / seconds:,.0f} messages/s")
        if args.only != "burst":
            _provider_throughput(engine, args.provider_messages)
        engine.dispose()


def _provider_throughput(engine, count: int) -> None:
    import resend

    from humanic_app.models import Domain
    from humanic_app.services import rate_limit
    from humanic_app.services.delivery.resend_sender import ResendSender
    from tests.support.fake_resend import FakeResend

    with Session(engine) as session:
        session.add(Domain(name="acme.io", resend_id="d-1", status="verified"))
        session.execute(insert(Message), _rows(10_000_000, count, clock.now()))
        session.commit()
    with FakeResend() as fake:
        fake.rate_limit_per_second = 2
        before = resend.api_url
        sender = ResendSender(api_key=fake.api_key, api_url=fake.url, limiter=rate_limit.LocalRateLimiter())
        started = time.perf_counter()
        sent = 0
        while sent < count and time.perf_counter() - started < 600:
            sent += dispatcher.dispatch_due(engine=engine, sender=sender, public_url="https://h.acme.io").sent
        seconds = time.perf_counter() - started
        resend.api_url = before
        calls = sum(1 for r in fake.requests if r["path"].startswith("/emails"))
    print(
        f"provider (fake Resend at 2 requests/s): {sent:,} emails in {seconds:.1f} s = {sent / seconds:,.0f} "
        f"emails/s ({100 * sent / seconds / 200:.0f}% of the 200/s batching allows); {calls} calls, "
        f"{fake.rate_limited} answered 429"
    )


if __name__ == "__main__":
    main()
