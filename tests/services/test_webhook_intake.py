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

from humanic_app import clock, migrations
from humanic_app.db import make_engine, read_scope
from humanic_app.models import Event, EventOutcome, Source, SourceStatus
from humanic_app.services import sources, stats
from humanic_app.services.intake import judging, storing
from humanic_app.services.intake.payloads import IncomingEvent
from humanic_app.services.samples import posthog_event


def _request(token: str, distinct_id: str) -> judging.WebhookRequest:
    body = json.dumps(posthog_event(event="user_signed_up", distinct_id=distinct_id, email=f"{distinct_id}@x.io"))
    return judging.WebhookRequest(token=token, headers={"content-type": "application/json"}, body=body.encode())


def _new_source(engine: Engine, name: str = "intake") -> tuple[int, str]:
    with Session(engine, expire_on_commit=False) as session:
        source = sources.create_source(session=session, name=name)
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


def _columns(engine: Engine, source_id: int) -> list[tuple]:
    """Every stored column but the id and source, JSON as its text (so JSON's null and SQL's NULL differ)."""
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.exec_driver_sql(
                "SELECT received_at, outcome, reason, dedupe_key, event_uuid, event_name, distinct_id, email, "
                "person_id, timestamp, payload::text, headers::text, mapped::text, contact_id, processed_at "
                "FROM event WHERE source_id = %(source)s ORDER BY id",
                {"source": source_id},
            )
        ]


def test_on_postgresql_the_array_insert_stores_exactly_what_the_plain_insert_stores(pg_engine):
    """The webhook's PostgreSQL insert passes one array per column; the rows must come out as SQLAlchemy's
    own multi-row insert writes them: every outcome, None payloads as JSON's null, times, unicode."""
    first, _ = _new_source(pg_engine)
    second, _ = _new_source(pg_engine, "intake 2")
    incoming = [
        IncomingEvent(
            document={"event": "signed_up", "properties": {"name": 'Zoë "Z" ✓', "n": 1.5, "none": None}},
            event_name="signed_up",
            event_uuid="u-1",
            distinct_id="d-1",
            timestamp="2026-12-04T10:00:00.123Z",
            email="zoe@x.io",
            person_id="p-1",
        ),
        IncomingEvent(None, None, None, None, timestamp=None, legacy_text="hi"),
        IncomingEvent({"event": "repeat"}, "repeat", "u-1", "d-1", timestamp=1),
    ]

    def deliveries(source_id: int) -> list[storing.Delivery]:
        return [
            storing.Delivery(source_id=source_id, headers={"content-type": "application/json"}, events=incoming),
            storing.Delivery(source_id=source_id, headers={}, rejected_reason="401 bad signature", raw_excerpt=None),
            storing.Delivery(source_id=source_id, headers={"x": "y"}, rejected_reason="400 bad JSON", raw_excerpt="{"),
            storing.Delivery(
                source_id=source_id, headers={}, dropped=incoming[:1], dropped_reason="202 written back by Humanic"
            ),
        ]

    now = clock.now()
    with pg_engine.begin() as connection:
        plain = storing._plan(deliveries(first), {}, now).rows
        connection.execute(storing._insert_new_events("postgresql"), plain)
        arrays = storing._plan(deliveries(second), {}, now).rows
        returned = storing._insert_rows(connection, arrays)
    assert [row.dedupe_key for row in returned] == ["u-1", None, None, None, None, None]  # plan order, ids ascending
    assert [row.id for row in returned] == sorted(row.id for row in returned)
    assert _columns(pg_engine, second) == _columns(pg_engine, first)
    assert len(_columns(pg_engine, first)) == 6


class _Round:
    """A round of the group commit as storing sees it (group_commit.Round), driven by the test."""

    def __init__(self, previous: _Round | None = None) -> None:
        self.previous = previous
        self.inserted = threading.Event()
        self.may_finish = threading.Event()
        self.finished = threading.Event()
        self.order: list[str] = []

    def let_next_begin(self) -> None:
        self.order.append("inserted")
        self.inserted.set()

    def wait_for_previous(self) -> None:
        self.order.append("waited")
        if self.previous is not None:
            assert self.previous.finished.wait(20)
        assert self.may_finish.wait(20)


def _store_in_round(engine: Engine, judged: list[judging.Judged], this_round: _Round) -> None:
    try:
        with Session(engine) as session:
            judging.store_judged(session=session, judged=judged, overlap=this_round)
            session.commit()
    finally:
        this_round.finished.set()


def test_on_postgresql_the_next_round_inserts_while_one_commits_and_a_repeat_waits_for_that_commit(pg_engine):
    """Two rounds at once: the second's repeat of a key the first has inserted but not committed waits
    for that commit and becomes its duplicate; the second round's ids come after the first's, and it
    commits after it. Nothing deadlocks, though both bump the same counters."""
    source_id, token = _new_source(pg_engine)
    repeated = _request(token, "a")
    first, second = _Round(), None
    first_round = threading.Thread(target=_store_in_round, args=(pg_engine, _judge(pg_engine, [repeated]), first))
    first_round.start()
    assert first.inserted.wait(20)
    second = _Round(previous=first)
    second.may_finish.set()
    later = _judge(pg_engine, [_request(token, "b"), repeated])
    second_round = threading.Thread(target=_store_in_round, args=(pg_engine, later, second))
    second_round.start()
    assert _waits_on_a_lock(pg_engine), "the repeat should wait for the first round's COMMIT"
    assert not second.finished.is_set()
    first.may_finish.set()
    first_round.join(20)
    second_round.join(20)
    assert second.finished.is_set() and not second_round.is_alive()
    assert first.order == second.order == ["inserted", "waited"]
    assert [j.answer.body for j in later] == [{"accepted": 1, "duplicates": 0}, {"accepted": 0, "duplicates": 1}]
    rows = {row[0]: row for row in _rows(pg_engine)}
    (first_id,) = [i for i, row in rows.items() if row[1:3] == ("a", EventOutcome.pending)]
    assert rows[later[1].answer.event_ids[0]][2:] == (EventOutcome.duplicate, f"duplicate of event #{first_id}")
    assert min(later[0].answer.event_ids + later[1].answer.event_ids) > first_id
    with read_scope(pg_engine) as session:
        assert stats.totals(session=session, name="received") == {str(source_id): 2}
        assert stats.totals(session=session, name="duplicate") == {str(source_id): 1}
