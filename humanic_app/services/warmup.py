"""Warm-up: a newly verified sending domain sends at most a daily cap that rises one step a day on a
ladder (by default 50, 100, 250, 500, 1,000, 2,500, 5,000, then no cap), so mailbox providers see its
volume grow instead of a cold domain suddenly sending thousands.

Days are UTC calendar days. Day 1 is the day warm-up started: the day the domain was verified (when
warm-up was on then, the default for a domain added in Humanic), or the day someone switched it on for a
domain already verified. Switching it off lifts the cap; switching it on again starts at day 1.
"Sent today" is every email from the domain that went out since 00:00 UTC plus those being handed to the
provider right now (`sending`); the dispatcher holds the rest (services/delivery/throttle.py)."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Domain, Message, MessageStatus
from humanic_app.services.errors import ValidationFailed

DEFAULT_LADDER = (50, 100, 250, 500, 1_000, 2_500, 5_000)
MAX_STEPS = 60  # two months of steps is already a slow warm-up
MAX_CAP = 1_000_000
HELD_PREFIX = "waiting (warm-up)"


def ladder_of(domain: Domain) -> list[int]:
    return list(domain.warmup_ladder or DEFAULT_LADDER)


def day_start(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def next_day_start(at: datetime) -> datetime:
    return day_start(at) + timedelta(days=1)


def validate_ladder(values: Any) -> list[int]:
    """A ladder is 1 to MAX_STEPS whole numbers from 1 to MAX_CAP, each at least the one before."""
    if not isinstance(values, list) or not values:
        raise ValidationFailed({"warmup_ladder": "Give at least one daily cap, e.g. 50, 100, 250."})
    if len(values) > MAX_STEPS:
        raise ValidationFailed({"warmup_ladder": f"At most {MAX_STEPS} steps (one a day)."})
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CAP:
            raise ValidationFailed(
                {"warmup_ladder": f"Day {index + 1}: a daily cap is a whole number from 1 to {MAX_CAP:,}."}
            )
        if index and value < values[index - 1]:
            raise ValidationFailed(
                {
                    "warmup_ladder": f"Day {index + 1}: {value:,} is below day {index}'s {values[index - 1]:,}; "
                    "a warm-up only rises."
                }
            )
    return list(values)


def parse_ladder(text: str) -> list[int]:
    """The ladder as typed in the UI: whole numbers separated by commas, spaces or lines ("50, 100, 250")."""
    parts = [p for p in re.split(r"[\s,;]+", text or "") if p]
    if bad := next((p for p in parts if not p.isdigit()), None):
        raise ValidationFailed({"warmup_ladder": f"'{bad}' is not a whole number: write daily caps like 50, 100, 250."})
    return validate_ladder([int(p) for p in parts])


def ladder_text(ladder: list[int]) -> str:
    return ", ".join(str(v) for v in ladder)


def day_number(domain: Domain, at: datetime) -> int | None:
    """1 on the UTC day warm-up started; None while it has not started (or is off)."""
    if not domain.warmup_enabled or domain.warmup_started_at is None:
        return None
    return (at.date() - domain.warmup_started_at.date()).days + 1


def cap_today(domain: Domain, at: datetime) -> int | None:
    """Today's cap, or None: warm-up off, not started, or past the last step."""
    day = day_number(domain, at)
    ladder = ladder_of(domain)
    if day is None or day > len(ladder):
        return None
    return ladder[max(day, 1) - 1]


def _counted(stmt, up_to: int):
    return select(func.count()).select_from(stmt.limit(up_to).subquery()).scalar_subquery()


def sent_today(*, session: Session, domain_name: str, at: datetime, up_to: int) -> int:
    """Emails from the domain sent since 00:00 UTC, plus those in flight, counted up to `up_to` (today's
    cap: past it the number changes nothing), so a busy domain's count stays as cheap as its cap is small.
    Two range reads of ix_message_domain_sent rather than one OR that would scan, in ONE statement: on
    PostgreSQL each statement reads its own snapshot, so two would miss a row another dispatcher moved from
    sending to sent between them, and the cap would be exceeded."""
    sent = select(Message.id).where(
        Message.from_domain == domain_name,
        Message.status == MessageStatus.sent,
        col(Message.sent_at) >= day_start(at),
    )
    sending = select(Message.id).where(Message.from_domain == domain_name, Message.status == MessageStatus.sending)
    return int(session.exec(select(_counted(sent, up_to) + _counted(sending, up_to))).one())


def held(*, session: Session, domain_name: str) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Message)
            .where(
                Message.from_domain == domain_name,
                Message.status == MessageStatus.scheduled,
                col(Message.last_error).startswith(HELD_PREFIX),
            )
        ).one()
    )


def held_reason(*, cap: int, sent: int, domain_name: str) -> str:
    return f"{HELD_PREFIX}: {sent:,} of {cap:,} sent today from {domain_name}; more from 00:00 UTC"


def on_verified(domain: Domain, at: datetime) -> None:
    """The domain is verified now: remember when first, and start its warm-up if it is on and waiting."""
    if domain.verified_at is None:
        domain.verified_at = at
    if domain.warmup_enabled and domain.warmup_started_at is None:
        domain.warmup_started_at = at


def update(*, session: Session, domain: Domain, enabled: bool | None, ladder: list[int] | None) -> Domain:
    """Switches warm-up on or off and/or replaces the ladder (validated). On again starts at day 1
    (today, when the domain is verified; else the day it verifies)."""
    if ladder is not None:
        domain.warmup_ladder = None if list(ladder) == list(DEFAULT_LADDER) else validate_ladder(ladder)
    if enabled is not None and enabled != domain.warmup_enabled:
        domain.warmup_enabled = enabled
        domain.warmup_started_at = clock.now() if enabled and domain.status == "verified" else None
    session.add(domain)
    return domain


@dataclasses.dataclass(frozen=True)
class WarmupStatus:
    enabled: bool
    ladder: list[int]
    day: int | None  # 1 on the first day; None before it starts
    cap: int | None  # today's cap; None: no cap today
    sent_today: int
    held: int

    def describe(self) -> str:
        if not self.enabled:
            return "Off: no daily cap."
        if self.day is None:
            return f"Starts the day the domain is verified, at {self.ladder[0]:,} emails."
        if self.cap is None:
            return f"Done: the {len(self.ladder)}-day ladder is over, no daily cap."
        return f"Day {self.day} of {len(self.ladder)}: {self.sent_today:,} of {self.cap:,} sent today."


def status(*, session: Session, domain: Domain) -> WarmupStatus:
    """`sent_today` is counted only while a cap applies, and up to it."""
    now = clock.now()
    cap = cap_today(domain, now)
    return WarmupStatus(
        enabled=domain.warmup_enabled,
        ladder=ladder_of(domain),
        day=day_number(domain, now),
        cap=cap,
        sent_today=sent_today(session=session, domain_name=domain.name, at=now, up_to=cap) if cap else 0,
        held=held(session=session, domain_name=domain.name),
    )


def status_as_dict(state: WarmupStatus) -> dict[str, Any]:
    return dataclasses.asdict(state) | {"summary": state.describe()}
