"""The Integrations summary of a connected source: events received today, the last event, and today's refused
deliveries with the latest reason, counted per source through the real webhook intake."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from humanic_app import clock
from humanic_app.db import read_scope
from humanic_app.services import source_activity, sources
from humanic_app.services.intake import judging
from humanic_app.services.samples import posthog_event

NOON = datetime(2030, 5, 14, 12, 0, tzinfo=UTC)


def _deliver(engine: Engine, token: str, event: str, headers: dict[str, str] | None = None) -> int:
    body = json.dumps(posthog_event(event=event, distinct_id=f"d-{event}", email=f"{event}@x.io")).encode()
    request = judging.WebhookRequest(
        token=token, headers={"content-type": "application/json", **(headers or {})}, body=body
    )
    with read_scope(engine) as snapshot:
        book = judging.read_sources(session=snapshot)
    judged = [judging.judge(book=book, request=request)]
    with Session(engine) as session:
        judging.store_judged(session=session, judged=judged)
        session.commit()
    return judged[0].answer.status


def _source(engine: Engine, name: str, *, header: str = "") -> str:
    with Session(engine, expire_on_commit=False) as session:
        source = sources.create_source(session=session, name=name)
        if header:
            sources.update_security(
                session=session, source_id=source.id, signing_enabled=False, header_name=header, header_value="s3cret"
            )
        session.commit()
        return source.token


def _activity(engine: Engine, token: str) -> source_activity.SourceActivity:
    with Session(engine) as session:
        source = sources.find_by_token(session=session, token=token)
        assert source is not None
        return source_activity.source_activity(session=session, source_id=source.id)


def test_counts_today_per_source_and_names_the_last_event_and_the_latest_refusal(engine, monkeypatch):
    locked, other = _source(engine, "Locked", header="X-Key"), _source(engine, "Other")
    monkeypatch.setattr(clock, "now", lambda: NOON - timedelta(days=1))  # yesterday's do not count today
    assert _deliver(engine, locked, "yesterday_event", {"x-key": "s3cret"}) == 200
    assert _deliver(engine, locked, "refused_yesterday") == 401

    monkeypatch.setattr(clock, "now", lambda: NOON)
    assert _activity(engine, locked) == source_activity.SourceActivity(
        received_today=0,
        last_event_name="yesterday_event",
        last_event_at=NOON - timedelta(days=1),
        rejected_today=0,
        last_rejection="",
    )
    for name in ("signed_up", "checkout_started"):
        assert _deliver(engine, locked, name, {"x-key": "s3cret"}) == 200
    assert _deliver(engine, locked, "no_header") == 401
    assert _deliver(engine, other, "elsewhere") == 200  # another source's events are not this one's

    found = _activity(engine, locked)
    assert (found.received_today, found.last_event_name, found.rejected_today) == (2, "checkout_started", 1)
    assert found.last_event_at == NOON
    assert found.last_rejection == "401 missing or wrong x-key header"
    assert _activity(engine, other).received_today == 1
    assert _activity(engine, other).rejected_today == 0


def test_a_source_that_has_received_nothing_has_no_last_event(engine):
    token = _source(engine, "Fresh")
    assert _activity(engine, token) == source_activity.SourceActivity(0, "", None, 0, "")
