"""A processing pass that schedules an email due now wakes the dispatcher at once (the webhook-to-inbox
latency depends on it); a pass that schedules nothing, or only later emails, leaves it to its tick."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta

import pytest

from humanic_app import clock, db, workers
from humanic_app.models import CampaignStatus
from humanic_app.services.campaigns import store
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event
from tests.support import aio
from tests.support.campaign_world import World, linear


@pytest.fixture
def woken(engine, monkeypatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(workers, "wake_dispatcher", lambda: calls.append("dispatcher"))
    db.use_engine(engine)
    yield calls
    db.use_engine(None)


def _store(world: World, event: str, at) -> None:
    body = posthog_event(event=event, distinct_id="u1", email="ada@example.com", name="Ada", timestamp=at)
    storing.store_deliveries(
        session=world.session,
        deliveries=[
            storing.Delivery(
                source_id=world.source.id, headers={}, events=payloads.parse_body(json.dumps(body).encode(), None)
            )
        ],
    )


def test_only_a_pass_that_schedules_an_email_due_now_wakes_the_dispatcher(session, woken):
    world = World(session)
    world.campaign(linear("onboarding-activation"))  # user_signed_up → an email at once, then 2 d and 5 d later
    drop_off = store.create_campaign(session=session, document=linear("drop-off-recovery"))
    store.set_status(session=session, campaign_id=drop_off.id, status=CampaignStatus.active)
    session.commit()

    _store(world, "pricing_page_viewed", clock.now())  # no campaign of this workspace fires on it
    assert workers.process_available() == 1
    assert woken == []

    _store(world, "checkout_started", clock.now())  # its email is due in 24 h: the tick is soon enough
    assert workers.process_available() == 1
    assert woken == []

    _store(world, "user_signed_up", clock.now() - timedelta(seconds=1))
    assert workers.process_available() == 1
    assert woken == ["dispatcher"]


def test_the_processing_loop_wakes_the_dispatcher_it_was_given(session, woken, monkeypatch):
    monkeypatch.setattr(workers, "_processing_here", False)  # the loop claims this process; undone after
    world = World(session)
    world.campaign(linear("onboarding-activation"))
    session.commit()
    _store(world, "user_signed_up", clock.now() - timedelta(seconds=1))
    given: list[str] = []

    async def scenario() -> None:
        loop, called = asyncio.get_running_loop(), asyncio.Event()

        def wake() -> None:  # called from the pass's thread
            given.append("given")
            loop.call_soon_threadsafe(called.set)

        task = asyncio.create_task(workers.processing_loop(wake_dispatcher=wake))
        try:
            await asyncio.wait_for(called.wait(), timeout=10)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    aio.run(scenario())
    assert given == ["given"]
    assert woken == []  # not this process's own ticker: the one passed in
