"""What the Dashboard draws: activity charts, the per-campaign funnel and pipeline health, from the hourly
counters (services/stats.py) plus a few indexed look-ups, so it loads fast at millions of events."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Campaign, CampaignStatus, Event, EventOutcome, Message, MessageStatus, Source
from humanic_app.services import rate_limit, retention, sources, stats
from humanic_app.services.delivery import pacing
from humanic_app.services.intake import inbox
from humanic_app.services.posthog import writeback

RANGES = {"24h": (timedelta(hours=24), False), "7d": (timedelta(days=7), True), "30d": (timedelta(days=30), True)}
GMAIL_BOUNCE_TARGET, GMAIL_NEVER = 0.1, 0.3  # percent: Gmail's sender guidelines
TOP = 5


def _buckets(since: datetime, now: datetime, by_day: bool) -> list[datetime]:
    step = timedelta(days=1) if by_day else timedelta(hours=1)
    start = stats.hour_of(since).replace(hour=0) if by_day else stats.hour_of(since)
    found, moment = [], start
    while moment <= now:
        found.append(moment)
        moment += step
    return found


def _label(moment: datetime, by_day: bool) -> str:
    return moment.strftime("%m-%d") if by_day else moment.strftime("%H:00")


def _chart(buckets, by_day, series: Mapping[str, Mapping[datetime, float]], *, empty: bool | None = None) -> dict:
    """`empty`: nothing to draw, so the page says what will fill the chart instead of drawing bare axes. By
    default, when every value is 0; a rate chart is empty only when there was nothing to take a rate of."""
    names = list(series)
    rows = [{"t": _label(b, by_day), **{name: series[name].get(b, 0) for name in names}} for b in buckets]
    if empty is None:
        empty = not any(row[name] for row in rows for name in names)
    return {"rows": rows, "series": names, "empty": empty}


PERCENT_TOPS = (0.5, 1, 2, 5, 10, 20, 50, 100)


def percent_top(rows: list[dict[str, Any]], names: list[str]) -> float:
    """The top of a percent axis starting at 0: the smallest round step above the data with a fifth to spare,
    never below 0.5 % so Gmail's 0.1 % and 0.3 % lines are always in view, never above 100 %."""
    highest = max((float(row[name]) for row in rows for name in names), default=0.0)
    return next((top for top in PERCENT_TOPS if highest * 1.2 <= top), 100)


def _top(found: dict[tuple[str, str], Any], name: str, label=lambda key: key) -> dict[str, dict]:
    """The TOP biggest keys of one counter by total, the rest summed as 'other'."""
    keyed = {key: counts for (n, key), counts in found.items() if n == name}
    ordered = sorted(keyed, key=lambda k: -sum(keyed[k].values()))
    series = {label(k) or "(none)": dict(keyed[k]) for k in ordered[:TOP]}
    if len(ordered) > TOP:
        other: dict = {}
        for key in ordered[TOP:]:
            for bucket, n in keyed[key].items():
                other[bucket] = other.get(bucket, 0) + n
        series["other"] = other
    return series


def _summed(found, name: str) -> dict[datetime, int]:
    total: dict[datetime, int] = {}
    for (n, _), counts in found.items():
        if n == name:
            for bucket, value in counts.items():
                total[bucket] = total.get(bucket, 0) + value
    return total


def overview(*, session: Session, range_key: str = "24h") -> dict[str, Any]:
    span, by_day = RANGES.get(range_key, RANGES["24h"])
    now = clock.now()
    since = now - span
    buckets = _buckets(since, now, by_day)
    found = stats.series(
        session=session,
        since=since,
        by_day=by_day,
        names=[
            "received",
            "event",
            "rejected",
            "contact_created",
            "scheduled",
            "sent",
            "failed",
            "suppressed",
            "unsubscribed",
            "bounced",
            "complained",
            "webhook_ms",
            "webhook_non2xx",
        ],
    )
    source_names = {str(s.id): sources.label(s) for s in session.exec(select(Source))}
    sent, bounced, complained = _summed(found, "sent"), _summed(found, "bounced"), _summed(found, "complained")

    def rate(part: dict) -> dict:
        return {b: round(100 * part.get(b, 0) / sent[b], 3) for b in sent if sent[b]}

    latency = {}
    for bucket in buckets:
        counts = {key: c.get(bucket, 0) for (n, key), c in found.items() if n == "webhook_ms"}
        p50, p99 = stats.quantile_ms(counts, 0.5), stats.quantile_ms(counts, 0.99)
        if p50 is not None and p99 is not None:  # both None exactly when the bucket has no answers
            latency[bucket] = (p50, p99)
    charts = {
        "events_by_source": _chart(buckets, by_day, _top(found, "received", lambda k: source_names.get(k, k))),
        "events_by_name": _chart(buckets, by_day, _top(found, "event")),
        "rejected": _chart(buckets, by_day, _top(found, "rejected")),
        "contacts": _chart(buckets, by_day, {"contacts created": _summed(found, "contact_created")}),
        "emails": _chart(
            buckets, by_day, {name: _summed(found, name) for name in ("scheduled", "sent", "failed", "suppressed")}
        ),
        "engagement": _chart(
            buckets,
            by_day,
            {"unsubscribes": _summed(found, "unsubscribed"), "bounces": bounced, "complaints": complained},
        ),
        "rates": _chart(
            buckets,
            by_day,
            {"bounce rate %": rate(bounced), "complaint rate %": rate(complained)},
            empty=not any(sent.values()),
        ),
        "webhook": _chart(
            buckets,
            by_day,
            {
                "p50 ms": {b: v[0] for b, v in latency.items() if v[0] != float("inf")},
                "p99 ms": {b: v[1] for b, v in latency.items() if v[1] != float("inf")},
                "non-2xx": _summed(found, "webhook_non2xx"),
            },
        ),
    }
    charts["rates"]["top"] = percent_top(charts["rates"]["rows"], charts["rates"]["series"])
    return {
        "range": range_key,
        "charts": charts,
        "funnel": funnel(session=session, since=since),
        "health": health(session=session, since=since),
        "limits": {"bounce_target": GMAIL_BOUNCE_TARGET, "never": GMAIL_NEVER},
    }


def funnel(*, session: Session, since: datetime) -> list[dict[str, Any]]:
    """Per campaign over the period: enrolled → sent → delivered → opened → clicked → reached its goal,
    and how many of its emails are due in the next 24 hours."""
    totals = {
        name: stats.totals(session=session, name=name, since=since)
        for name in ("enrolled", "sent", "delivered", "opened", "clicked", "goal")
    }
    now = clock.now()
    upcoming = dict(
        session.exec(
            select(Message.campaign_id, func.count())
            .where(
                Message.status == MessageStatus.scheduled,
                Message.due_at <= now + timedelta(hours=24),
                col(Message.campaign_id).is_not(None),
            )
            .group_by(col(Message.campaign_id))
        ).all()
    )
    rows = []
    for campaign in session.exec(
        select(Campaign).where(Campaign.status != CampaignStatus.archived).order_by(col(Campaign.id))
    ):
        key = str(campaign.id)
        rows.append(
            {
                "id": campaign.id,
                "name": campaign.name,
                "status": campaign.status.value,
                **{name: totals[name].get(key, 0) for name in totals},
                "next_24h": upcoming.get(campaign.id, 0),
            }
        )
    return rows


@dataclasses.dataclass
class Backlogs:
    """Accepted but unprocessed events, and due but unsent messages, each with its oldest item."""

    pending: int
    oldest_pending: datetime | None
    due: int
    oldest_due: datetime | None


def backlogs(*, session: Session, now: datetime) -> Backlogs:
    oldest_pending: datetime | None
    pending, oldest_pending = session.exec(
        select(func.count(), func.min(Event.received_at)).where(Event.outcome == EventOutcome.pending)
    ).one()
    box = inbox.for_engine(session.get_bind().engine)
    if box is not None:  # SQLite: accepted rows not yet moved out of the webhook's inbox count too
        waiting, oldest_waiting = box.waiting(after=inbox.cursor_of(session.connection()))
        pending += waiting
        oldest_pending = min(filter(None, (oldest_pending, oldest_waiting)), default=None)
    due, oldest_due = session.exec(
        select(func.count(), func.min(Message.due_at)).where(
            Message.status == MessageStatus.scheduled, Message.due_at <= now
        )
    ).one()
    return Backlogs(pending, oldest_pending, due, oldest_due)


def health(*, session: Session, since: datetime) -> dict[str, Any]:
    """Webhook answer times and errors over the period; both backlogs now, with their oldest item."""
    now = clock.now()
    buckets = stats.totals(session=session, name="webhook_ms", since=since)
    queues = backlogs(session=session, now=now)

    def age(moment: datetime | None) -> str:
        return "–" if moment is None else f"{max(0, int((now - moment).total_seconds()))} s"

    return {
        "answers": sum(buckets.values()),
        "p50": stats.describe_ms(stats.quantile_ms(buckets, 0.5)),
        "p99": stats.describe_ms(stats.quantile_ms(buckets, 0.99)),
        "non_2xx": sum(stats.totals(session=session, name="webhook_non2xx", since=since).values()),
        "processing_backlog": queues.pending,
        "processing_oldest": age(queues.oldest_pending),
        "dispatch_backlog": queues.due,
        "dispatch_oldest": age(queues.oldest_due),
        "dispatcher_errors": sum(stats.totals(session=session, name="dispatcher_error", since=since).values()),
        "render_errors": sum(stats.totals(session=session, name="render_error", since=since).values()),
        "pruned": sum(stats.totals(session=session, name="pruned", since=since).values()),
        "pruned_last_run": _last_pruning(session, now),
        "pacing": _pacing(session),
        "partitions": _partition_failures(session, now),
        **writeback.health(session=session, since=since),
    }


def _pacing(session: Session) -> str:
    """Empty unless some worker paces its sends locally because Redis is unreachable."""
    local = pacing.workers_pacing_locally(session=session)
    if not local:
        return ""
    workers = "1 worker paces its" if local == 1 else f"{local} workers pace their"
    return (
        f"Redis is unreachable: {workers} sends with a local rate limiter, at {rate_limit.FALLBACK_SHARE:.0%} of "
        "Resend's rate, until it answers again. Sending goes on; check Redis (REFLEX_REDIS_URL)."
    )


def _partition_failures(session: Session, now: datetime) -> str:
    """Empty unless PostgreSQL partition passes failed this hour or the last (UTC hours, as every counter)."""
    failed = stats.totals(session=session, name=stats.PARTITION_FAILED, since=now - timedelta(hours=1))
    if not failed:
        return ""
    count = sum(failed.values())
    kinds = ", ".join(sorted(failed))
    passes = "1 processing pass" if count == 1 else f"{count} processing passes"
    return (
        f"{passes} failed this hour or the last ({kinds}) and left {'its' if count == 1 else 'their'} events to "
        "one pass at a time: nothing is lost, but extra workers add no speed while this recurs. The worker's "
        "log has the error."
    )


def _last_pruning(session: Session, now: datetime) -> str:
    last = retention.state(session=session).last_run_at
    return "never" if last is None else f"{max(0, int((now - last).total_seconds() // 60))} min ago"
