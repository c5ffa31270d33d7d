"""The reputation guardrail while sending: rolling 24 h complaint and bounce rates, per campaign and for the
whole workspace, from Resend's delivery events; over the warning line a finding, over the pause line an
automatic pause (the campaign, or for the workspace all sending) with the cause in numbers, until Resume.

- **Window.** The hourly counters (services/stats.py: `delivered`, `bounced`, `complained`, keyed by campaign
  id, bumped when Resend's event arrives): the current UTC hour so far and the 23 before it. So each check is
  a sum over at most 24 rows per campaign, and an event stops counting 23 to 24 hours after it arrived.
- **Denominator.** Emails delivered or bounced in the window. A bounced email was never delivered, but it is
  an attempt the mailbox providers judge; counting it keeps both rates on one base and a bounce rate ≤ 100 %.
  complaint % = complaints / (delivered + bounced); bounce % = bounces / (delivered + bounced). Below the
  minimum volume of that denominator no rate is computed (a handful of emails proves nothing).
- **Resume.** Counting restarts at the Resume: only events that arrive after it count (the hour of the Resume
  keeps the counts it had then as a baseline, subtracted), so a Resume never re-pauses on the events that
  caused the pause; the window grows back to 24 h as time passes, and the minimum volume applies again.
- **When.** On each bounce and complaint: only they raise a rate. A rate that crosses a line without one (the
  minimum volume reached by deliveries, old deliveries leaving the window) is acted on at the next bounce or
  complaint, which a campaign over a line soon brings; the delivered events, most of the traffic, cost nothing.
- **Concurrency.** The check runs in the transaction of the event that may cross the line, after its count
  is bumped. On PostgreSQL it first takes a transaction-scoped advisory lock, so concurrent deliveries check
  one after the other, each seeing the counts the earlier ones committed: a crossing is never missed, and
  only the first check that sees it pauses (the pause is conditional on the campaign still being active, or
  the workspace window not paused yet). SQLite's writers take turns already.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, text, update
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import WORKSPACE_SCOPE, Campaign, CampaignStatus, RateWindow, Stat, Workspace
from humanic_app.models.workspace import WORKSPACE_ID
from humanic_app.services import stats
from humanic_app.services.errors import ValidationFailed

NAMES = ("delivered", "bounced", "complained")
WINDOW_HOURS = 24
BLOCK_FOR = timedelta(days=3650)  # a guardrail pause lasts until someone resumes
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
LOCK_KEY = 0x48525054  # any constant; PostgreSQL advisory locks are named by numbers
THRESHOLD_FIELDS = (
    "rate_min_volume",
    "complaint_warn_pct",
    "complaint_pause_pct",
    "bounce_warn_pct",
    "bounce_pause_pct",
)
MAX_MIN_VOLUME = 1_000_000


class Level(str, enum.Enum):
    ok = "ok"
    too_few = "too_few"  # under the minimum volume: no rate yet
    warn = "warn"
    pause = "pause"


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """The lines, as the workspace holds them (its columns carry the defaults)."""

    min_volume: int
    complaint_warn: float
    complaint_pause: float
    bounce_warn: float
    bounce_pause: float

    @classmethod
    def of(cls, ws: Workspace) -> Thresholds:
        return cls(
            ws.rate_min_volume, ws.complaint_warn_pct, ws.complaint_pause_pct, ws.bounce_warn_pct, ws.bounce_pause_pct
        )


@dataclasses.dataclass(frozen=True)
class Counts:
    delivered: int = 0
    bounced: int = 0
    complained: int = 0
    since: datetime | None = None  # the Resume counting restarted at, when it is inside the window

    @property
    def denominator(self) -> int:
        return self.delivered + self.bounced

    def pct(self, part: int) -> float:
        return 100 * part / self.denominator if self.denominator else 0.0


@dataclasses.dataclass(frozen=True)
class Verdict:
    level: Level
    cause: str  # the numbers behind a warning or a pause, "" otherwise


def judge(*, counts: Counts, thresholds: Thresholds) -> Verdict:
    """Pure: where the rates stand against the lines. Both rates are checked; the worse line wins."""
    if counts.denominator < thresholds.min_volume or counts.denominator == 0:
        return Verdict(Level.too_few, "")
    lines = {
        Level.pause: (thresholds.complaint_pause, thresholds.bounce_pause),
        Level.warn: (thresholds.complaint_warn, thresholds.bounce_warn),
    }
    for level, (complaint_line, bounce_line) in lines.items():
        over = [
            (what, n, line)
            for what, n, line in (
                ("complaints", counts.complained, complaint_line),
                ("bounces", counts.bounced, bounce_line),
            )
            if n and counts.pct(n) >= line
        ]
        if over:
            return Verdict(level, "; ".join(_describe(counts, what, n, line) for what, n, line in over))
    return Verdict(Level.ok, "")


def _describe(counts: Counts, what: str, n: int, line: float) -> str:
    span = f"since Resume at {counts.since:%Y-%m-%d %H:%M} UTC" if counts.since else "in the last 24 h"
    return (
        f"{_pct(counts.pct(n))} % {what} ({n:,} of {counts.denominator:,} delivered or bounced) {span}, "
        f"{'at' if counts.pct(n) == line else 'over'} {_pct(line)} %"
    )


def _pct(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value < 10 else f"{value:.1f}".rstrip("0").rstrip(".")


def _window_start(now: datetime) -> datetime:
    return stats.hour_of(now) - timedelta(hours=WINDOW_HOURS - 1)


def _summed(session: Session, start: datetime) -> dict[tuple[str, str], dict[datetime, int]]:
    """{(key, name): {hour: count}} of the three counters from `start`, every campaign's (for a page)."""
    stmt = select(Stat.key, Stat.name, Stat.hour, Stat.count).where(col(Stat.name).in_(NAMES), Stat.hour >= start)
    found: dict[tuple[str, str], dict[datetime, int]] = {}
    for row_key, name, hour, n in session.exec(stmt):
        found.setdefault((row_key, name), {})[hour] = n
    return found


def _totals_statement(by_key: bool):
    stmt = (
        select(Stat.name, func.sum(Stat.count))
        .where(col(Stat.name).in_(NAMES), col(Stat.hour) >= bindparam("first"))
        .group_by(Stat.name)
    )
    return stmt.where(col(Stat.key) == bindparam("key")) if by_key else stmt


# Built once: they run in the transaction of every delivered, bounced and complained event.
_TOTALS = {True: _totals_statement(True), False: _totals_statement(False)}


def _totals(session: Session, first: datetime, key: str | None) -> dict[str, int]:
    """{name: count} of the three counters from the hour `first` on, summed by the database (the hot path)."""
    params: dict[str, object] = {"first": first} | ({"key": key} if key is not None else {})
    return {name: int(n) for name, n in session.execute(_TOTALS[key is not None], params)}


def _hourly_totals(hourly: dict[str, dict[datetime, int]]) -> Callable[[datetime], dict[str, int]]:
    """`_totals` over counters already read by the hour (one read for every campaign on a page)."""
    return lambda first: {name: sum(n for hour, n in hourly.get(name, {}).items() if hour >= first) for name in NAMES}


def _counts(totals_from: Callable[[datetime], dict[str, int]], window: RateWindow | None, start: datetime) -> Counts:
    """The window's counts (`totals_from(first hour)` sums the counters): from the later of the window's start
    and the Resume, less what the Resume's hour already held when it happened."""
    since = window.since if window is not None else None
    first, baseline = start, {name: 0 for name in NAMES}
    if window is not None and since is not None and stats.hour_of(since) >= start:
        first = stats.hour_of(since)
        baseline = {
            "delivered": window.baseline_delivered,
            "bounced": window.baseline_bounced,
            "complained": window.baseline_complained,
        }
    else:
        since = None
    totals = totals_from(first)
    delivered, bounced, complained = (max(0, totals.get(name, 0) - baseline[name]) for name in NAMES)
    return Counts(delivered, bounced, complained, since=since)


def _by_name(found: dict[tuple[str, str], dict[datetime, int]], key: str | None) -> dict[str, dict[datetime, int]]:
    merged: dict[str, dict[datetime, int]] = {}
    for (row_key, name), hours in found.items():
        if key is None or row_key == key:
            target = merged.setdefault(name, {})
            for hour, n in hours.items():
                target[hour] = target.get(hour, 0) + n
    return merged


def window_counts(*, session: Session, scope: str) -> Counts:
    """The rolling counts of one scope: WORKSPACE_SCOPE, or a campaign id as a string."""
    start = _window_start(clock.now())
    key = None if scope == WORKSPACE_SCOPE else scope
    return _counts(lambda first: _totals(session, first, key), session.get(RateWindow, scope), start)


def _workspace(session: Session) -> Workspace:
    return session.get(Workspace, WORKSPACE_ID) or Workspace(id=WORKSPACE_ID)


def _take_turn(session: Session) -> None:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK, {"key": LOCK_KEY})


def _window(session: Session, scope: str) -> RateWindow:
    window = session.get(RateWindow, scope)
    if window is None:
        window = RateWindow(scope=scope)
        session.add(window)
    return window


def check_after_event(*, session: Session, campaign_id: int | None) -> list[str]:
    """Called in the transaction that counted a bounced or complained event of a campaign's email
    (or a test email's, which counts for the workspace only): pauses what crossed its pause line. Returns the
    pauses made, in words (for the log and the tests)."""
    return _check(session, [] if campaign_id is None else [campaign_id])


def sweep(*, session: Session) -> list[str]:
    """The background worker's look every few minutes (`workers.PERIODIC_JOBS`) at every active campaign and
    the workspace: it catches a crossing that no bounce or complaint brought — the minimum volume reached by
    deliveries alone, or old deliveries leaving the window while the complaints stay."""
    active = session.exec(select(Campaign.id).where(Campaign.status == CampaignStatus.active)).all()
    return _check(session, [campaign_id for campaign_id in active if campaign_id is not None])


def _check(session: Session, campaign_ids: list[int]) -> list[str]:
    """Pauses each of the campaigns, then the workspace, that is over a pause line; the pauses in words."""
    _take_turn(session)
    ws = _workspace(session)
    thresholds = Thresholds.of(ws)
    made = []
    for campaign_id in campaign_ids:
        verdict = judge(counts=window_counts(session=session, scope=str(campaign_id)), thresholds=thresholds)
        if verdict.level == Level.pause and (reason := _pause_campaign(session, campaign_id, verdict.cause)):
            made.append(reason)
    verdict = judge(counts=window_counts(session=session, scope=WORKSPACE_SCOPE), thresholds=thresholds)
    if verdict.level == Level.pause and (reason := _pause_workspace(session, ws, verdict.cause)):
        made.append(reason)
    return made


def _pause_campaign(session: Session, campaign_id: int, cause: str) -> str:
    """Pauses an active campaign, once: the update holds only while it is still active."""
    name = session.exec(select(Campaign.name).where(Campaign.id == campaign_id)).first()
    reason = f"Campaign “{name}” paused: {cause}."[:1000]
    paused = session.execute(
        update(Campaign)
        .where(col(Campaign.id) == campaign_id, col(Campaign.status) == CampaignStatus.active)
        .values(status=CampaignStatus.paused, paused_reason=reason, updated_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )
    if not paused.rowcount:  # type: ignore[attr-defined]
        return ""
    window = _window(session, str(campaign_id))
    window.paused_at, window.paused_reason = clock.now(), reason[:500]
    session.add(window)
    return reason


def _pause_workspace(session: Session, ws: Workspace, cause: str) -> str:
    window = _window(session, WORKSPACE_SCOPE)
    if window.paused_at is not None:
        return ""
    reason = f"All sending paused: {cause}. Find the campaign behind it, then Resume sending in Settings."
    window.paused_at, window.paused_reason = clock.now(), reason[:500]
    ws.sending_blocked_until, ws.sending_blocked_reason = clock.now() + BLOCK_FOR, reason[:500]
    session.add_all([window, ws])
    return reason


def restart_after_resume(*, session: Session, scope: str) -> None:
    """Resume of a scope the guardrail paused: counting restarts now (see the module's docstring). A scope
    paused by hand, or not at all, keeps its window."""
    _take_turn(session)
    window = session.get(RateWindow, scope)
    if window is None or window.paused_at is None:
        return
    now = clock.now()
    key = None if scope == WORKSPACE_SCOPE else scope
    current = _totals(session, stats.hour_of(now), key)
    window.since, window.paused_at, window.paused_reason = now, None, ""
    window.baseline_delivered, window.baseline_bounced, window.baseline_complained = (
        current.get(name, 0) for name in NAMES
    )
    session.add(window)


def paused_by_guardrail(*, session: Session) -> dict[str, str]:
    """{scope: reason} of what the guardrail paused and nobody resumed yet."""
    return dict(
        session.exec(
            select(RateWindow.scope, RateWindow.paused_reason).where(col(RateWindow.paused_at).is_not(None))
        ).all()
    )


@dataclasses.dataclass(frozen=True)
class Standing:
    """One scope's rates as Settings and the API show them."""

    scope: str
    name: str
    counts: Counts
    verdict: Verdict
    paused_reason: str

    def as_dict(self) -> dict[str, Any]:
        c = self.counts
        has_rate = self.verdict.level != Level.too_few
        return {
            "scope": self.scope,
            "campaign_id": None if self.scope == WORKSPACE_SCOPE else int(self.scope),
            "name": self.name,
            "delivered": c.delivered,
            "bounced": c.bounced,
            "complained": c.complained,
            "denominator": c.denominator,
            "complaint_pct": round(c.pct(c.complained), 3) if has_rate else None,
            "bounce_pct": round(c.pct(c.bounced), 3) if has_rate else None,
            "counting_since": c.since.isoformat() if c.since else None,
            "level": self.verdict.level.value,
            "cause": self.verdict.cause,
            "paused_reason": self.paused_reason,
        }


def standings(*, session: Session) -> list[Standing]:
    """The workspace first, then every campaign with delivery events in the window or paused by the
    guardrail, worst first. Read-only: one query over the counters, one over the windows."""
    thresholds = Thresholds.of(_workspace(session))
    start = _window_start(clock.now())
    found = _summed(session, start)
    windows = {w.scope: w for w in session.exec(select(RateWindow))}
    ids = {int(key) for key, _ in found if key.isdigit()} | {
        int(s) for s, w in windows.items() if s.isdigit() and w.paused_at
    }
    names = dict(session.exec(select(Campaign.id, Campaign.name).where(col(Campaign.id).in_(ids))).all()) if ids else {}
    rows = []
    for scope, name in [(WORKSPACE_SCOPE, "All campaigns (workspace)")] + [
        (str(i), names[i]) for i in ids if i in names
    ]:
        window = windows.get(scope)
        counts = _counts(_hourly_totals(_by_name(found, None if scope == WORKSPACE_SCOPE else scope)), window, start)
        paused = window.paused_reason if window is not None and window.paused_at else ""
        rows.append(Standing(scope, name, counts, judge(counts=counts, thresholds=thresholds), paused))
    order = {Level.pause: 0, Level.warn: 1, Level.ok: 2, Level.too_few: 3}
    return rows[:1] + sorted(rows[1:], key=lambda s: (not s.paused_reason, order[s.verdict.level], s.name))


@dataclasses.dataclass(frozen=True)
class Alert:
    """A troubleshooting finding (services/diagnostics.py turns it into one)."""

    case: str
    key: str
    problem: str
    fix: str
    href: str


CASE = "Mailbox providers may block your emails"


def alerts(*, session: Session) -> list[Alert]:
    """Pauses the guardrail made (with their cause) and warnings: rates over the warning line."""
    found = []
    for standing in standings(session=session):
        workspace_wide = standing.scope == WORKSPACE_SCOPE
        if standing.paused_reason:
            found.append(
                Alert(
                    CASE,
                    f"reputation_paused:{standing.scope}",
                    standing.paused_reason,
                    (
                        "Find the campaign or list behind it (Settings → Sending reputation shows each campaign's "
                        "rates), stop mailing addresses that never engaged, then Resume sending in Settings."
                        if workspace_wide
                        else "Check who this campaign mails (old or bought lists bounce and complain) and what it "
                        "says, then Activate it again here (or Resume in Settings → Sending reputation)."
                    )
                    + " After a Resume only events from then on count.",
                    "/settings" if workspace_wide else "/campaigns",
                )
            )
        elif standing.verdict.level in (Level.warn, Level.pause):
            found.append(
                Alert(
                    CASE,
                    f"reputation_warning:{standing.scope}",
                    f"{'All campaigns' if workspace_wide else f'Campaign “{standing.name}”'}: {standing.verdict.cause}"
                    + (
                        " (the warning line)."
                        if standing.verdict.level == Level.warn
                        else " (the pause line: it pauses when the next delivery event of its emails arrives)."
                    ),
                    "Nothing is paused yet. Check the audience and content before it reaches the pause line "
                    "(Settings → Sending reputation).",
                    "/settings",
                )
            )
    return found


def thresholds_as_dict(ws: Workspace) -> dict[str, Any]:
    return {field: getattr(ws, field) for field in THRESHOLD_FIELDS}


def clean_thresholds(*, current: Workspace, changes: dict[str, Any]) -> dict[str, Any]:
    """The settings as given over the current ones, or ValidationFailed naming each field."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for field, value in changes.items():
        if field not in THRESHOLD_FIELDS:
            errors[field] = f"Unknown setting. Editable: {', '.join(THRESHOLD_FIELDS)}."
            continue
        if field == "rate_min_volume":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MIN_VOLUME:
                errors[field] = f"A whole number of emails from 1 to {MAX_MIN_VOLUME:,}."
            else:
                cleaned[field] = value
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 100:
            errors[field] = "A percentage above 0 and at most 100, like 0.3."
        else:
            cleaned[field] = float(value)
    merged = thresholds_as_dict(current) | cleaned
    for what in ("complaint", "bounce"):
        warn, pause = f"{what}_warn_pct", f"{what}_pause_pct"
        if warn not in errors and pause not in errors and merged[pause] < merged[warn]:
            errors[pause if pause in changes else warn] = (
                f"The pause line ({_pct(merged[pause])} %) must be at or above the warning line "
                f"({_pct(merged[warn])} %)."
            )
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def update_thresholds(*, session: Session, changes: dict[str, Any]) -> Workspace:
    ws = session.get(Workspace, WORKSPACE_ID)
    if ws is None:
        ws = Workspace(id=WORKSPACE_ID)
        session.add(ws)
    for field, value in clean_thresholds(current=ws, changes=changes).items():
        setattr(ws, field, value)
    ws.updated_at = clock.now()
    session.add(ws)
    session.flush()
    return ws
