"""The two volume limits of the send-time gate: a sending domain's warm-up cap for the UTC day
(services/warmup.py) and a campaign's `emails_per_minute` over a rolling minute.

What a limit does not let go now stays `scheduled`, says why in its last error, and is moved to when it
can go (the next UTC day; the minute a slot frees), so the claim goes on to other campaigns' emails
instead of finding the same held rows again. Held rows keep their due order: each joins the end of the
line for its release time (`in_line`).

Several dispatchers on PostgreSQL claim disjoint rows, so each would count the same sends and together
exceed a cap: the count is taken under a transaction-scoped advisory lock per domain and per campaign,
held until the pass commits its rows as `sending`, which the next dispatcher's count then includes.
Advisory locks touch no row, and only this module takes them, in a fixed order (domain, then campaigns by
id), so they cannot deadlock with row locks. SQLite has one writer at a time already."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from sqlalchemy import func, literal, text, union_all
from sqlmodel import Session, col, select

from humanic_app.models import Campaign, Domain, Message, MessageStatus
from humanic_app.services import warmup

RATE_WINDOW = timedelta(minutes=1)
RATE_PREFIX = "waiting (campaign rate)"
_LOCK_DOMAIN, _LOCK_CAMPAIGN = 18_001, 18_002  # advisory lock namespaces (pg_advisory_xact_lock's first key)


def emails_per_minute(campaign: Campaign | None) -> int | None:
    value = (campaign.definition or {}).get("emails_per_minute") if campaign else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def in_line(release: datetime, position: int) -> datetime:
    """The release time plus a microsecond per email already waiting for it: rows are held in claim order,
    which is due order, so they go out in due order when the release comes, however often they wait."""
    return release + timedelta(microseconds=position)


def _lock(session: Session, namespace: int, row_id: int) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": namespace, "b": row_id})


@dataclasses.dataclass
class _DomainBudget:
    name: str
    cap: int
    sent: int
    queued: int  # already waiting for the next day


@dataclasses.dataclass
class _CampaignBudget:
    name: str
    rate: int
    used: int
    frees_at: datetime  # when the oldest send in the window leaves it
    queued: int  # already held for this rate, waiting for a later slot


@dataclasses.dataclass
class Throttle:
    now: datetime
    domain: _DomainBudget | None
    campaigns: dict[int, _CampaignBudget]

    @classmethod
    def load(cls, session: Session, *, domain: Domain | None, campaigns: list[Campaign], now: datetime) -> Throttle:
        """Takes the locks and counts; call once per pass, before gating, within the pass's transaction."""
        budget = None
        cap = warmup.cap_today(domain, now) if domain is not None else None
        if domain is not None and cap is not None:
            _lock(session, _LOCK_DOMAIN, domain.id or 0)
            sent = warmup.sent_today(session=session, domain_name=domain.name, at=now, up_to=cap)
            budget = _DomainBudget(domain.name, cap, sent, _waiting_for(session, warmup.next_day_start(now)))
        rated = {c.id: c for c in sorted(campaigns, key=lambda c: c.id or 0) if c.id and emails_per_minute(c)}
        budgets = {}
        for campaign_id, campaign in rated.items():
            _lock(session, _LOCK_CAMPAIGN, campaign_id)
            budgets[campaign_id] = _campaign_budget(session, campaign, now)
        return cls(now, budget, budgets)

    def admit(self, message: Message) -> tuple[datetime, str] | None:
        """None when the email may go now (it is counted); otherwise when to look again, and why. A test
        send goes to the team and is never held, though it counts towards the domain's day."""
        if message.is_test:
            if self.domain is not None:
                self.domain.sent += 1
            return None
        if self.domain is not None and self.domain.sent >= self.domain.cap:
            reason = warmup.held_reason(cap=self.domain.cap, sent=self.domain.sent, domain_name=self.domain.name)
            self.domain.queued += 1
            return in_line(warmup.next_day_start(self.now), self.domain.queued), reason
        rate = self.campaigns.get(message.campaign_id or 0)
        if rate is not None and rate.used >= rate.rate:
            slot = rate.frees_at + RATE_WINDOW * (rate.queued // rate.rate)
            rate.queued += 1
            reason = (
                f"{RATE_PREFIX}: {rate.rate:,} per minute for '{rate.name}'; next at {slot.strftime('%H:%M:%S')} UTC"
            )
            return in_line(slot, rate.queued), reason
        if self.domain is not None:
            self.domain.sent += 1
        if rate is not None:
            rate.used += 1
        return None


def held(*, session: Session, campaign: Campaign) -> int:
    """The campaign's emails waiting for its send rate (ix_message_campaign_sent)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Message)
            .where(
                Message.campaign_id == campaign.id,
                Message.status == MessageStatus.scheduled,
                col(Message.last_error).startswith(RATE_PREFIX),
            )
        ).one()
    )


def _waiting_for(session: Session, release: datetime) -> int:
    """Rows already waiting for `release` (on the status and due index)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Message)
            .where(
                Message.status == MessageStatus.scheduled,
                col(Message.due_at) >= release,
                col(Message.due_at) < release + timedelta(seconds=1),
            )
        ).one()
    )


def _campaign_budget(session: Session, campaign: Campaign, now: datetime) -> _CampaignBudget:
    mine = (col(Message.campaign_id) == campaign.id, col(Message.is_test).is_(False))
    # Sent in the window and in flight, in one statement (one snapshot on PostgreSQL): read apart, a row
    # another dispatcher moved from sending to sent between the reads would be counted in neither.
    rows = session.execute(
        union_all(
            select(Message.sent_at, literal(True).label("done")).where(
                *mine, Message.status == MessageStatus.sent, col(Message.sent_at) > now - RATE_WINDOW
            ),
            select(Message.sent_at, literal(False).label("done")).where(*mine, Message.status == MessageStatus.sending),
        )
    ).all()
    recent = sorted(sent_at for sent_at, done in rows if done and sent_at is not None)
    in_flight = sum(not done for _, done in rows)
    queued = session.exec(
        select(func.count())
        .select_from(Message)
        .where(
            *mine,
            Message.status == MessageStatus.scheduled,
            col(Message.due_at) > now,
            col(Message.last_error).startswith(RATE_PREFIX),
        )
    ).one()
    oldest = recent[0] if recent and recent[0] is not None else now
    return _CampaignBudget(
        name=campaign.name,
        rate=emails_per_minute(campaign) or 1,
        used=len(recent) + int(in_flight),
        frees_at=oldest + RATE_WINDOW,
        queued=int(queued),
    )
