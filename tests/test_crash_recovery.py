"""Crash recovery with real processes: the background worker is killed (SIGKILL) while Resend holds a
batch it accepted but had not answered yet; a new worker replays that batch under the same key, and
every message reaches the provider exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, insert, update
from sqlmodel import Session, select

from humanic_app import clock
from humanic_app.models import Domain, Message, MessageStatus
from humanic_app.services import workspace
from tests.support.fake_resend import FakeResend
from tests.support.server import PROJECT

MESSAGES = 250
STEP = {"subject": "Hello {{ name }}", "html": "<p>Hi {{ name }}</p>", "text": None, "delay": 0}


def _seed(engine) -> None:
    now = clock.now()
    with Session(engine) as session:
        workspace.update_workspace(
            session=session, changes={"from_email": "hello@acme.io", "physical_address": "1 Main St"}
        )
        session.add(Domain(name="acme.io", resend_id="d-1", status="verified"))
        session.commit()
    with engine.begin() as conn:
        conn.execute(
            insert(Message.__table__),
            [
                {
                    "to_email": f"u{i}@example.com",
                    "step_index": 0,
                    "due_at": now,
                    "status": MessageStatus.scheduled,
                    "idempotency_key": f"crash-{i}",
                    "variables": {"name": f"U{i}"},
                    "is_test": True,
                    "test_step": STEP,
                    "attempts": 0,
                    "last_error": "",
                    "created_at": now,
                    "from_address": "",
                    "subject": "",
                    "html": "",
                    "text": "",
                    "sent_via": "",
                    "delivery_status": "",
                }
                for i in range(MESSAGES)
            ],
        )


def _worker(database_url: str, fake: FakeResend, tmp_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HUMANIC_DATA_DIR": str(tmp_path / "data"),
        "RESEND_API_KEY": fake.api_key,
        "RESEND_API_URL": fake.url,
        "HUMANIC_PUBLIC_URL": "https://h.acme.io",
    }
    env.pop("REFLEX_REDIS_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "humanic_app", "worker"],
        cwd=PROJECT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _sent_count(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Message).where(Message.status == MessageStatus.sent)).one()


def test_killed_mid_dispatch_every_message_reaches_the_provider_exactly_once(engine, database_url, tmp_path):
    _seed(engine)
    with FakeResend() as fake:
        fake.answer_delay_s = 1.0
        fake.rate_limit_per_second = 50
        worker = _worker(database_url, fake, tmp_path)
        try:
            deadline = time.monotonic() + 30
            while len(fake.sent) < 100 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert len(fake.sent) >= 100, "the first batch never reached the provider"
            os.kill(worker.pid, signal.SIGKILL)  # accepted by Resend, answer not yet received or recorded
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
        accepted_before_crash = len(fake.sent)
        assert _sent_count(engine) == 0

        with engine.begin() as conn:  # the two-minute lease runs out
            conn.execute(
                update(Message.__table__)
                .where(Message.__table__.c.status == MessageStatus.sending)
                .values(lease_until=clock.now())
            )
        fake.answer_delay_s = 0.0
        worker = _worker(database_url, fake, tmp_path)
        try:
            deadline = time.monotonic() + 60
            while _sent_count(engine) < MESSAGES and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            worker.stdin.close()
            worker.wait(timeout=15)

    assert _sent_count(engine) == MESSAGES
    recipients = [s["to"][0] for s in fake.sent]
    assert len(recipients) == MESSAGES and len(set(recipients)) == MESSAGES  # nobody got it twice
    keys = [r["key"] for r in fake.requests if r["path"] == "/emails/batch"]
    assert len(keys) > len(set(keys)), "the interrupted batch was replayed under its key"
    with Session(engine) as session:
        ids = set(session.exec(select(Message.provider_message_id)))
    assert ids == {s["id"] for s in fake.sent}
    assert accepted_before_crash >= 100
