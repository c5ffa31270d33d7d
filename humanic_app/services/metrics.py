"""Prometheus text exposition of what an operator watches: events by outcome, rejections by reason,
processing and dispatch backlogs (with the age of the oldest item), messages by status."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from humanic_app import clock
from humanic_app.models import Event, EventOutcome, Message, MessageStatus


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")[:120]


def render(*, session: Session) -> str:
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            rendered = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            lines.append(f"{name}{{{rendered}}} {value}" if rendered else f"{name} {value}")

    by_outcome = dict(session.exec(select(Event.outcome, func.count()).group_by(Event.outcome)).all())
    metric("humanic_events_total", "counter", "Webhook events stored, by outcome.",
           [({"outcome": o.value}, by_outcome.get(o, 0)) for o in EventOutcome])
    rejected = session.exec(select(Event.reason, func.count()).where(Event.outcome == EventOutcome.rejected)
                            .group_by(Event.reason)).all()
    metric("humanic_rejected_deliveries_total", "counter", "Rejected webhook deliveries, by status and reason.",
           [({"reason": reason.split(":")[0]}, n) for reason, n in rejected])
    now = clock.now()
    oldest_pending = session.exec(select(func.min(Event.received_at)).where(Event.outcome == EventOutcome.pending)).one()
    metric("humanic_processing_backlog", "gauge", "Events accepted but not processed yet.",
           [({}, by_outcome.get(EventOutcome.pending, 0))])
    metric("humanic_processing_backlog_oldest_seconds", "gauge", "Age of the oldest unprocessed event.",
           [({}, round((now - oldest_pending).total_seconds(), 3) if oldest_pending else 0)])
    due = session.exec(select(func.count(), func.min(Message.due_at)).where(
        Message.status == MessageStatus.scheduled, Message.due_at <= now)).one()
    metric("humanic_dispatch_backlog", "gauge", "Messages due but not sent yet.", [({}, due[0])])
    metric("humanic_dispatch_backlog_oldest_seconds", "gauge", "How late the most overdue message is.",
           [({}, round((now - due[1]).total_seconds(), 3) if due[1] else 0)])
    by_status = dict(session.exec(select(Message.status, func.count()).group_by(Message.status)).all())
    metric("humanic_messages", "gauge", "Messages in the outbox, by status.",
           [({"status": s.value}, by_status.get(s, 0)) for s in MessageStatus])
    return "\n".join(lines) + "\n"
