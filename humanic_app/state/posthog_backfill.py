"""Settings → Recover missed events: a dry run of a backfill (services/posthog_backfill.py), then
the import, quietly or, once confirmed, firing emails. What was dry-run is what is imported: the import
buttons reuse the dry run's names and range, whatever the form says since. PostHog is read with the API
access set in its own section (state/posthog_access.py); a refusal about it shows in the panel's alert."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import reflex as rx

from humanic_app import clock
from humanic_app.db import session_scope
from humanic_app.services import posthog_backfill as backfill, wording
from humanic_app.services.campaigns import engine
from humanic_app.services.errors import ServiceError, ValidationFailed
from humanic_app.state.auth import AuthState, field_messages, signed_in

_FORM_MINUTE = "%Y-%m-%dT%H:%M"  # what a datetime-local input reads and writes
_SHOWN_MINUTE = "%Y-%m-%d %H:%M"
_FIELDS = ("events", "since", "until")  # refusals shown at the panel's fields
_PREFILL = ("backfill_events", "since", "until")


@dataclasses.dataclass(frozen=True)
class CountRow:
    event: str
    new: int
    duplicates: int


def _run(asked: backfill.Asked) -> dict[str, Any]:
    """Off the event loop: PostHog may take many seconds to page through. Its queries take the deployment's
    one PostHog budget, as the API's do."""
    from humanic_app.workers import posthog_limiter

    with session_scope() as session:
        return backfill.run(session=session, asked=asked, limiter=posthog_limiter())


def _stored(asked: dict[str, Any], **changes: Any) -> backfill.Asked:
    """An Asked from a backend var's copy (the state hands back proxies of its lists)."""
    return backfill.Asked(**{**asked, "events": list(asked["events"]), **changes})


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.replace("\n", ",").split(",") if name.strip()]


class BackfillState(AuthState):
    backfill_loaded: bool = False
    backfill_offered: list[str] = []  # the names the active campaigns read
    backfill_chosen: list[str] = []  # offered names ticked (from the address, or the last run)
    backfill_other: str = ""  # names typed, comma-separated
    backfill_since: str = ""  # UTC, as the datetime-local input reads it
    backfill_until: str = ""
    backfill_errors: dict[str, str] = {}  # refusals at their fields; "" for the rest
    backfill_busy: str = ""  # what is being asked of PostHog now
    backfill_done: bool = False  # a summary is shown
    backfill_title: str = ""
    backfill_asked: str = ""  # the names and range the summary is for
    backfill_totals: str = ""
    backfill_counts: list[CountRow] = []
    backfill_campaigns: list[str] = []
    backfill_emails: str = ""
    backfill_more: str = ""  # set while PostHog holds more than one run reads
    backfill_can_import: bool = False  # a dry run found events to import
    backfill_can_fire: bool = False  # ...and some of them trigger an active campaign
    backfill_confirm: str = ""  # what "Import and send emails" will do, in the confirm dialog
    backfill_general: str = ""  # a refusal no field of the panel holds (PostHog busy, no host set…)
    _range: dict[str, Any] = {}  # the last dry run's names and range: what the import buttons import
    _range_new: int = 0  # events that dry run (and its continuations) found new
    _last: dict[str, Any] = {}  # the last run, which Continue repeats from where it stopped
    _resume: str = ""

    def _read_offered(self) -> None:
        with self._read_call() as session:
            self.backfill_offered = engine.used_event_names(session)

    def _prefill(self) -> None:
        """From the address: a finding links here with names and a range (and #posthog-backfill)."""
        given = {k: self.router.url.query_parameters.get(k, "") for k in _PREFILL}
        if not any(given.values()):
            return
        names = _names(given["backfill_events"])
        self.backfill_chosen = [n for n in names if n in self.backfill_offered]
        self.backfill_other = ", ".join(n for n in names if n not in self.backfill_offered)
        errors: dict[str, str] = {}
        for field in ("since", "until"):
            try:
                found = backfill.moment(text=given[field], field=field) if given[field] else None
            except ValidationFailed as exc:
                errors.update(exc.field_errors)
                continue
            if found is not None:
                setattr(self, f"backfill_{field}", found.strftime(_FORM_MINUTE))
        self._show_errors(errors)

    @rx.event
    @signed_in
    def load_backfill(self):
        self._show_errors({})
        self.backfill_busy = ""
        self._read_offered()
        now = clock.now().replace(second=0, microsecond=0)
        self.backfill_since = (now - timedelta(days=1)).strftime(_FORM_MINUTE)
        self.backfill_until = now.strftime(_FORM_MINUTE)
        self.backfill_loaded = True
        self._prefill()

    def _asked_from(self, form: dict) -> dict[str, Any] | None:
        """The form's names and range, with each refusal at its field."""
        ticked = [n for n in self.backfill_offered if form.get(f"event:{n}") in ("on", True, "true")]
        self.backfill_chosen, self.backfill_other = ticked, str(form.get("other_events", ""))
        self.backfill_since, self.backfill_until = str(form.get("since", "")), str(form.get("until", ""))
        errors: dict[str, str] = {}
        moments = {}
        for field in ("since", "until"):
            try:
                moments[field] = backfill.moment(text=getattr(self, f"backfill_{field}"), field=field)
            except ValidationFailed as exc:
                errors.update(exc.field_errors)
        names = list(dict.fromkeys([*ticked, *_names(self.backfill_other)]))
        if not names:
            errors["events"] = "Tick or type at least one event name."
        self._show_errors(errors)
        if errors:
            return None
        return {"events": names, "since": moments["since"], "until": moments["until"]}

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.backfill_errors = errors
        self.backfill_general = " ".join(m for f, m in errors.items() if f not in _FIELDS)

    async def _call(self, asked: backfill.Asked, busy: str, *, fresh_range: bool = False):
        self._show_errors({})
        self.backfill_busy = busy
        yield
        try:
            summary = await asyncio.to_thread(_run, asked)
        except ServiceError as exc:
            self._show_errors(field_messages(exc))
            self.backfill_busy = ""
            return
        self.backfill_busy = ""
        self._last = {**dataclasses.asdict(dataclasses.replace(asked, events=[])), "events": list(asked.events)}
        self._resume = summary["resume_since"] or ""
        if fresh_range:
            self._range = {"events": list(asked.events), "since": asked.since, "until": asked.until}
            self._range_new = 0
        if asked.dry_run:
            self._range_new += summary["to_import"]
        self._show(summary, asked)

    def _show(self, summary: dict[str, Any], asked: backfill.Asked) -> None:
        dry, fire = summary["dry_run"], summary["fire_emails"]
        self.backfill_done = True
        self.backfill_title = (
            "Dry run: nothing imported yet"
            if dry
            else "Imported; emails go out as each campaign's rules allow"
            if fire
            else "Imported quietly: no email sent"
        )
        span = f"{asked.since.strftime(_SHOWN_MINUTE)} to {asked.until.strftime(_SHOWN_MINUTE)} UTC"
        self.backfill_asked = f"{', '.join(asked.events)}, {span}"
        self.backfill_totals = (
            f"Fetched {summary['fetched']} · new {summary['to_import']} · already received {summary['duplicates']}"
            + ("" if dry else f" · imported {summary['imported']}")
        )
        self.backfill_counts = [CountRow(n, c["new"], c["duplicates"]) for n, c in summary["by_event"].items()]
        campaigns = summary["campaigns"]
        self.backfill_campaigns = [
            f"{c['campaign']}: {c['events']} new {c['trigger']} event{'' if c['events'] == 1 else 's'}"
            for c in campaigns
        ]
        self.backfill_emails = summary["emails"]
        self.backfill_more = (
            ""
            if summary["complete"]
            else f"This run stopped at {summary['resume_since']} UTC: {summary['stopped_because']} "
            "Continue to read on from there."
            if summary["stopped_because"]
            else f"PostHog holds more than one run reads: this one stopped at {summary['resume_since']} UTC. "
            "Continue to read on from there."
        )
        self.backfill_can_import = dry and self._range_new > 0
        self.backfill_can_fire = self.backfill_can_import and bool(campaigns)
        enrolments = sum(c["events"] for c in campaigns)
        self.backfill_confirm = (
            f"{', '.join(c['campaign'] for c in campaigns)}: up to "
            f"{wording.plural(enrolments, 'contact', 'contacts')} enrolled and emailed, as each campaign's rules "
            "allow. Sent emails cannot be taken back."
        )

    @rx.event
    @signed_in
    async def dry_run_backfill(self, form: dict):
        self.backfill_done = self.backfill_can_import = self.backfill_can_fire = False
        found = self._asked_from(form)
        if found is None:
            return
        asked = backfill.Asked(**found, dry_run=True)
        async for step in self._call(asked, "Asking PostHog what it holds…", fresh_range=True):
            yield step

    @rx.event
    @signed_in
    async def import_backfill(self, fire_emails: bool):
        """The whole range the dry run read, quietly or firing emails."""
        if not self._range:
            return
        asked = _stored(self._range, dry_run=False, fire_emails=bool(fire_emails))
        self.backfill_can_import = self.backfill_can_fire = False
        async for step in self._call(asked, "Importing from PostHog…"):
            yield step

    @rx.event
    @signed_in
    async def continue_backfill(self):
        """The last run again, from where PostHog's paging stopped."""
        if not self._last or not self._resume:
            return
        resumed = backfill.moment(text=self._resume, field="since")
        asked = _stored(self._last, since=resumed)
        async for step in self._call(asked, "Reading on from PostHog…"):
            yield step
