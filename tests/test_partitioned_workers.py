"""Processing capacity grows with workers: two web processes (`reflex run --env prod --backend-only`, the
webhook) and three `python -m humanic_app worker` processes on one PostgreSQL database, with Redis and a
(fake) Resend. Events arrive through both web processes while the workers process them in parallel
partitions; one worker is killed (SIGKILL) mid-way. Every event is processed once, each contact's in order,
and every email reaches the provider once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.db import make_engine
from humanic_app.models import Event, EventOutcome, Message, MessageStatus
from humanic_app.services import stats
from humanic_app.services.samples import posthog_event
from tests.support.fake_resend import FakeResend
from tests.support.postgres import migrated_postgres_database
from tests.support.server import PROJECT, running_app
from tests.support.waiting import wait_until
from tests.support.welcome_world import welcome_world

CONTACTS = 40
WAVES = 8  # each wave: one event per contact, stamped after the last wave's
REDIS_URL = "redis://127.0.0.1:6379/11"
# The real worker command, with the send lease shortened from two minutes: the killed worker's claimed
# emails go out again (under the same idempotency key) without the test waiting two minutes.
WORKER = """
import sys
from datetime import timedelta
from humanic_app.__main__ import main
from humanic_app.services.delivery import dispatcher
dispatcher.LEASE = timedelta(seconds=5)
sys.exit(main(["worker"]))
"""


@pytest.fixture
def pg_url():
    with migrated_postgres_database() as url:
        yield url


def _wave(web_urls: list[str], token: str, wave: int) -> None:
    """One event per contact, posted to the web processes in turn, all answered before the next wave:
    signing up first, then page views; every fifth contact identifies an anonymous id in wave 3 (a link:
    the serial pass's work) among the partition passes' page views."""
    start = clock.now() - timedelta(hours=1)
    bodies = []
    for i in range(CONTACTS):
        name = "user_signed_up" if wave == 0 else "$identify" if wave == 3 and i % 5 == 0 else f"page_{wave}"
        properties = {"$anon_distinct_id": f"anon-{i}"} if name == "$identify" else {"wave": wave}
        bodies.append(
            posthog_event(
                event=name,
                distinct_id=f"u{i}",
                email=f"u{i}@example.com",
                name=f"User {i}",
                properties=properties,
                timestamp=start + timedelta(minutes=wave),
            )
        )

    def post(numbered: tuple[int, dict]) -> int:
        i, body = numbered
        answer = httpx.post(f"{web_urls[i % len(web_urls)]}/api/webhooks/posthog/{token}", json=body, timeout=30)
        return answer.status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(post, enumerate(bodies))) == {200}


def _count(engine, *where) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Event).where(*where)).one()


def _start(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=PROJECT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )


def test_two_web_and_three_workers_one_killed_process_every_event_once_in_order_and_send_every_email_once(
    pg_url, tmp_path
):
    engine = make_engine(pg_url)
    _, token = welcome_world(engine)
    total = CONTACTS * WAVES
    with FakeResend() as fake:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("RESEND_", "HUMANIC_"))}
        env.update(
            DATABASE_URL=pg_url,
            HUMANIC_DATA_DIR=str(tmp_path / "data"),
            HUMANIC_WORKERS="external",
            HUMANIC_LOG_FORMAT="json",
            HUMANIC_PUBLIC_URL="https://h.acme.io",
            REFLEX_REDIS_URL=REDIS_URL,
            RESEND_API_KEY=fake.api_key,
            RESEND_API_URL=fake.url,
        )
        # each web process keeps its own data directory, as on its own machine
        web_env = {key: env[key] for key in env if key.startswith(("RESEND_", "DATABASE_URL", "REFLEX_REDIS_URL"))}
        web_env.update(HUMANIC_WORKERS="external", HUMANIC_PUBLIC_URL="https://h.acme.io")
        logs = [tmp_path / f"worker{i}.log" for i in range(3)]
        workers = [_start(env, log) for log in logs]
        try:
            with ExitStack() as stack:
                web_urls = [
                    stack.enter_context(running_app(f"partitioned-web-{n}", web_env, backend_only=True)).url
                    for n in (1, 2)
                ]
                wait_until(lambda: all("standalone" in log.read_text() for log in logs), what="three workers started")
                for wave in range(WAVES):
                    _wave(web_urls, token, wave)
                    if wave == 2:  # mid-way: events of this and later waves still to come
                        wait_until(lambda: _count(engine, Event.outcome != EventOutcome.pending) >= CONTACTS * 2)
                        os.kill(workers[0].pid, signal.SIGKILL)
                        assert workers[0].wait(timeout=10) == -signal.SIGKILL
                wait_until(lambda: _count(engine, Event.outcome == EventOutcome.processed) == total, timeout_s=90)
                wait_until(lambda: len(fake.sent) >= CONTACTS and _all_sent(engine), timeout_s=60, what="emails sent")
                for worker in workers[1:]:
                    worker.send_signal(signal.SIGTERM)
                assert [worker.wait(timeout=30) for worker in workers[1:]] == [0, 0]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()

    with Session(engine) as session:
        # processed once: the counter bumped in each pass's transaction would show an event processed twice
        assert sum(stats.totals(session=session, name="processed").values()) == total
        by_contact: dict[int, list[Event]] = defaultdict(list)
        for event in session.exec(select(Event).order_by(col(Event.timestamp), col(Event.id))):
            by_contact[event.contact_id or 0].append(event)
        messages = session.exec(select(Message)).all()
    assert len(by_contact) == CONTACTS and 0 not in by_contact
    for events in by_contact.values():
        assert len(events) == WAVES and {e.outcome for e in events} == {EventOutcome.processed}
        processed_at = [e.processed_at for e in events]
        assert processed_at == sorted(processed_at), [e.event_name for e in events]  # each contact's in order
    assert len(messages) == CONTACTS and {m.status for m in messages} == {MessageStatus.sent}
    recipients = [s["to"][0] for s in fake.sent]
    assert sorted(recipients) == sorted(f"u{i}@example.com" for i in range(CONTACTS))  # each once
    engine.dispose()


def _all_sent(engine) -> bool:
    with Session(engine) as session:
        statuses = session.exec(select(Message.status)).all()
    return len(statuses) == CONTACTS and set(statuses) == {MessageStatus.sent}
