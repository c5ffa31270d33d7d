"""The background worker process (`python -m humanic_app worker`): it processes what the web process
stored when woken through its stdin, and exits as soon as that pipe closes (its web worker is gone)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from sqlmodel import Session, select

from humanic_app.models import Event, EventOutcome
from humanic_app.services import sources
from humanic_app.services.intake.storing import Delivery, store_deliveries
from humanic_app.services.intake.payloads import parse_body
from humanic_app.services.samples import posthog_event
from tests.support.server import PROJECT


def _outcomes(engine) -> list[EventOutcome]:
    with Session(engine) as session:
        return list(session.exec(select(Event.outcome).order_by(Event.id)))


def test_worker_processes_stored_events_and_exits_when_its_parent_pipe_closes(engine, database_url, tmp_path):
    with Session(engine) as session:
        source = sources.create_source(session=session, name="worker test")
        session.commit()
        source_id, mapping = source.id, source.mapping
    env = {**os.environ, "DATABASE_URL": database_url, "HUMANIC_DATA_DIR": str(tmp_path / "data")}
    worker = subprocess.Popen([sys.executable, "-m", "humanic_app", "worker"], cwd=PROJECT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)  # started and idle
        with Session(engine) as session:
            payload = json.dumps(posthog_event(event="user_signed_up", distinct_id="w1", email="w1@example.com"))
            events = parse_body(payload.encode(), mapping)
            store_deliveries(session=session, deliveries=[Delivery(source_id=source_id, headers={}, events=events)])
        worker.stdin.write(b"p")
        worker.stdin.flush()
        deadline = time.monotonic() + 10
        while _outcomes(engine) != [EventOutcome.processed] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _outcomes(engine) == [EventOutcome.processed]

        worker.stdin.close()
        assert worker.wait(timeout=10) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
