"""The dispatcher: claim due outbox rows, gate them, render them with the latest contact data, send,
record. The outbox (Message rows) is the only record of pending work.

Exactly once: a claimed row becomes `sending` with a lease and the claim commits before the provider
call; the result commits after. A dispatcher that dies mid-send leaves `sending` rows whose lease
expires; the next pass sends them again with the same idempotency key, which the provider dedupes.
On PostgreSQL several dispatchers claim disjoint rows with FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import (
    Campaign,
    CampaignStatus,
    Contact,
    Message,
    MessageStatus,
    Workspace,
    WorkspaceStatus,
)
from humanic_app.services import domains, suppression, templates, unsubscribe, workspace
from humanic_app.services.campaigns.schema import CampaignDocument
from humanic_app.services.delivery.senders import OutgoingEmail, Sender

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
BATCH = 100


@dataclasses.dataclass
class DispatchReport:
    sent: int = 0
    failed: int = 0
    held: int = 0
    cancelled: int = 0
    retried: int = 0


def _claim(session: Session, limit: int) -> list[Message]:
    now = clock.now()
    stmt = (select(Message)
            .where(or_(Message.status == MessageStatus.scheduled,
                       (Message.status == MessageStatus.sending) & (Message.lease_until < now)),
                   Message.due_at <= now)
            .order_by(col(Message.due_at), col(Message.id)).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.exec(stmt))


def _from_address(ws: Workspace) -> str:
    return f"{ws.from_name} <{ws.from_email}>" if ws.from_name else ws.from_email


def _footer(ws: Workspace, unsubscribe_url: str) -> tuple[str, str]:
    address = ws.physical_address or ""
    html = (f'<hr><p style="font-size:12px;color:#666">{templates.escape(address)}<br>'
            f'<a href="{unsubscribe_url}">Unsubscribe</a></p>')
    return html, f"\n\n--\n{address}\nUnsubscribe: {unsubscribe_url}"


def _gate(session: Session, message: Message, ws: Workspace, campaign: Campaign | None,
          planned: int, domain_problem: str | None) -> tuple[str, str] | None:
    """(action, reason) when the message must not go now: hold (stay scheduled), cancel, or postpone."""
    if ws.status == WorkspaceStatus.paused:
        return "hold", "workspace paused"
    contact = session.get(Contact, message.contact_id) if message.contact_id else None
    if contact is not None and contact.unsubscribed_at is not None and not message.is_test:
        return "suppress", "recipient unsubscribed"
    if (row := suppression.is_suppressed(session=session, email=message.to_email)) is not None:
        return "suppress", f"address suppressed ({row.reason.value})"
    if not message.is_test and campaign is not None:
        if campaign.status == CampaignStatus.archived:
            return "cancel", "campaign archived"
        if campaign.status != CampaignStatus.active:
            return "hold", f"campaign {campaign.status.value}"
    if not ws.from_email:
        return "hold", "no From address: set it in Settings"
    if domain_problem:
        return "hold", domain_problem
    if not message.is_test and message.contact_id is not None and ws.frequency_cap > 0:
        since = clock.now() - timedelta(hours=24)
        recent = session.exec(select(Message.sent_at).where(
            Message.contact_id == message.contact_id, Message.status == MessageStatus.sent, Message.is_test.is_(False),
            Message.sent_at >= since).order_by(col(Message.sent_at))).all()
        if len(recent) + planned >= ws.frequency_cap:
            until = (recent[0] if recent else clock.now()) + timedelta(hours=24)
            return "postpone", f"frequency cap ({ws.frequency_cap} per 24 h): waits until " \
                               f"{until.strftime('%Y-%m-%d %H:%M UTC')}"
    return None


def _render(session: Session, message: Message, ws: Workspace, campaign: Campaign | None,
            public_url: str) -> OutgoingEmail:
    if message.test_step is not None:
        step = message.test_step
    else:
        document = CampaignDocument.model_validate(campaign.definition if campaign else {})
        step = document.steps[message.step_index].model_dump()
    contact = session.get(Contact, message.contact_id) if message.contact_id else None
    variables = dict(contact.properties) if contact else {}
    variables.update(message.variables or {})
    unsubscribe_url = unsubscribe.url_for(session=session, public_url=public_url, message_id=message.id)
    variables["unsubscribe_url"] = unsubscribe_url
    rendered = templates.render(subject=step["subject"], html=step["html"], text=step.get("text"),
                                variables=variables)
    footer_html, footer_text = _footer(ws, unsubscribe_url)
    subject = ("[Test] " if message.is_test else "") + rendered.subject
    return OutgoingEmail(
        message_id=message.id, idempotency_key=message.idempotency_key, from_address=_from_address(ws),
        to=message.to_email, subject=subject, html=rendered.html + footer_html, text=rendered.text + footer_text,
        headers={"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        tags=[{"name": "campaign", "value": str(message.campaign_id or "test")},
              {"name": "step", "value": str(message.step_index)}, {"name": "message", "value": str(message.id)}])


def dispatch_due(*, engine: Engine, sender: Sender, public_url: str, limit: int = BATCH) -> DispatchReport:
    report = DispatchReport()
    with Session(engine, expire_on_commit=False) as session:
        messages = _claim(session, limit)
        if not messages:
            return report
        ws = workspace.get_workspace(session=session)
        campaigns = {c.id: c for c in session.exec(select(Campaign).where(
            col(Campaign.id).in_({m.campaign_id for m in messages if m.campaign_id})))}
        outgoing: list[OutgoingEmail] = []
        planned: dict[int | None, int] = {}
        domain_problem = domains.sending_domain_problem(session=session, from_email=ws.from_email,
                                                        resend_configured=sender.name == "resend")
        for message in messages:
            campaign = campaigns.get(message.campaign_id)
            verdict = _gate(session, message, ws, campaign, planned.get(message.contact_id, 0), domain_problem)
            if verdict is not None:
                action, reason = verdict
                message.last_error = reason
                if action == "cancel":
                    message.status, report.cancelled = MessageStatus.cancelled, report.cancelled + 1
                elif action == "suppress":
                    message.status, report.cancelled = MessageStatus.suppressed, report.cancelled + 1
                elif action == "postpone":
                    message.status, message.due_at = MessageStatus.scheduled, clock.now() + timedelta(minutes=15)
                    report.held += 1
                else:
                    message.status, message.due_at = MessageStatus.scheduled, clock.now() + timedelta(minutes=1)
                    report.held += 1
                session.add(message)
                continue
            if not message.is_test:
                planned[message.contact_id] = planned.get(message.contact_id, 0) + 1
            email = _render(session, message, ws, campaign, public_url)
            message.status, message.lease_until = MessageStatus.sending, clock.now() + LEASE
            message.attempts += 1
            message.from_address, message.subject, message.html, message.text = \
                email.from_address, email.subject, email.html, email.text
            session.add(message)
            outgoing.append(email)
        session.commit()  # the claim is durable before the provider is called

        by_id = {m.id: m for m in messages}
        results = sender.send(outgoing) if outgoing else []
        for result in results:
            message = by_id[result.message_id]
            message.lease_until = None
            if result.ok:
                message.status, message.sent_at = MessageStatus.sent, clock.now()
                message.provider_message_id, message.sent_via, message.last_error = \
                    result.provider_message_id, sender.name, ""
                report.sent += 1
            elif result.retryable and message.attempts < MAX_ATTEMPTS:
                wait = result.retry_after_s or min(2 ** message.attempts, 300)
                message.status, message.due_at = MessageStatus.scheduled, clock.now() + timedelta(seconds=wait)
                message.last_error = result.error[:1000]
                report.retried += 1
            else:
                message.status, message.last_error = MessageStatus.failed, result.error[:1000]
                report.failed += 1
            session.add(message)
        session.commit()
    return report
