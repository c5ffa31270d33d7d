"""The dispatcher: claim due outbox rows, gate them, render them with the latest contact data, send,
record. The outbox (Message rows) is the only record of pending work.

Exactly once: before any provider call, each claimed row becomes `sending` with a lease, its rendered
email and the key of the call it goes in (a batch key for several, its own key for one); that commits
first. `sending` means "the provider may have it": a dispatcher that dies mid-send, or a call that timed
out or got a 5xx, leaves the rows `sending`, and when the lease runs out the same call is replayed —
same members, same payload, same key — which the provider deduplicates. A first call known not to have
been accepted (429, quota, the rate limiter unreachable) puts its rows back to `scheduled`, to be gated,
rendered and batched afresh; a refused *replay* proves nothing about the first call, so its rows stay
`sending` under their key. `maybe_sent_since` bounds replays by the provider's idempotency window.
Rate limits never count as attempts. A message that cannot be rendered fails alone, before any call.
On PostgreSQL several dispatchers claim disjoint rows with FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import uuid
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.db import read_scope
from humanic_app.models import (
    Campaign,
    CampaignStatus,
    Contact,
    Enrolment,
    Message,
    MessageStatus,
    Workspace,
    WorkspaceStatus,
)
from humanic_app.models.message import ERASED_KEY_PREFIX
from humanic_app.models.rows import id_of
from humanic_app.services import (
    composing,
    domains,
    outbox,
    stats,
    suppression,
    templates,
    topics,
    unsubscribe,
    workspace,
)
from humanic_app.services.campaigns import rules
from humanic_app.services.delivery.senders import OutgoingEmail, Sender, SendResult
from humanic_app.services.delivery.throttle import Throttle
from humanic_app.services.posthog import capture

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8  # calls that got a 5xx or no answer; rate limits are waited out and never count
RATE_LIMIT_WAIT_S = 1.0  # a 429 without retry-after: Resend's window is a second
BATCH = 100
PAUSE_AFTER, PAUSE_ACROSS = 10, 3  # render failures in a row, and distinct recipients, that pause a campaign


class Verdict(str, enum.Enum):
    """What the send-time gate decides for one due email."""

    send = "send"
    hold = "hold"  # stays scheduled and is looked at again in a minute (a pause, no From address…)
    postpone = "postpone"  # the contact's frequency cap: looked at again in 15 minutes
    suppress = "suppress"  # the recipient unsubscribed or the address is suppressed: never sent
    cancel = "cancel"  # its campaign was archived, or its step is in no definition: never sent


HOLD_FOR = {Verdict.hold: timedelta(minutes=1), Verdict.postpone: timedelta(minutes=15)}


@dataclasses.dataclass
class DispatchReport:
    sent: int = 0
    failed: int = 0
    held: int = 0
    cancelled: int = 0
    retried: int = 0


def _due_conditions(now) -> list:
    """What "due" means, as one WHERE clause per status so each runs on the (status, due_at) index: an
    OR'd query makes SQLite scan every scheduled row, due or not. Expired `sending` leases come first."""
    return [
        (Message.status == MessageStatus.sending, Message.due_at <= now, Message.lease_until < now),
        (Message.status == MessageStatus.scheduled, Message.due_at <= now),
    ]


def _claim(session: Session, limit: int) -> list[Message]:
    """Due `scheduled` rows, and `sending` rows whose lease ran out."""
    locking = session.get_bind().dialect.name == "postgresql"
    claimed: list[Message] = []
    for conditions in _due_conditions(clock.now()):
        stmt = (
            select(Message)
            .where(*conditions)
            .order_by(col(Message.due_at), col(Message.id))
            .limit(limit - len(claimed))
        )
        if locking:
            stmt = stmt.with_for_update(skip_locked=True)
        claimed += session.exec(stmt)
        if len(claimed) >= limit:
            break
    return claimed


def _anything_due(session: Session) -> bool:
    return any(
        session.exec(select(Message.id).where(*conditions).limit(1)).first() is not None
        for conditions in _due_conditions(clock.now())
    )


@dataclasses.dataclass
class _Facts:
    """What the gate and the renderer need about a whole claim, loaded in a few queries."""

    contacts: dict[int, Contact]
    suppressed: dict[str, str]
    definitions: dict[int | None, dict]  # enrolment id → the campaign definition it was scheduled under
    triggers: dict[int | None, dict]  # enrolment id → its trigger event's properties (the contact's timezone)
    opted_out: set[tuple[int, str]]  # (contact id, topic key) the contact opted out of

    @classmethod
    def load(cls, session: Session, messages: list[Message]) -> _Facts:
        with session.no_autoflush:
            contact_ids = {m.contact_id for m in messages if m.contact_id}
            contacts = (
                {id_of(c): c for c in session.exec(select(Contact).where(col(Contact.id).in_(contact_ids)))}
                if contact_ids
                else {}
            )
            emails = {m.to_email.strip().lower() for m in messages}
            suppressed = suppression.reasons_for(session=session, emails=emails)
            enrolment_ids = {m.enrolment_id for m in messages if m.enrolment_id}
            rows = (
                session.exec(
                    select(col(Enrolment.id), col(Enrolment.definition), col(Enrolment.trigger_properties)).where(
                        col(Enrolment.id).in_(enrolment_ids)
                    )
                ).all()
                if enrolment_ids
                else []
            )
            opted_out = topics.opted_out_keys(session=session, contact_ids=contact_ids)
        return cls(contacts, suppressed, {i: d for i, d, _ in rows}, {i: t for i, _, t in rows}, opted_out)

    def topic(self, message: Message, campaign: Campaign | None) -> str | None:
        """The email's topic key (or 'transactional'): the definition it was scheduled under decides."""
        definition = self.definitions.get(message.enrolment_id) or (campaign.definition if campaign else None)
        return (definition or {}).get("topic")

    def zone(self, message: Message, ws: Workspace) -> ZoneInfo:
        contact = self.contacts.get(message.contact_id) if message.contact_id else None
        return rules.contact_zone(
            variables=message.variables or {},
            person_properties=contact.properties if contact else {},
            trigger_properties=self.triggers.get(message.enrolment_id) or {},
            workspace_timezone=ws.timezone,
        )

    def step(self, message: Message, campaign: Campaign | None) -> dict | None:
        return rules.step_to_render(
            step_index=message.step_index,
            test_step=message.test_step,
            snapshot=self.definitions.get(message.enrolment_id),
            current=campaign.definition if campaign else None,
        )


def _gate(
    session: Session,
    message: Message,
    ws: Workspace,
    campaign: Campaign | None,
    planned: int,
    domain_problem: str | None,
    facts: _Facts,
) -> tuple[Verdict, str]:
    """The verdict on one due email, with the reason when it does not go now."""
    if ws.status == WorkspaceStatus.paused:
        return Verdict.hold, "workspace paused"
    contact = facts.contacts.get(message.contact_id) if message.contact_id else None
    topic = facts.topic(message, campaign)
    refused = topics.refusal(
        topic=topic,
        unsubscribed=contact is not None and contact.unsubscribed_at is not None and not message.is_test,
        suppressed_for=facts.suppressed.get(message.to_email.strip().lower()),
        opted_out=not message.is_test and (message.contact_id or 0, topic or "") in facts.opted_out,
    )
    if refused is not None:
        return Verdict.suppress, refused
    if not message.is_test and campaign is not None:
        if campaign.status == CampaignStatus.archived:
            return Verdict.cancel, "campaign archived"
        if campaign.status != CampaignStatus.active:
            return Verdict.hold, f"campaign {campaign.status.value}"
    if facts.step(message, campaign) is None:
        return Verdict.cancel, f"step {message.step_index + 1} is not in the campaign definition it was scheduled under"
    if not ws.from_email:
        return Verdict.hold, "no From address: set it in Settings"
    if domain_problem:
        return Verdict.hold, domain_problem
    if not message.is_test and message.contact_id is not None and ws.frequency_cap > 0:
        since = clock.now() - timedelta(hours=24)
        with session.no_autoflush:
            recent = session.exec(
                select(Message.sent_at)
                .where(
                    Message.contact_id == message.contact_id,
                    Message.status == MessageStatus.sent,
                    col(Message.is_test).is_(False),
                    col(Message.sent_at) >= since,
                )
                .order_by(col(Message.sent_at))
            ).all()
        if len(recent) + planned >= ws.frequency_cap:
            until = (recent[0] if recent and recent[0] else clock.now()) + timedelta(hours=24)
            return (
                Verdict.postpone,
                f"frequency cap ({ws.frequency_cap} per 24 h): waits until {until.strftime('%Y-%m-%d %H:%M UTC')}",
            )
    return Verdict.send, ""


def _quiet_until(
    message: Message, ws: Workspace, campaign: Campaign | None, facts: _Facts, now: datetime
) -> tuple[datetime, str] | None:
    """When quiet hours hold this email: the window's next opening in the contact's timezone and the note
    its row shows. Test sends ignore quiet hours; the campaign's current setting applies."""
    if message.is_test or campaign is None:
        return None
    window = rules.quiet_window(own=campaign.definition.get("quiet_hours"), workspace_default=ws.quiet_hours)
    if window is None:
        return None
    tz = facts.zone(message, ws)
    opens = rules.quiet_send_at(window, due=now, tz=tz)
    return None if opens <= now else (opens, rules.quiet_note(opens, tz))


def _envelope(session: Session, message: Message, public_url: str) -> tuple[str, dict[str, str], list[dict[str, str]]]:
    """Unsubscribe URL, RFC 8058 headers and tags: derived from the message alone, so a replay matches."""
    unsubscribe_url = unsubscribe.url_for(session=session, public_url=public_url, message_id=id_of(message))
    headers = composing.unsubscribe_headers(unsubscribe_url)
    tags = [
        {"name": "campaign", "value": str(message.campaign_id or "test")},
        {"name": "step", "value": str(message.step_index)},
        {"name": "message", "value": str(message.id)},
    ]
    return unsubscribe_url, headers, tags


def _render(
    session: Session, message: Message, ws: Workspace, campaign: Campaign | None, public_url: str, facts: _Facts
) -> OutgoingEmail:
    step = facts.step(message, campaign)
    assert step is not None  # _gate lets only a message whose step exists be sent
    contact = facts.contacts.get(message.contact_id) if message.contact_id else None
    variables = dict(contact.properties) if contact else {}
    variables.update(message.variables or {})
    unsubscribe_url, _, tags = _envelope(session, message, public_url)
    composed = composing.compose(
        subject=step["subject"],
        html=step.get("html"),
        blocks=step.get("blocks"),
        text=step.get("text"),
        variables=variables,
        ws=ws,
        unsubscribe_url=unsubscribe_url,
    )
    return OutgoingEmail(
        message_id=id_of(message),
        idempotency_key=message.idempotency_key,
        from_address=composed.from_address,
        to=message.to_email,
        subject=("[Test] " if message.is_test else "") + composed.subject,
        html=composed.html,
        text=composed.text,
        headers=composed.headers,
        tags=tags,
    )


def _as_recorded(session: Session, message: Message, public_url: str) -> OutgoingEmail:
    """The email exactly as it was handed to the provider before: a replay must carry the same payload
    under the same key, or the provider answers 409 instead of deduplicating."""
    _, headers, tags = _envelope(session, message, public_url)
    return OutgoingEmail(
        message_id=id_of(message),
        idempotency_key=message.idempotency_key,
        from_address=message.from_address,
        to=message.to_email,
        subject=message.subject,
        html=message.html,
        text=message.text,
        headers=headers,
        tags=tags,
    )


@dataclasses.dataclass
class _Call:
    batch_key: str | None
    messages: list[Message]
    emails: list[OutgoingEmail]
    replay: bool = False  # the same call again: its rows may already be with the provider


NEEDS_A_PERSON = (
    "may have been sent: Resend never confirmed it and its 24 h idempotency window has passed, so "
    "a replay could deliver it twice. Check Resend's Emails log for this recipient; Retry asks you "
    "to confirm before it sends again."
)


def _replays(session: Session, claimed: list[Message], public_url: str, report: DispatchReport) -> list[_Call]:
    """`sending` rows whose lease ran out: the provider may or may not have them. Each goes again exactly
    as recorded, with the rest of its batch, under the same key; no gate (the decision was already taken).
    Past the provider's idempotency window a replay could deliver twice: the row goes to a person."""
    calls: list[_Call] = []
    seen_batches: set[str] = set()
    for message in claimed:
        if message.maybe_sent_since is not None and message.maybe_sent_since + outbox.REPLAY_WINDOW <= clock.now():
            message.status, message.last_error, message.lease_until = MessageStatus.failed, NEEDS_A_PERSON, None
            report.failed += 1
            continue
        if message.batch_key is None:
            calls.append(_Call(None, [message], [_as_recorded(session, message, public_url)], replay=True))
            continue
        if message.batch_key in seen_batches:
            continue
        seen_batches.add(message.batch_key)
        stmt = (
            select(Message)
            .where(Message.batch_key == message.batch_key, Message.status == MessageStatus.sending)
            .order_by(col(Message.id))
        )
        expected = len(
            session.exec(
                select(Message.id).where(
                    Message.batch_key == message.batch_key, Message.status == MessageStatus.sending
                )
            ).all()
        )
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        group = list(session.exec(stmt))
        if len(group) != expected:
            continue  # another dispatcher holds part of this batch; whoever gets all of it replays it
        calls.append(
            _Call(message.batch_key, group, [_as_recorded(session, m, public_url) for m in group], replay=True)
        )
    return calls


def _hold(message: Message, until, reason: str) -> None:
    message.status, message.due_at, message.last_error = MessageStatus.scheduled, until, reason


def _quota_block_until(kind: str):
    now = clock.now()
    if kind == "daily":
        return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return now + timedelta(days=3650)  # monthly: until someone resumes sending in Settings


def _record(
    session: Session, call: _Call, results: list[SendResult], sender: Sender, ws: Workspace, report: DispatchReport
) -> None:
    by_id = {m.id: m for m in call.messages}
    hour = stats.hour_of(clock.now())
    counts: Counter = Counter()
    enrolment_ids = {m.enrolment_id for m in call.messages if m.enrolment_id}
    trigger_of = (
        dict(
            session.exec(
                select(Enrolment.id, Enrolment.trigger_event_id).where(col(Enrolment.id).in_(enrolment_ids))
            ).all()
        )
        if enrolment_ids
        else {}
    )
    alive = _not_erased(session, call.messages)
    sent: list[Message] = []
    for result in results:
        message = by_id[result.message_id]
        if message.id not in alive:
            _record_erased(session, message, result, report, counts, hour)
            continue
        message.lease_until = None
        _log_result(message, result, sender, trigger_of.get(message.enrolment_id))
        if not result.ok:
            counts[(hour, "provider_error", result.error.split(":")[0][:100])] += 1
        if result.ok:
            message.status, message.sent_at = MessageStatus.sent, clock.now()
            message.provider_message_id, message.sent_via, message.last_error = (
                result.provider_message_id,
                sender.name,
                "",
            )
            message.maybe_sent_since = None
            sent.append(message)
            report.sent += 1
            counts[(hour, "sent", str(message.campaign_id or ""))] += 1
        elif result.quota_exceeded:
            _block_for_quota(session, ws, result.quota_exceeded)
            message.attempts -= 1  # refused before it was taken: not an attempt
            _wait_unsent(message, call, ws.sending_blocked_until or clock.now(), result.error)
            report.held += 1
        elif result.retryable and not result.maybe_sent:
            # a 429 or the shared limiter unreachable: known not taken. Waiting is not failing, so it
            # consumes no attempt and has no limit; it waits as long as the provider keeps limiting.
            message.attempts -= 1
            wait = timedelta(seconds=result.retry_after_s or RATE_LIMIT_WAIT_S)
            _wait_unsent(message, call, clock.now() + wait, f"waiting (rate limited): {result.error}")
            report.retried += 1
        elif result.retryable and message.attempts < MAX_ATTEMPTS:
            wait = timedelta(seconds=result.retry_after_s or min(2**message.attempts, 300))
            message.last_error = result.error[:1000]
            message.lease_until = clock.now() + wait  # stays `sending`: replayed exactly when this runs out
            report.retried += 1
        else:
            _fail(message, call, result)
            report.failed += 1
            counts[(hour, "failed", str(message.campaign_id or ""))] += 1
        session.add(message)
    stats.bump(session, counts)
    capture.enqueue(session=session, facts=[_sent_fact(m) for m in sent if not m.is_test])


def _sent_fact(message: Message) -> capture.Fact:
    return capture.Fact(
        "email_sent",
        f"sent:{message.id}",
        message.contact_id,
        message.sent_at or clock.now(),
        capture.message_properties(message),
    )


def _not_erased(session: Session, messages: list[Message]) -> set[int | None]:
    """The rows of a call whose contact is still there, locked until the result is recorded. A contact
    erased while its email was at the provider anonymized and failed the row (services/erasure.py): this
    session's copy still holds what was sent, and must not write it back."""
    ids = [m.id for m in messages]
    stmt = select(Message.id).where(
        col(Message.id).in_(ids), col(Message.idempotency_key).not_like(f"{ERASED_KEY_PREFIX}%")
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return set(session.exec(stmt).all())


def _record_erased(
    session: Session, message: Message, result: SendResult, report: DispatchReport, counts: Counter, hour
) -> None:
    """An email whose contact was erased mid-send: only whether it went out is written on the anonymized
    row (the sending counts read it), nothing of what this session's copy held."""
    session.expunge(message)
    logger.info("msg-%s: its contact was erased while it was being sent; only the outcome recorded", message.id)
    if result.ok:
        session.execute(
            update(Message).where(col(Message.id) == message.id).values(status=MessageStatus.sent, sent_at=clock.now())
        )
        report.sent += 1
        counts[(hour, "sent", str(message.campaign_id or ""))] += 1


def _log_result(message: Message, result: SendResult, sender: Sender, event_id: int | None) -> None:
    logger.info(
        "msg-%s evt-%s enrolment %s: %s via %s%s",
        message.id,
        event_id or "-",
        message.enrolment_id,
        "sent" if result.ok else "not sent",
        sender.name,
        f", provider id {result.provider_message_id}" if result.ok else f": {result.error}",
        extra={
            "correlation_id": f"evt-{event_id}" if event_id else f"msg-{message.id}",
            "message_id": message.id,
            "enrolment_id": message.enrolment_id,
            "provider_message_id": result.provider_message_id,
            "outcome": "sent" if result.ok else "error",
        },
    )


def _block_for_quota(session: Session, ws: Workspace, kind: str) -> None:
    ws.sending_blocked_until = _quota_block_until(kind)
    ws.sending_blocked_reason = f"Resend's {kind} sending quota is used up: sending is paused" + (
        " until midnight UTC."
        if kind == "daily"
        else ". Upgrade your Resend plan, then click Resume sending in Settings."
    )
    session.add(ws)


def _wait_unsent(message: Message, call: _Call, until: datetime, reason: str) -> None:
    """This call was not taken. A first call's rows are known-unsent: gated, rendered and batched afresh.
    A replay's refusal says nothing about the first call, which may have been taken: its rows stay
    `sending` and are replayed under the same key, with the same members and payload, when `until` comes."""
    message.last_error = reason[:1000]
    if call.replay:
        message.lease_until = until
        return
    message.batch_key, message.maybe_sent_since = None, None
    _hold(message, until, reason[:1000])


def _fail(message: Message, call: _Call, result: SendResult) -> None:
    """Gives up on a row. One the provider may have (5xx or timeouts until attempts ran out, or any
    answer to a replay) keeps its key and `maybe_sent_since`, so Retry replays it rather than sending anew."""
    message.status, message.last_error = MessageStatus.failed, result.error[:1000]
    if result.maybe_sent:
        message.last_error = (
            f"{result.error} (attempts {message.attempts}); may have been sent: Retry replays it under its original key"
        )[:1000]
    elif not (call.replay and "invalid_idempotent_request" in result.error):
        message.maybe_sent_since = None  # answered and refused; a replay's 409 instead says the key was taken


def _hold_while_blocked(messages: list[Message], ws: Workspace, report: DispatchReport) -> None:
    """The provider's quota is used up: every claimed row waits for the block to end. A `sending` row
    keeps its call and is replayed then; a scheduled one is gated afresh."""
    for message in messages:
        if message.status == MessageStatus.sending:
            message.lease_until = ws.sending_blocked_until
        else:
            _hold(message, ws.sending_blocked_until, ws.sending_blocked_reason)
        report.held += 1


def _apply(
    message: Message, verdict: Verdict, reason: str, now: datetime, report: DispatchReport, suppressed: Counter
) -> None:
    """Records a verdict other than `send` on the row."""
    message.last_error = reason
    if verdict == Verdict.cancel:
        message.status, report.cancelled = MessageStatus.cancelled, report.cancelled + 1
    elif verdict == Verdict.suppress:
        message.status, report.cancelled = MessageStatus.suppressed, report.cancelled + 1
        suppressed[(stats.hour_of(now), "suppressed", str(message.campaign_id or ""))] += 1
    else:
        _hold(message, now + HOLD_FOR[verdict], reason)
        report.held += 1


def _render_or_fail(
    session: Session,
    message: Message,
    ws: Workspace,
    campaign: Campaign | None,
    public_url: str,
    facts: _Facts,
    report: DispatchReport,
    counts: Counter,
) -> OutgoingEmail | None:
    """Renders one email; a template that cannot render (unknown filter, division by zero, a call the
    sandbox forbids…) fails this email alone, before any provider call, and never the whole claim."""
    try:
        return _render(session, message, ws, campaign, public_url, facts)
    except Exception as exc:  # anything a template can raise: it is this message's failure, not the pass's
        reason = f"render error: {templates.describe_error(exc)}"
        logger.warning(
            "msg-%s campaign %s step %s not sent: %s",
            message.id,
            message.campaign_id,
            message.step_index,
            reason,
            extra={"message_id": message.id, "outcome": "render_error"},
        )
        message.status, message.last_error, message.lease_until = MessageStatus.failed, reason[:1000], None
        report.failed += 1
        hour = stats.hour_of(clock.now())
        counts[(hour, "failed", str(message.campaign_id or ""))] += 1
        counts[(hour, "render_error", str(message.campaign_id or ""))] += 1
        return None


def _gate_and_render(
    session: Session,
    fresh: list[Message],
    ws: Workspace,
    sender: Sender,
    public_url: str,
    now: datetime,
    report: DispatchReport,
) -> list[tuple[Message, OutgoingEmail]]:
    """Gates each scheduled row and renders the ones that go, storing on the row what is sent."""
    if not fresh:
        return []
    campaigns = {
        c.id: c
        for c in session.exec(
            select(Campaign).where(col(Campaign.id).in_({m.campaign_id for m in fresh if m.campaign_id}))
        )
    }
    resend_configured = sender.name == "resend"
    domain_problem = domains.sending_domain_problem(
        session=session, from_email=ws.from_email, resend_configured=resend_configured
    )
    from_domain = domains.domain_of(ws.from_email)
    throttle = Throttle.load(
        session,
        domain=domains.find_domain(session=session, name=from_domain) if resend_configured else None,
        campaigns=list(campaigns.values()),
        now=now,
    )
    facts = _Facts.load(session, fresh)
    ready: list[tuple[Message, OutgoingEmail]] = []
    planned: dict[int | None, int] = {}
    suppressed: Counter = Counter()
    for message in fresh:
        campaign = campaigns.get(message.campaign_id)
        message.from_domain = from_domain
        verdict, reason = _gate(
            session, message, ws, campaign, planned.get(message.contact_id, 0), domain_problem, facts
        )
        if verdict != Verdict.send:
            _apply(message, verdict, reason, now, report, suppressed)
            continue
        if (opens := _quiet_until(message, ws, campaign, facts, now)) is not None:
            _hold(message, *opens)  # quiet hours: waits for the window's opening, never dropped
            report.held += 1
            continue
        if (wait := throttle.admit(message)) is not None:
            _hold(message, *wait)  # a volume limit: waits for its slot, never dropped or failed
            report.held += 1
            continue
        email = _render_or_fail(session, message, ws, campaign, public_url, facts, report, suppressed)
        if email is None:
            continue
        if not message.is_test:
            planned[message.contact_id] = planned.get(message.contact_id, 0) + 1
        message.from_address, message.subject, message.html, message.text = (
            email.from_address,
            email.subject,
            email.html,
            email.text,
        )
        ready.append((message, email))
    stats.bump(session, suppressed)
    _pause_failing_steps(session, [m for m in fresh if m.status == MessageStatus.failed], campaigns)
    return ready


def _pause_failing_steps(session: Session, failed: list[Message], campaigns: dict[int | None, Campaign]) -> None:
    """A campaign step that fails to render again and again (PAUSE_AFTER emails in a row since its last
    sent one, for at least PAUSE_ACROSS recipients, so not one contact's odd data) pauses its campaign,
    saying why: its scheduled emails then wait instead of failing one by one until someone fixes it."""
    for campaign_id, step_index in {(m.campaign_id, m.step_index) for m in failed if m.campaign_id}:
        campaign = campaigns.get(campaign_id)
        if campaign is None or campaign.status != CampaignStatus.active:
            continue
        in_step = (
            col(Message.campaign_id) == campaign_id,
            col(Message.step_index) == step_index,
            col(Message.is_test).is_(False),
        )
        last_sent = (
            session.exec(
                select(Message.id)
                .where(*in_step, Message.status == MessageStatus.sent)
                .order_by(col(Message.id).desc())
                .limit(1)
            ).first()
            or 0
        )
        streak = session.exec(
            select(Message.to_email, Message.last_error)
            .where(
                *in_step,
                col(Message.id) > last_sent,
                Message.status == MessageStatus.failed,
                col(Message.last_error).startswith("render error"),
            )
            .order_by(col(Message.id))
        ).all()
        if len(streak) >= PAUSE_AFTER and len({to for to, _ in streak}) >= PAUSE_ACROSS:
            campaign.status, campaign.updated_at = CampaignStatus.paused, clock.now()
            campaign.paused_reason = (
                f"Paused automatically: step {step_index + 1} failed to render for {len(streak)} emails in a row "
                f"({len({to for to, _ in streak})} recipients), most recently with {streak[-1][1]}. Fix the "
                f"template, then resume the campaign; retry the failed emails from Messages."
            )[:1000]
            session.add(campaign)
            logger.warning("campaign %s paused: %s", campaign.id, campaign.paused_reason)


def _plan_calls(ready: list[tuple[Message, OutgoingEmail]], max_batch: int) -> list[_Call]:
    """Chunks of up to `max_batch`: a chunk of several is one batch call under a fresh batch key."""
    calls = []
    for start in range(0, len(ready), max_batch):
        chunk = ready[start : start + max_batch]
        key = f"humanic-batch/{uuid.uuid4()}" if len(chunk) > 1 else None
        for message, _ in chunk:
            message.batch_key = key
        calls.append(_Call(key, [m for m, _ in chunk], [e for _, e in chunk]))
    return calls


def _mark_sending(calls: list[_Call], now: datetime) -> None:
    for call in calls:
        for message in call.messages:
            message.status, message.lease_until = MessageStatus.sending, now + LEASE
            message.attempts += 1
            if not call.replay:
                message.maybe_sent_since = now  # from this commit on, the provider may have it under this key


def dispatch_due(*, engine: Engine, sender: Sender, public_url: str, limit: int = BATCH) -> DispatchReport:
    """One pass: claim what is due; hold it all while the provider's quota is used up; otherwise replay
    the expired `sending` calls, gate and render the scheduled rows, plan the calls and record them
    (commit), then make the calls one by one, committing each result as it comes back."""
    report = DispatchReport()
    with read_scope(engine) as session:  # a snapshot: asking must not take SQLite's write turn
        if not _anything_due(session):
            return report
    sender.wait_turn()
    with Session(engine, expire_on_commit=False) as session:
        messages = _claim(session, limit)
        if not messages:
            return report
        ws = workspace.get_workspace(session=session)
        now = clock.now()
        if ws.sending_blocked_until is not None and ws.sending_blocked_until > now:
            _hold_while_blocked(messages, ws, report)
            session.add_all(messages)
            session.commit()
            return report
        calls = _replays(session, [m for m in messages if m.status == MessageStatus.sending], public_url, report)
        ready = _gate_and_render(
            session, [m for m in messages if m.status == MessageStatus.scheduled], ws, sender, public_url, now, report
        )
        calls += _plan_calls(ready, sender.max_batch)
        _mark_sending(calls, now)
        session.add_all(messages)
        session.commit()  # every call is recorded (members, key, payload) before the provider sees it

        for call in calls:
            _make_call(session, call, sender, ws, report)
    return report


def _make_call(session: Session, call: _Call, sender: Sender, ws: Workspace, report: DispatchReport) -> None:
    """One provider call and its result. An exception here (a sender bug, the database gone mid-record)
    costs only this call: its rows stay `sending` under their lease, exactly as if this process had died,
    and are replayed under the same key when the lease runs out; the other calls of the pass still go."""
    try:
        results = sender.send(call.emails, batch_key=call.batch_key)
        _record(session, call, results, sender, ws, report)
        session.commit()
    except Exception:
        session.rollback()
        note_error(engine=session.get_bind(), where="send")
        logger.exception(
            "dispatcher: call %s for messages %s failed; replayed after the lease",
            call.batch_key or "(single)",
            [m.id for m in call.messages],
        )


def note_error(*, engine: Engine | Connection, where: str) -> None:
    """Counts a dispatcher error (Pipeline health, /metrics); best effort, since the database may be why."""
    try:
        with Session(engine) as session:
            stats.count(session, name="dispatcher_error", key=where, at=clock.now())
            session.commit()
    except Exception:
        logger.exception("dispatcher: could not count an error")
