"""The webhook intake judges each request against the sources as last read, then stores them in a short
write transaction; a source changed in between (rotated, secured, new) is judged again against the
current row."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from humanic_app import migrations
from humanic_app.db import make_engine, read_scope
from humanic_app.models import Event, EventOutcome, Source, SourceStatus
from humanic_app.services import sources
from humanic_app.services.intake import judging
from humanic_app.services.samples import posthog_event


def _request(token: str, distinct_id: str) -> judging.WebhookRequest:
    body = json.dumps(posthog_event(event="user_signed_up", distinct_id=distinct_id, email=f"{distinct_id}@x.io"))
    return judging.WebhookRequest(token=token, headers={"content-type": "application/json"}, body=body.encode())


def _new_source(engine: Engine) -> tuple[int, str]:
    with Session(engine, expire_on_commit=False) as session:
        source = sources.create_source(session=session, name="intake")
        session.commit()
        return source.id, source.token


def _judge(engine: Engine, requests: list[judging.WebhookRequest]) -> list[judging.Judged]:
    with read_scope(engine) as snapshot:
        book = judging.read_sources(session=snapshot)
    return [judging.judge(book=book, request=r) for r in requests]


def _store(engine: Engine, judged: list[judging.Judged]) -> list[judging.WebhookAnswer]:
    with Session(engine) as session:
        judging.store_judged(session=session, judged=judged)
        session.commit()
    return [item.answer for item in judged]


def test_judged_then_stored_in_two_steps(engine):
    _, token = _new_source(engine)
    requests = [_request(token, "a"), _request(token, "b"), _request("nope", "c")]
    judged = _judge(engine, requests)
    with Session(engine) as session:
        judging.store_judged(session=session, judged=judged)
        session.commit()
    assert [j.answer.status for j in judged] == [200, 200, 404]
    with Session(engine) as session:
        outcomes = list(session.exec(select(Event.outcome).order_by(Event.id)))
    assert outcomes == [EventOutcome.pending, EventOutcome.pending, EventOutcome.rejected]


def test_rotation_between_snapshot_and_write_answers_404(engine):
    source_id, token = _new_source(engine)
    requests = [_request(token, "a")]
    judged = _judge(engine, requests)
    assert judged[0].answer.status == 200
    with Session(engine) as session:
        sources.rotate_token(session=session, source_id=source_id)
        session.commit()
    answers = _store(engine, judged)
    assert answers[0].status == 404
    assert "rotated webhook URL" in answers[0].body["error"]


def test_signing_turned_on_between_snapshot_and_write_answers_401(engine):
    source_id, token = _new_source(engine)
    requests = [_request(token, "a")]
    judged = _judge(engine, requests)
    with Session(engine) as session:
        sources.update_security(session=session, source_id=source_id, signing_enabled=True)
        session.commit()
    answers = _store(engine, judged)
    assert answers[0].status == 401
    with Session(engine) as session:
        assert session.exec(select(Event.outcome)).one() == EventOutcome.rejected


def test_a_source_created_after_the_sources_were_read_accepts_at_once(engine):
    stale = judging.SourceBook()  # what the web process knew before the source existed
    source_id, token = _new_source(engine)
    judged = [judging.judge(book=stale, request=_request(token, "a"))]
    assert judged[0].answer.status == 404
    answers = _store(engine, judged)
    assert answers[0].status == 200 and answers[0].body == {"accepted": 1, "duplicates": 0}
    with Session(engine) as session:
        assert session.exec(select(Event.source_id, Event.outcome)).one() == (source_id, EventOutcome.pending)


def test_first_event_marks_the_source_heard_and_later_ones_keep_it_current(engine):
    source_id, token = _new_source(engine)
    _store(engine, _judge(engine, [_request(token, "a")]))
    with Session(engine) as session:
        source = session.get(Source, source_id)
        assert source.status == SourceStatus.test_event_received
        first_heard = source.last_event_at
        source.last_event_at = first_heard - timedelta(minutes=5)
        session.add(source)
        session.commit()
    _store(engine, _judge(engine, [_request(token, "b")]))
    with Session(engine) as session:
        source = session.get(Source, source_id)
        assert source.status == SourceStatus.test_event_received
        assert source.last_event_at >= first_heard


def _rows(engine: Engine) -> list[tuple]:
    with Session(engine) as session:
        return list(session.exec(select(Event.id, Event.distinct_id, Event.outcome, Event.reason).order_by(Event.id)))


def test_a_repeat_in_a_later_group_is_a_duplicate_of_the_stored_event_and_ids_stay_with_their_requests(engine):
    _, token = _new_source(engine)
    first, second = _request(token, "a"), _request(token, "b")
    _store(engine, _judge(engine, [first, second]))
    answers = _store(engine, _judge(engine, [_request(token, "c"), first, _request(token, "d")]))
    assert [a.body for a in answers] == [
        {"accepted": 1, "duplicates": 0},
        {"accepted": 0, "duplicates": 1},
        {"accepted": 1, "duplicates": 0},
    ]
    rows = {row[0]: row for row in _rows(engine)}
    first_id = next(row[0] for row in rows.values() if row[1] == "a" and row[2] == EventOutcome.pending)
    assert [rows[a.event_ids[0]][1:3] for a in answers] == [
        ("c", EventOutcome.pending),
        ("a", EventOutcome.duplicate),
        ("d", EventOutcome.pending),
    ]
    assert rows[answers[1].event_ids[0]][3] == f"duplicate of event #{first_id}"


@pytest.fixture
def pg_engine(postgres_url) -> Iterator[Engine]:
    eng = make_engine(postgres_url)
    with eng.begin() as conn:
        migrations.upgrade(connection=conn)
    yield eng
    eng.dispose()


def test_on_postgresql_a_group_that_repeats_nothing_costs_no_key_lookup_and_no_source_read_of_its_own(pg_engine):
    """The insert's unique key finds repeats (ON CONFLICT DO NOTHING), the sources read for judging give
    the count and the "last heard": a group is the sources' read, the insert, the counters and the commit."""
    _, token = _new_source(pg_engine)
    _store(pg_engine, _judge(pg_engine, [_request(token, "a")]))  # marks the source heard
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()).lower())

    event.listen(pg_engine, "before_cursor_execute", record)
    try:
        answers = _store(pg_engine, _judge(pg_engine, [_request(token, "b"), _request(token, "c")]))
    finally:
        event.remove(pg_engine, "before_cursor_execute", record)
    assert [a.body for a in answers] == [{"accepted": 1, "duplicates": 0}] * 2
    writes = [s.split(" (")[0] for s in statements if not s.startswith("select source.token_hash")]
    assert writes == ["insert into event", "insert into stat"], statements


def test_on_postgresql_a_key_another_transaction_is_storing_waits_for_it_and_becomes_its_duplicate(pg_engine):
    source_id, token = _new_source(pg_engine)
    request = _request(token, "a")
    uuid = json.loads(request.body)["event"]["uuid"]
    judged = _judge(pg_engine, [request, _request(token, "b")])
    competitor = Session(pg_engine)
    competitor.add(Event(source_id=source_id, dedupe_key=uuid, event_uuid=uuid, distinct_id="a", headers={}))
    competitor.flush()  # the key is taken, not yet committed
    competing_id = competitor.exec(select(Event.id)).one()
    storing = threading.Thread(target=_store, args=(pg_engine, judged))
    storing.start()
    assert _waits_on_a_lock(pg_engine), "the insert should wait for the competitor's transaction"
    competitor.commit()
    competitor.close()
    storing.join(timeout=30)
    assert [j.answer.body for j in judged] == [{"accepted": 0, "duplicates": 1}, {"accepted": 1, "duplicates": 0}]
    rows = {row[0]: row for row in _rows(pg_engine)}
    assert rows[judged[0].answer.event_ids[0]][2:] == (EventOutcome.duplicate, f"duplicate of event #{competing_id}")
    assert rows[judged[1].answer.event_ids[0]][1:3] == ("b", EventOutcome.pending)


def _waits_on_a_lock(engine: Engine, timeout_s: float = 20) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.exec_driver_sql(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).first():
                return True
        time.sleep(0.05)
    return False
