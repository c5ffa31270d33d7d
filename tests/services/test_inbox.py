"""SQLite's webhook inbox: the webhook appends to a file of its own and never waits for the main file's
write lock; the background worker moves the rows into the event table with their ids, exactly once,
deduplicated against both files, with their counters and the source's status."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from humanic_app import clock, db, migrations, wiring, workers
from humanic_app.db import read_scope, session_scope
from humanic_app.models import Event, EventOutcome, Source, SourceStatus
from humanic_app.services import dashboard, sources, stats
from humanic_app.services.intake import inbox, judging, payloads, storing
from humanic_app.services.samples import posthog_event


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    """The inbox exists only beside a SQLite file; PostgreSQL stores directly (see test_postgres_has_none)."""
    eng = db.make_engine(f"sqlite:///{tmp_path / 'humanic.db'}")
    with eng.begin() as conn:
        migrations.upgrade(connection=conn)
    yield eng
    eng.dispose()


@pytest.fixture
def source_id(engine) -> int:
    with session_scope(engine) as session:
        return sources.create_source(session=session, name="Production").id


def _delivery(source_id: int, uuid: str, *, distinct_id: str = "u1") -> storing.Delivery:
    body = posthog_event(event="user_signed_up", distinct_id=distinct_id, email=f"{distinct_id}@example.com")
    body["event"]["uuid"] = uuid
    return storing.Delivery(
        source_id=source_id, headers={}, events=payloads.parse_body(json.dumps(body).encode(), None), arrived=0.0
    )


def _append(engine: Engine, *deliveries: storing.Delivery) -> list[storing.StoredDelivery]:
    box = inbox.for_engine(engine)
    with box.append_turn() as (appending, snapshot):
        return storing.append_to_inbox(box=box, session=appending, main=snapshot, deliveries=list(deliveries))


def _move(engine: Engine) -> int:
    with session_scope(engine) as session:
        return storing.move_from_inbox(box=inbox.for_engine(engine), session=session)


def _events(engine: Engine) -> list[Event]:
    with Session(engine) as session:
        return list(session.exec(select(Event).order_by(Event.id)))


def test_postgres_has_none():
    from sqlalchemy import create_engine

    assert inbox.for_engine(create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")) is None
    assert inbox.for_engine(create_engine("sqlite://")) is None


def test_the_webhook_stores_while_processing_holds_the_main_files_write_lock(engine, source_id, monkeypatch):
    from humanic_app import background

    monkeypatch.setattr(background, "supervising", True)  # a background worker moves the rows
    with Session(engine) as session:
        token = session.get(Source, source_id).token
    body = json.dumps(posthog_event(event="user_signed_up", distinct_id="u1", email="u1@example.com")).encode()
    request = judging.WebhookRequest(token=token, headers={}, body=body)
    intake = wiring.intake_writer()
    answered: list[judging.Judged] = []
    db.use_engine(engine)
    try:
        with session_scope(engine) as holder:
            holder.connection()  # BEGIN IMMEDIATE: the main file's write lock, as a processing pass holds it
            judged = judging.judge(book=judging.SourceBook(), request=request)
            worker = threading.Thread(target=lambda: answered.extend(intake._store(lambda: [judged])))
            worker.start()
            worker.join(timeout=4)
            assert answered, "the webhook waited for the main file's write lock"
    finally:
        db.use_engine(None)
    assert answered[0].answer.status == 200 and answered[0].answer.body == {"accepted": 1, "duplicates": 0}
    assert _events(engine) == []  # answered from the inbox; nothing in the event table yet
    with Session(engine) as session:
        assert session.get(Source, source_id).status == SourceStatus.waiting_for_test_event
    assert _move(engine) == 1 and [e.id for e in _events(engine)] == answered[0].answer.event_ids


def test_moving_keeps_the_ids_the_webhook_answered_with_and_does_the_accounting(engine, source_id):
    [first] = _append(engine, _delivery(source_id, "e-1"))
    [second] = _append(engine, _delivery(source_id, "e-2", distinct_id="u2"))
    assert _move(engine) == 2
    assert _move(engine) == 0
    rows = _events(engine)
    assert [r.id for r in rows] == first.event_ids + second.event_ids
    assert [r.outcome for r in rows] == [EventOutcome.pending, EventOutcome.pending]
    assert rows[0].payload["event"]["uuid"] == "e-1" and rows[0].received_at is not None
    with Session(engine) as session:
        assert session.get(Source, source_id).status == SourceStatus.test_event_received
        assert stats.totals(session=session, name="received") == {str(source_id): 2}
        assert sum(stats.totals(session=session, name="webhook_ms").values()) == 2


def test_duplicates_are_found_in_the_inbox_and_after_they_left_it(engine, source_id):
    [original] = _append(engine, _delivery(source_id, "e-1"))
    [retry_in_inbox] = _append(engine, _delivery(source_id, "e-1"))
    assert (retry_in_inbox.accepted, retry_in_inbox.duplicates) == (0, 1)
    _move(engine)
    box = inbox.for_engine(engine)
    assert box.trim(upto=box.moved_upto) == 2
    [retry_after_move] = _append(engine, _delivery(source_id, "e-1"))
    assert (retry_after_move.accepted, retry_after_move.duplicates) == (0, 1)
    _move(engine)
    rows = _events(engine)
    assert [r.outcome for r in rows] == [EventOutcome.pending, EventOutcome.duplicate, EventOutcome.duplicate]
    assert rows[2].reason == f"duplicate of event #{original.event_ids[0]}"


def test_a_move_that_did_not_commit_moves_nothing_and_trims_nothing(engine, source_id):
    _append(engine, _delivery(source_id, "e-1"))
    box = inbox.for_engine(engine)
    with Session(engine) as session:
        assert storing.move_from_inbox(box=box, session=session) == 1
        session.rollback()  # the worker died before its commit
    assert box.trim(upto=box.moved_upto) == 0
    assert _move(engine) == 1 and len(_events(engine)) == 1


def test_a_restart_between_move_and_trim_moves_nothing_twice(engine, source_id):
    _append(engine, _delivery(source_id, "e-1"), _delivery(source_id, "e-2", distinct_id="u2"))
    assert _move(engine) == 2  # committed; the rows are still in the inbox file
    inbox._inboxes.clear()  # a new process
    assert _move(engine) == 0
    assert len(_events(engine)) == 2


def test_ids_run_on_across_batches_and_trims(engine, source_id):
    first, second = _append(engine, _delivery(source_id, "e-1"), _delivery(source_id, "e-2", distinct_id="u2"))
    assert second.event_ids[0] == first.event_ids[0] + 1
    _move(engine)
    box = inbox.for_engine(engine)
    assert box.trim(upto=box.moved_upto) == 2  # the inbox is empty again
    [third] = _append(engine, _delivery(source_id, "e-3"))
    assert third.event_ids[0] == second.event_ids[0] + 1
    assert _move(engine) == 1
    assert [r.id for r in _events(engine)] == first.event_ids + second.event_ids + third.event_ids


def test_a_new_inbox_beside_an_old_database_hands_out_fresh_ids(engine, source_id):
    with session_scope(engine) as session:
        storing.store_deliveries(session=session, deliveries=[_delivery(source_id, "e-1")])
    newest = _events(engine)[-1].id
    path = inbox.for_engine(engine).path
    inbox._inboxes.clear()
    os.remove(path)  # lost or deleted while empty
    [stored] = _append(engine, _delivery(source_id, "e-2"))
    assert stored.event_ids[0] > newest
    assert _move(engine) == 1


def test_an_inbox_behind_a_restored_database_catches_up_its_ids(engine, source_id):
    _append(engine, _delivery(source_id, "e-1"))
    _move(engine)
    with session_scope(engine) as session:  # the main file now holds events the inbox never saw
        session.add(Event(id=5000, source_id=source_id, outcome=EventOutcome.processed))
    inbox._inboxes.clear()  # the next start
    [stored] = _append(engine, _delivery(source_id, "e-2"))
    assert stored.event_ids[0] == 5001
    assert _move(engine) == 1


def test_a_row_clashing_with_the_event_table_is_stored_as_a_duplicate_not_stuck(engine, source_id):
    [stored] = _append(engine, _delivery(source_id, "e-1"))
    with session_scope(engine) as session:  # as if the key had reached the event table by another way
        session.add(
            Event(id=stored.event_ids[0] + 1000, source_id=source_id, dedupe_key="e-1", outcome=EventOutcome.processed)
        )
    assert _move(engine) == 1
    moved = next(r for r in _events(engine) if r.id == stored.event_ids[0])
    assert moved.outcome == EventOutcome.duplicate and moved.dedupe_key is None
    with Session(engine) as session:
        assert stats.totals(session=session, name="duplicate") == {str(source_id): 1}
        assert stats.totals(session=session, name="received") == {}


def test_the_worker_moves_then_processes_and_the_backlog_counts_the_inbox(engine, source_id):
    _append(engine, _delivery(source_id, "e-1"), _delivery(source_id, "e-2", distinct_id="u2"))
    with read_scope(engine) as session:
        backlog = dashboard.backlogs(session=session, now=clock.now())
    assert backlog.pending == 2 and backlog.oldest_pending is not None
    db.use_engine(engine)
    try:
        assert workers.process_available() == 2
    finally:
        db.use_engine(None)
    assert [r.outcome for r in _events(engine)] == [EventOutcome.processed, EventOutcome.processed]
    with read_scope(engine) as session:
        assert dashboard.backlogs(session=session, now=clock.now()).pending == 0
