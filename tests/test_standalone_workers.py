"""Standalone workers (HUMANIC_WORKERS=external): two `python -m humanic_app worker` processes on one
PostgreSQL database, started as a service manager starts them (stdin /dev/null). Together they process
every event and send every email once, a periodic job runs once per period whichever of them holds its
lease, and SIGTERM stops each cleanly."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from humanic_app import clock
from humanic_app.db import make_engine
from humanic_app.models import CampaignStatus, Event, EventOutcome, Message, MessageStatus, SourceStatus, UserSession
from humanic_app.services import auth, sources, workspace
from humanic_app.services.campaigns import store
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event
from tests.support.postgres import migrated_postgres_database
from tests.support.server import PROJECT

PERIOD_SECONDS = 2.0
EVENTS = 30
# The real worker command, with the session purge's period shortened from an hour to PERIOD_SECONDS.
WORKER = f"""
import sys
from datetime import timedelta
from humanic_app import workers
from humanic_app.__main__ import main
workers.PERIODIC_JOBS = [workers.PeriodicJob("session-purge", timedelta(seconds={PERIOD_SECONDS}),
                                             workers.purge_sessions)]
sys.exit(main(["worker"]))
"""


@pytest.fixture
def pg_url():
    with migrated_postgres_database() as url:
        yield url


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _log_lines(paths: list[Path]) -> list[dict]:
    lines = []
    for worker, path in enumerate(paths):
        for line in path.read_text().splitlines():
            if line.startswith("{") and line.endswith("}"):  # the last line may still be being written
                lines.append({**json.loads(line), "worker": worker})
    return lines


def _purge_runs(paths: list[Path]) -> list[tuple[datetime, int]]:
    return sorted(
        (datetime.fromisoformat(line["time"]), line["worker"])
        for line in _log_lines(paths)
        if line["message"].startswith("periodic job session-purge ran")
    )


def _setup(engine) -> int:
    with Session(engine) as session:
        workspace.update_workspace(
            session=session, changes={"from_email": "hello@acme.io", "physical_address": "1 Main St"}
        )
        source = sources.create_source(session=session, name="Prod")
        sources.set_status(session=session, source_id=source.id, status=SourceStatus.active)
        campaign = store.create_campaign(
            session=session,
            document={
                "name": "Welcome",
                "trigger": {"event": "user_signed_up"},
                "steps": [{"subject": "Hi {{ name }}", "html": "<p>Welcome</p>"}],
            },
        )
        store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active)
        user = auth.create_user(session=session, email="owner@acme.io", password="a long password 1")
        for _ in range(3):
            auth.start_session(session=session, user=user, ttl=timedelta(seconds=-1))  # already expired
        session.commit()
        return source.id


def _store_events(engine, source_id: int, first: int, count: int) -> None:
    with Session(engine) as session:
        for i in range(first, first + count):
            body = posthog_event(
                event="user_signed_up",
                distinct_id=f"u{i}",
                email=f"u{i}@example.com",
                name=f"User {i}",
                timestamp=clock.now() - timedelta(seconds=1),
            )
            storing.store_deliveries(
                session=session,
                deliveries=[
                    storing.Delivery(
                        source_id=source_id, headers={}, events=payloads.parse_body(json.dumps(body).encode(), None)
                    )
                ],
            )


def _counts(engine) -> tuple[int, int]:
    with Session(engine) as session:
        processed = session.exec(
            select(func.count()).select_from(Event).where(Event.outcome == EventOutcome.processed)
        ).one()
        sent = session.exec(select(func.count()).select_from(Message).where(Message.status == MessageStatus.sent)).one()
    return processed, sent


def test_two_standalone_workers_share_the_work_and_run_a_periodic_job_once_per_period(pg_url, tmp_path):
    engine = make_engine(pg_url)
    source_id = _setup(engine)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("RESEND_", "HUMANIC_"))}
    env.update(
        DATABASE_URL=pg_url,
        HUMANIC_DATA_DIR=str(tmp_path / "data"),
        HUMANIC_WORKERS="external",
        HUMANIC_LOG_FORMAT="json",
    )
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=PROJECT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        for log in logs
    ]
    try:
        _wait_for(lambda: all("standalone" in log.read_text() for log in logs))
        started = clock.now()
        _store_events(engine, source_id, 0, EVENTS // 2)  # nobody wakes a standalone worker: it polls
        _wait_for(lambda: _counts(engine) == (EVENTS // 2, EVENTS // 2))
        _store_events(engine, source_id, EVENTS // 2, EVENTS - EVENTS // 2)
        _wait_for(lambda: _counts(engine) == (EVENTS, EVENTS))
        _wait_for(lambda: len(_purge_runs(logs)) >= 3)
        elapsed = (clock.now() - started).total_seconds()

        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        assert [worker.wait(timeout=15) for worker in workers] == [0, 0]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    lines = _log_lines(logs)
    assert not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")]
    sends = Counter(line["message_id"] for line in lines if line.get("outcome") == "sent")
    assert len(sends) == EVENTS and set(sends.values()) == {1}  # every email sent once, by one worker
    with Session(engine) as session:
        messages = session.exec(select(Message)).all()
        assert len(messages) == EVENTS and {m.attempts for m in messages} == {1}
        assert session.exec(select(func.count()).select_from(UserSession)).one() == 0  # the purge ran

    runs = _purge_runs(logs)
    gaps = [(b - a).total_seconds() for (a, _), (b, _) in itertools.pairwise(runs)]
    # Both workers tick the job every period; if both ran it, some two runs would be under half a period apart.
    assert min(gaps) > PERIOD_SECONDS / 2, runs
    assert len(runs) <= elapsed / PERIOD_SECONDS + 2, runs
    engine.dispose()
