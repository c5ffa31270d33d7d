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
from humanic_app.services.intake.payloads import parse_body
from humanic_app.services.intake.storing import Delivery, store_deliveries
from humanic_app.services.samples import posthog_event
from tests.support import aio
from tests.support.server import PROJECT
from tests.support.waiting import has_database_open, wait_until


def _outcomes(engine) -> list[EventOutcome]:
    with Session(engine) as session:
        return list(session.exec(select(Event.outcome).order_by(Event.id)))


def test_worker_processes_stored_events_and_exits_when_its_parent_pipe_closes(engine, database_url, tmp_path):
    with Session(engine) as session:
        source = sources.create_source(session=session, name="worker test")
        session.commit()
        source_id, mapping = source.id, source.mapping
    env = {**os.environ, "DATABASE_URL": database_url, "HUMANIC_DATA_DIR": str(tmp_path / "data")}
    worker = subprocess.Popen(
        [sys.executable, "-m", "humanic_app", "worker"],
        cwd=PROJECT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: has_database_open(worker.pid, database_url), what="the worker opening its database")
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


def test_worker_run_as_a_service_of_its_own_ignores_stdin_polls_and_stops_on_sigterm(tmp_path):
    """As a service manager or a container starts it: stdin is /dev/null (EOF at once) and nobody wakes it."""
    import signal

    from humanic_app import migrations
    from humanic_app.db import make_engine

    database_url = f"sqlite:///{tmp_path / 'humanic.db'}"
    engine = make_engine(database_url)
    with engine.begin() as conn:
        migrations.upgrade(connection=conn)
    with Session(engine) as session:
        source = sources.create_source(session=session, name="service test")
        session.commit()
        source_id, mapping = source.id, source.mapping
    log = tmp_path / "worker.log"
    env = {**os.environ, "DATABASE_URL": database_url, "HUMANIC_DATA_DIR": str(tmp_path / "data")}
    env.pop("HUMANIC_WORKERS", None)  # the default, embedded: its web processes would start their own
    worker = subprocess.Popen(
        [sys.executable, "-m", "humanic_app", "worker"],
        cwd=PROJECT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        deadline = time.monotonic() + 20
        while "standalone" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "standalone" in log.read_text()
        with Session(engine) as session:
            payload = json.dumps(posthog_event(event="user_signed_up", distinct_id="s1", email="s1@example.com"))
            store_deliveries(
                session=session,
                deliveries=[Delivery(source_id=source_id, headers={}, events=parse_body(payload.encode(), mapping))],
            )
        deadline = time.monotonic() + 10
        while _outcomes(engine) != [EventOutcome.processed] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _outcomes(engine) == [EventOutcome.processed]
        assert worker.poll() is None

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 0
        assert "stopped" in log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        engine.dispose()


def test_workers_setting_defaults_to_embedded_and_refuses_unknown_modes():
    import pytest

    from humanic_app.settings import load_settings

    assert load_settings({}).workers == "embedded"
    assert load_settings({"HUMANIC_WORKERS": "External"}).workers == "external"
    with pytest.raises(ValueError, match="HUMANIC_WORKERS"):
        load_settings({"HUMANIC_WORKERS": "threads"})


def test_a_web_process_with_external_workers_starts_no_child(monkeypatch):
    import asyncio

    from humanic_app import background, settings

    spawned: list[bool] = []
    monkeypatch.setattr(settings, "get_settings", lambda: settings.load_settings({"HUMANIC_WORKERS": "external"}))
    monkeypatch.setattr(background, "_spawn", lambda: spawned.append(True))

    async def serve_briefly() -> tuple[bool, list[str]]:
        async with background.background_worker():
            return background.supervising, sorted(task.get_name() for task in asyncio.all_tasks())

    supervising, tasks = aio.run(serve_briefly())
    assert supervising is True  # the webhook leaves the inbox's rows to the workers
    assert "humanic-background-supervisor" not in tasks and spawned == []
    assert background.supervising is False
