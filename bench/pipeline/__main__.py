"""End to end: PostHog webhook → processing → zero-delay campaign step → Resend call, in the real app.

Starts `make run` (SQLite, fresh data dir) with RESEND_API_KEY/RESEND_API_URL pointing at a local fake
of Resend's API that allows 2 requests/s, sets up a verified domain, an active source and an active
one-step campaign with no delay, then posts PostHog-shaped events at a steady rate (each a new user) and
measures, per email, the time from the webhook POST to the provider receiving it.

Usage: python -m bench.pipeline [--rate 100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

from sqlmodel import Session

from bench.served import post_json, served_app, wait_for_background_worker
from tests.support.fake_resend import FakeResend

CAMPAIGN = {
    "name": "Welcome right away",
    "trigger": {"event": "user_signed_up"},
    "steps": [{"subject": "Welcome, {{ name }}", "html": "<p>Hi {{ name }}, welcome.</p>", "delay": 0}],
}


def _setup(base: str) -> str:
    from humanic_app.db import get_engine
    from humanic_app.models import CampaignStatus, Domain, SourceStatus
    from humanic_app.models.rows import id_of
    from humanic_app.services import sources, workspace
    from humanic_app.services.campaigns import store

    with Session(get_engine()) as session:
        workspace.update_workspace(
            session=session,
            changes={
                "from_email": "hello@acme.io",
                "from_name": "Acme",
                "physical_address": "1 Main St",
                "frequency_cap": 0,
            },
        )
        session.add(Domain(name="acme.io", resend_id="d-1", status="verified"))
        source = sources.create_source(session=session, name="bench")
        session.flush()
        sources.set_status(session=session, source_id=id_of(source), status=SourceStatus.active)
        campaign = store.create_campaign(session=session, document=CAMPAIGN)
        session.flush()
        store.set_status(session=session, campaign_id=id_of(campaign), status=CampaignStatus.active)
        session.commit()
        return sources.webhook_url(base_url=base, source=source)


def main() -> None:
    from humanic_app.services.samples import posthog_event

    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    with FakeResend() as fake:
        fake.rate_limit_per_second = 2
        env = {"RESEND_API_KEY": fake.api_key, "RESEND_API_URL": fake.url}
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REFLEX_REDIS_URL", None)
        hooks: list[str] = []
        with served_app(env, before_start=lambda base: hooks.append(_setup(base))) as (base, workdir):
            hook = hooks[0]
            wait_for_background_worker(base, workdir)
            posted: dict[str, float] = {}
            total = args.rate * args.seconds
            started = time.time()

            def sender(offset: int, stride: int) -> None:
                for i in range(offset, total, stride):
                    due = started + i / args.rate
                    time.sleep(max(0.0, due - time.time()))
                    email = f"user{i}@example.com"
                    posted[email] = time.time()
                    post_json(
                        hook,
                        posthog_event(event="user_signed_up", distinct_id=f"user_{i}", email=email, name=f"User {i}"),
                    )

            threads = [threading.Thread(target=sender, args=(k, 4)) for k in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            deadline = time.time() + 30
            while len(fake.sent) < total and time.time() < deadline:
                time.sleep(0.2)
            latencies = sorted(s["received_at"] - posted[s["to"][0]] for s in fake.sent if s["to"][0] in posted)
            calls = sum(1 for r in fake.requests if r["path"].startswith("/emails"))
            print(
                f"posted {total:,} events at {args.rate}/s; {len(latencies):,} emails reached the provider in "
                f"{calls} calls ({fake.rate_limited} answered 429)"
            )
            if latencies:
                print(
                    f"webhook → provider: p50 {statistics.median(latencies):.2f} s, "
                    f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.2f} s, max {latencies[-1]:.2f} s"
                )


if __name__ == "__main__":
    main()
