"""The webhook intake judges each request against the sources as last read, then stores them in a short
write transaction; a source changed in between (rotated, secured, new) is judged again against the
current row."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from humanic_app.db import read_scope
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
