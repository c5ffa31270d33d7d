"""Graceful shutdown with real processes: a `python -m humanic_app worker` on a temporary SQLite database,
sending through the fake Resend, gets SIGTERM while a batch call is at the provider. It records that
batch's answer, starts no other batch and exits within workers.SHUTDOWN_GRACE_SECONDS; the next worker
sends the rest, every email exactly once. A call that outlives the grace period does not hold the exit
up: its rows stay `sending` and the next worker replays them under the same key, still once each."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from humanic_app import background, migrations, workers
from humanic_app.db import make_engine
from humanic_app.models import Event, EventOutcome, Message, MessageStatus
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event
from tests.support.fake_resend import FakeResend
from tests.support.server import PROJECT, running_app
from tests.support.waiting import wait_until
from tests.support.welcome_world import welcome_world

EMAILS = 150  # the dispatcher claims 100 at a time: one batch call, then another for the rest
SHORT_GRACE_S, SHORT_LEASE_S = 2.0, 2.0
# The real worker command with a short grace period and lease, for the call that outlives the grace.
IMPATIENT_WORKER = f"""
import sys
from datetime import timedelta
from humanic_app import workers
from humanic_app.__main__ import main
from humanic_app.services.delivery import dispatcher
workers.SHUTDOWN_GRACE_SECONDS = {SHORT_GRACE_S}
dispatcher.LEASE = timedelta(seconds={SHORT_LEASE_S})
sys.exit(main(["worker"]))
"""


def _signup(who: str) -> dict:
    return posthog_event(event="user_signed_up", distinct_id=who, email=f"{who}@example.com")


@pytest.fixture
def world(tmp_path):
    """A migrated SQLite database set up by `_setup`, with EMAILS sign-ups stored, waiting for a worker to
    process and send them."""
    url = f"sqlite:///{tmp_path / 'humanic.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        migrations.upgrade(connection=conn)
    source_id, _ = welcome_world(engine)
    with Session(engine) as session:
        deliveries = [
            storing.Delivery(
                source_id=source_id,
                headers={},
                events=payloads.parse_body(json.dumps(_signup(f"u{i}")).encode(), None),
            )
            for i in range(EMAILS)
        ]
        storing.store_deliveries(session=session, deliveries=deliveries)
        session.commit()
    yield engine, url, tmp_path
    engine.dispose()


def _worker(url: str, tmp_path: Path, fake: FakeResend, name: str, script: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESEND_", "HUMANIC_", "REFLEX_REDIS"))}
    env.update(
        DATABASE_URL=url,
        HUMANIC_DATA_DIR=str(tmp_path / "data"),
        HUMANIC_WORKERS="external",
        RESEND_API_KEY=fake.api_key,
        RESEND_API_URL=fake.url,
    )
    command = ["-c", script] if script else ["-m", "humanic_app", "worker"]
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=PROJECT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / f"{name}.log").open("w"),
    )


def _stop(worker: subprocess.Popen, bound_s: float) -> tuple[int, float]:
    """SIGTERM, then the exit code and how long the exit took; fails past the bound (plus start-up slack)."""
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    try:
        code = worker.wait(timeout=bound_s + 10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    return code, time.monotonic() - started


def _statuses(engine) -> Counter:
    with Session(engine) as session:
        return Counter(m.status for m in session.exec(select(Message)))


def _batch_calls(fake: FakeResend) -> list[str]:
    return [r["key"] for r in fake.requests if r["path"] == "/emails/batch"]


def _all_sent_once(engine, fake: FakeResend) -> None:
    with Session(engine) as session:
        messages = session.exec(select(Message)).all()
    assert len(messages) == EMAILS
    assert {m.status for m in messages} == {MessageStatus.sent}
    assert fake.delivered() == {m.to_email: 1 for m in messages}


def test_sigterm_mid_batch_finishes_that_batch_starts_no_other_and_exits_within_the_bound(world):
    engine, url, tmp_path = world
    with FakeResend() as fake:
        fake.answer_delay_s = 3.0  # the first batch is accepted, its answer 3 s away
        first = _worker(url, tmp_path, fake, "first")
        wait_until(lambda: fake.sent, what="the first batch reaching the provider")
        code, took = _stop(first, workers.SHUTDOWN_GRACE_SECONDS)
        assert code == 0 and took < workers.SHUTDOWN_GRACE_SECONDS
        assert _statuses(engine) == {MessageStatus.sent: 100, MessageStatus.scheduled: EMAILS - 100}
        assert len(_batch_calls(fake)) == 1

        fake.answer_delay_s = 0.0
        second = _worker(url, tmp_path, fake, "second")
        wait_until(lambda: _statuses(engine) == {MessageStatus.sent: EMAILS}, what="the rest sent")
        assert _stop(second, workers.SHUTDOWN_GRACE_SECONDS)[0] == 0
        _all_sent_once(engine, fake)
        assert len(_batch_calls(fake)) == 2
    with Session(engine) as session:
        assert {m.attempts for m in session.exec(select(Message))} == {1}
    assert "background worker" in (tmp_path / "first.log").read_text()


def test_a_call_outliving_the_grace_period_does_not_hold_the_exit_and_is_replayed_once(world):
    engine, url, tmp_path = world
    with FakeResend() as fake:
        fake.answer_delay_s = SHORT_GRACE_S + 5  # accepted, answered long after the worker must be gone
        first = _worker(url, tmp_path, fake, "first", IMPATIENT_WORKER)
        wait_until(lambda: fake.sent, what="the first batch reaching the provider")
        code, took = _stop(first, SHORT_GRACE_S)
        assert code == 1 and took < SHORT_GRACE_S + 3  # gave the call its grace, then left without it
        assert _statuses(engine)[MessageStatus.sending] == 100  # "the provider may have it"

        fake.answer_delay_s = 0.0
        second = _worker(url, tmp_path, fake, "second", IMPATIENT_WORKER)
        wait_until(lambda: _statuses(engine) == {MessageStatus.sent: EMAILS}, what="the replay and the rest")
        assert _stop(second, SHORT_GRACE_S)[0] == 0
        _all_sent_once(engine, fake)  # the replay went under the first call's key: the provider sent nothing new
        calls = _batch_calls(fake)
        assert len(calls) == 3 and calls.count(calls[0]) == 2
    assert "exiting without it" in (tmp_path / "first.log").read_text()


def _post(url: str, body: dict) -> int | str:
    """The answer's status, or what cut the request short (a refused or reset connection)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError as exc:
        return type(exc).__name__


def test_sigterm_to_the_web_app_answers_webhooks_in_flight_and_loses_nothing_accepted():
    """As `docker stop` does: SIGTERM to the app's first process only, with PostHog posting from four
    connections and the embedded worker sending. Every delivery answered 200 is stored; the next worker
    processes what the app had no time to, and every email goes out exactly once."""
    bound_s = workers.SHUTDOWN_GRACE_SECONDS + background.STOP_MARGIN_SECONDS
    found: dict[str, object] = {}

    def prepare(data_dir: Path) -> None:
        engine = make_engine(f"sqlite:///{data_dir / 'humanic.db'}")
        found["source_id"], found["token"] = welcome_world(engine)
        engine.dispose()

    answers: list[tuple[str, int | str]] = []
    with FakeResend() as fake:
        fake.answer_delay_s = 0.3  # sends are in flight when SIGTERM comes
        env = {"RESEND_API_KEY": fake.api_key, "RESEND_API_URL": fake.url, "HUMANIC_WORKERS": "embedded"}
        with running_app("graceful-shutdown", env, backend_only=True, before_start=prepare) as app:
            url = f"{app.url}/api/webhooks/posthog/{found['token']}"

            def post_until_refused(poster: int) -> None:
                for i in itertools.count():
                    body = _signup(f"p{poster}-{i}")
                    answers.append((body["event"]["uuid"], answer := _post(url, body)))
                    if not isinstance(answer, int):
                        return

            posters = [threading.Thread(target=post_until_refused, args=(n,)) for n in range(4)]
            for poster in posters:
                poster.start()
            wait_until(lambda: len(fake.sent) >= 5 and len(answers) >= 50, what="events flowing and emails going out")
            started = time.monotonic()
            os.kill(app.pid, signal.SIGTERM)
            app.process.wait(timeout=bound_s + 10)
            took = time.monotonic() - started
            for poster in posters:
                poster.join(timeout=60)
        assert took < bound_s, took
        accepted = {uuid for uuid, answer in answers if answer == 200}
        assert len(accepted) >= 50 and {a for _, a in answers} <= {
            200,
            "ConnectionRefusedError",
            "ConnectionResetError",
            "RemoteDisconnected",
            "URLError",
        }, Counter(a for _, a in answers)

        run_dir = app.log_path.parent
        url = f"sqlite:///{run_dir / 'data' / 'humanic.db'}"
        engine = make_engine(url)
        after = _worker(url, run_dir, fake, "after")
        try:
            wait_until(lambda: _settled(engine) >= accepted, what="every accepted event processed and its email sent")
        finally:
            assert _stop(after, workers.SHUTDOWN_GRACE_SECONDS)[0] == 0
        with Session(engine) as session:
            messages = session.exec(select(Message)).all()
            events = session.exec(select(Event.event_uuid)).all()
        engine.dispose()
    assert len(events) == len(set(events)) >= len(accepted)
    assert {m.status for m in messages} == {MessageStatus.sent} and len(messages) == len(events)
    assert fake.delivered() == {m.to_email: 1 for m in messages}


def _settled(engine) -> set[str]:
    """The uuids of the events processed whose email has gone out."""
    with Session(engine) as session:
        return set(
            session.exec(
                select(Event.event_uuid)
                .join(Message, col(Message.contact_id) == col(Event.contact_id))
                .where(Event.outcome == EventOutcome.processed, Message.status == MessageStatus.sent)
            ).all()
        )
