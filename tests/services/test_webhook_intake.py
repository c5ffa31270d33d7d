"""The webhook intake judges requests from a read-only snapshot, then stores them in a short write
transaction; a source changed in between (rotated, secured) is judged again against the current row."""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from humanic_app.db import read_scope
from humanic_app.models import Event, EventOutcome
from humanic_app.services import sources, webhook_intake
from humanic_app.services.samples import posthog_event


def _request(token: str, distinct_id: str) -> webhook_intake.WebhookRequest:
    body = json.dumps(posthog_event(event="user_signed_up", distinct_id=distinct_id, email=f"{distinct_id}@x.io"))
    return webhook_intake.WebhookRequest(token=token, headers={"content-type": "application/json"},
                                         body=body.encode())


def _new_source(engine: Engine) -> tuple[int, str]:
    with Session(engine, expire_on_commit=False) as session:
        source = sources.create_source(session=session, name="intake")
        session.commit()
        return source.id, source.token


def test_judged_then_stored_in_two_steps(engine):
    _, token = _new_source(engine)
    requests = [_request(token, "a"), _request(token, "b"), _request("nope", "c")]
    with read_scope(engine) as snapshot:
        judgement = webhook_intake.judge_requests(session=snapshot, requests=requests)
    with Session(engine) as session:
        answers = webhook_intake.store_judged(session=session, requests=requests, judgement=judgement)
        session.commit()
    assert [a.status for a in answers] == [200, 200, 404]
    with Session(engine) as session:
        outcomes = list(session.exec(select(Event.outcome).order_by(Event.id)))
    assert outcomes == [EventOutcome.pending, EventOutcome.pending, EventOutcome.rejected]


def test_rotation_between_snapshot_and_write_answers_404(engine):
    source_id, token = _new_source(engine)
    requests = [_request(token, "a")]
    with read_scope(engine) as snapshot:
        judgement = webhook_intake.judge_requests(session=snapshot, requests=requests)
    assert judgement.judged[0][1].status == 200
    with Session(engine) as session:
        sources.rotate_token(session=session, source_id=source_id)
        session.commit()
    with Session(engine) as session:
        answers = webhook_intake.store_judged(session=session, requests=requests, judgement=judgement)
        session.commit()
    assert answers[0].status == 404
    assert "rotated webhook URL" in answers[0].body["error"]


def test_signing_turned_on_between_snapshot_and_write_answers_401(engine):
    source_id, token = _new_source(engine)
    requests = [_request(token, "a")]
    with read_scope(engine) as snapshot:
        judgement = webhook_intake.judge_requests(session=snapshot, requests=requests)
    with Session(engine) as session:
        sources.update_security(session=session, source_id=source_id, signing_enabled=True)
        session.commit()
    with Session(engine) as session:
        answers = webhook_intake.store_judged(session=session, requests=requests, judgement=judgement)
        session.commit()
    assert answers[0].status == 401
    with Session(engine) as session:
        assert session.exec(select(Event.outcome)).one() == EventOutcome.rejected
