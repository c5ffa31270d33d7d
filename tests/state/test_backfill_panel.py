"""Recover missed events (state/posthog_backfill.py) when PostHog holds more than one run reads: the panel
says where it stopped, Continue reads on from there, and the import buttons import the whole range the dry
run read — not only the part Continue read last."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from datetime import UTC, timedelta

import pytest
from sqlmodel import select

from humanic_app import clock, db
from humanic_app.models import Event
from humanic_app.services import posthog_backfill as backfill
from humanic_app.services.posthog import connection
from humanic_app.state.posthog_backfill import BackfillState
from tests.support.campaign_world import T0, World, linear

NOW = T0 + timedelta(hours=1)


class _Panel:
    """Stands in for the page state: its fields, and the state's own helpers."""

    _call = BackfillState.__dict__["_call"]
    _show = BackfillState.__dict__["_show"]
    _show_errors = BackfillState.__dict__["_show_errors"]

    def __init__(self):
        self._range, self._range_new, self._last, self._resume = {}, 0, {}, ""
        self.backfill_busy = self.backfill_more = ""


def _handler(name: str):
    """The handler itself, under its sign-in guard (tests/state/test_auth_guard.py checks the guard)."""
    return BackfillState.__dict__[name].fn.__wrapped__


def _drive(steps) -> None:
    async def drain():
        async for _ in steps:
            pass

    asyncio.run(drain())


@pytest.fixture
def panel(engine, session, posthog, monkeypatch, operator_secret_in_tmp) -> Iterator[_Panel]:
    """Five sign-ups in PostHog; one run reads two (two a page, one page)."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    World(session).campaign(linear("onboarding-activation"))
    connection.save(
        session=session,
        host=posthog.url,
        api_key=posthog.api_key,
        personal_api_key=posthog.personal_api_key,
        project_id=posthog.project_id,
    )
    session.commit()
    for i in range(5):
        posthog.add_event(
            uuid=f"0190d5a4-0000-7000-8000-00000000002{i}",
            event="user_signed_up",
            distinct_id=f"u{i}",
            timestamp=(T0 + timedelta(minutes=i)).astimezone(UTC).isoformat(),
            properties={"email": f"p{i}@example.com"},
        )
    small = functools.partial(backfill.run, page_size=2, max_pages=1, sleep=lambda _s: None)
    monkeypatch.setattr(backfill, "run", small)
    db.use_engine(engine)
    yield _Panel()
    db.use_engine(None)


def _stored(session) -> int:
    session.expire_all()
    found = len(session.exec(select(Event.id).where(Event.source_id.is_(None))).all())
    session.commit()
    return found


def test_continue_reads_on_and_the_import_covers_the_whole_range(panel, session):
    asked = backfill.Asked(events=["user_signed_up"], since=T0 - timedelta(hours=1), until=NOW, dry_run=True)
    _drive(panel._call(asked, "…", fresh_range=True))
    assert panel.backfill_more.startswith("PostHog holds more than one run reads: this one stopped at")
    assert panel.backfill_totals.startswith("Fetched 2 · new 2") and panel.backfill_can_import

    _drive(_handler("continue_backfill")(panel))  # the dry run, read on
    assert panel.backfill_title == "Dry run: nothing imported yet" and panel.backfill_can_import
    assert panel._range["since"] == T0 - timedelta(hours=1)  # the import still starts where the dry run did
    assert _stored(session) == 0

    _drive(_handler("import_backfill")(panel, False))
    assert panel.backfill_title == "Imported quietly: no email sent" and panel.backfill_more
    for _ in range(6):  # Continue until PostHog has nothing more (each run reads from where the last stopped)
        if not panel.backfill_more:
            break
        _drive(_handler("continue_backfill")(panel))
        assert panel.backfill_title == "Imported quietly: no email sent"
    assert panel.backfill_more == "" and _stored(session) == 5
