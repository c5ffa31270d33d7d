"""Prometheus text exposition of what an operator watches: events received and rejected, webhook answer
times, processing and dispatch backlogs (with the age of the oldest item), sends and provider errors.
Counters come from the hourly counters (services/stats.py), so a scrape never scans the event table."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from humanic_app import clock
from humanic_app.models import Message, MessageStatus
from humanic_app.services import dashboard, retention, stats


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

    received = stats.totals(session=session, name="received")
    metric(
        "humanic_events_received_total",
        "counter",
        "Webhook events accepted (not duplicates), by source id.",
        [({"source_id": k}, n) for k, n in sorted(received.items())],
    )
    metric(
        "humanic_events_duplicate_total",
        "counter",
        "Retried deliveries stored as duplicates, by source id.",
        [({"source_id": k}, n) for k, n in sorted(stats.totals(session=session, name="duplicate").items())],
    )
    metric(
        "humanic_rejected_deliveries_total",
        "counter",
        "Rejected webhook deliveries, by status and reason.",
        [({"reason": k}, n) for k, n in sorted(stats.totals(session=session, name="rejected").items())],
    )
    buckets = stats.totals(session=session, name="webhook_ms")
    running, samples = 0, []
    for bound in stats.BUCKET_LABELS:
        running += buckets.get(bound, 0)
        samples.append(({"le": bound if bound == "+Inf" else str(int(bound) / 1000)}, running))
    lines.append("# HELP humanic_webhook_answer_seconds Time from a webhook request's arrival to its durable write.")
    lines.append("# TYPE humanic_webhook_answer_seconds histogram")
    lines += [f'humanic_webhook_answer_seconds_bucket{{le="{labels["le"]}"}} {n}' for labels, n in samples]
    total_ms = sum(stats.totals(session=session, name="webhook_ms_sum").values())
    lines += [
        f"humanic_webhook_answer_seconds_sum {total_ms / 1000}",
        f"humanic_webhook_answer_seconds_count {running}",
    ]
    for name, help_text in (
        ("sent", "Emails accepted by the provider"),
        ("failed", "Emails that failed for good"),
        ("suppressed", "Emails withheld: unsubscribed or suppressed address"),
    ):
        metric(
            f"humanic_emails_{name}_total",
            "counter",
            f"{help_text}, by campaign id.",
            [({"campaign_id": k}, n) for k, n in sorted(stats.totals(session=session, name=name).items())],
        )
    metric(
        "humanic_provider_errors_total",
        "counter",
        "Failed provider calls, by status and error type.",
        [({"error": k}, n) for k, n in sorted(stats.totals(session=session, name="provider_error").items())],
    )
    metric(
        "humanic_render_errors_total",
        "counter",
        "Emails whose template failed to render, by campaign id.",
        [({"campaign_id": k}, n) for k, n in sorted(stats.totals(session=session, name="render_error").items())],
    )
    metric(
        "humanic_dispatcher_errors_total",
        "counter",
        "Dispatcher passes or provider calls that raised, by where.",
        [({"where": k}, n) for k, n in sorted(stats.totals(session=session, name="dispatcher_error").items())],
    )
    metric(
        "humanic_processing_partition_failures_total",
        "counter",
        "PostgreSQL partition passes that failed and left their events to the serial pass, by error type.",
        [({"error": k}, n) for k, n in sorted(stats.totals(session=session, name=stats.PARTITION_FAILED).items())],
    )
    metric(
        "humanic_retention_pruned_total",
        "counter",
        "Rows pruned by retention: event payloads cleared, delivery events deleted.",
        [({"kind": k}, n) for k, n in sorted(stats.totals(session=session, name="pruned").items())],
    )
    last_run = retention.state(session=session).last_run_at
    metric(
        "humanic_retention_last_run_timestamp_seconds",
        "gauge",
        "When retention last ran (Unix time; 0 before its first run).",
        [({}, last_run.timestamp() if last_run else 0)],
    )
    now = clock.now()
    queues = dashboard.backlogs(session=session, now=now)

    def age(moment) -> float:
        return round((now - moment).total_seconds(), 3) if moment else 0

    metric("humanic_processing_backlog", "gauge", "Events accepted but not processed yet.", [({}, queues.pending)])
    metric(
        "humanic_processing_backlog_oldest_seconds",
        "gauge",
        "Age of the oldest unprocessed event.",
        [({}, age(queues.oldest_pending))],
    )
    metric("humanic_dispatch_backlog", "gauge", "Messages due but not sent yet.", [({}, queues.due)])
    metric(
        "humanic_dispatch_backlog_oldest_seconds",
        "gauge",
        "How late the most overdue message is.",
        [({}, age(queues.oldest_due))],
    )
    by_status = dict(session.exec(select(Message.status, func.count()).group_by(Message.status)).all())
    metric(
        "humanic_messages",
        "gauge",
        "Messages in the outbox, by status.",
        [({"status": s.value}, by_status.get(s, 0)) for s in MessageStatus],
    )
    return "\n".join(lines) + "\n"
