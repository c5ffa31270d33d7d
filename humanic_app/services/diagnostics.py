"""Automatic troubleshooting: the spec page's Troubleshooting cases, checked against the stored evidence.
Each finding says what is wrong in plain language and how to fix it."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import (Campaign, CampaignStatus, Event, EventOutcome, Message, MessageStatus, Source,
                                WorkspaceStatus)
from humanic_app.services import domains, workspace
from humanic_app.services.processing import NO_EMAIL_REASON

WINDOW = timedelta(days=7)


@dataclasses.dataclass
class Finding:
    case: str          # the spec's troubleshooting heading
    key: str
    problem: str
    fix: str
    href: str


def run_checks(*, session: Session, resend_configured: bool) -> list[Finding]:
    since = clock.now() - WINDOW
    findings: list[Finding] = []
    ws = workspace.get_workspace(session=session)

    for source in session.exec(select(Source)):
        if source.last_event_at is None and clock.now() - source.created_at > timedelta(seconds=30):
            findings.append(Finding(
                "Events aren't appearing", f"silent_source:{source.id}",
                f"Source “{source.name}” has never received an event.",
                "Check the PostHog destination is Enabled (not Disabled or Quarantined) and uses the URL shown in "
                "Integrations → PostHog; confirm the event fires in PostHog's Live Events.", "/integrations"))

    rotated = session.exec(select(func.count()).select_from(Event).where(
        Event.outcome == EventOutcome.rejected, Event.received_at >= since,
        col(Event.reason).like("404 rotated%"))).one()
    if rotated:
        findings.append(Finding("Events aren't appearing", "rotated_url",
                                f"{rotated} deliveries in the last 7 days used an old (regenerated) webhook URL.",
                                "PostHog still uses the old URL — paste the new one from Integrations → PostHog "
                                "into the destination's Webhook URL field.", "/integrations"))
    rejected = session.exec(select(Event.reason, func.count()).where(
        Event.outcome == EventOutcome.rejected, Event.received_at >= since,
        col(Event.reason).not_like("404%")).group_by(Event.reason)).all()
    if rejected:
        total = sum(n for _, n in rejected)
        reason, _ = max(rejected, key=lambda r: r[1])
        findings.append(Finding("Events aren't appearing", "rejected",
                                f"{total} deliveries were rejected in the last 7 days; most often: {reason}.",
                                "Open the Event Log filtered to 'rejected' to see each payload; fix the signing "
                                "secret, header or body shape in the PostHog destination.", "/events"))

    counts = dict(session.exec(select(Event.outcome, func.count()).where(Event.received_at >= since)
                               .group_by(Event.outcome)).all())
    no_email = session.exec(select(func.count()).select_from(Event).where(
        Event.received_at >= since, Event.reason == NO_EMAIL_REASON)).one()
    handled = counts.get(EventOutcome.processed, 0) + counts.get(EventOutcome.skipped, 0)
    if no_email and handled and no_email / handled >= 0.1:
        findings.append(Finding("Emails aren't sending even though events are arriving", "no_email",
                                f"{100 * no_email // handled}% of recent events carry no email and match no contact.",
                                "Add email to your PostHog $identify call (person properties), or map the email "
                                "field in Integrations → PostHog step 4.", "/integrations"))

    active = list(session.exec(select(Campaign).where(Campaign.status == CampaignStatus.active)))
    triggers = Counter(c.trigger_event for c in active)
    arriving = set(session.exec(select(Event.event_name).where(
        Event.received_at >= since, Event.outcome == EventOutcome.processed).distinct()))
    unused = sorted(n for n in arriving - set(triggers) if n and not n.startswith("$"))
    if unused:
        findings.append(Finding("Emails aren't sending even though events are arriving", "unused_events",
                                f"Events arrive that no active campaign uses: {', '.join(unused[:8])}.",
                                "Receiving an event does not send an email by itself: create (or activate) a "
                                "campaign with that event as its trigger.", "/campaigns"))
    for event_name, n in triggers.items():
        if n > 1:
            names = ", ".join(c.name for c in active if c.trigger_event == event_name)
            findings.append(Finding("Users are receiving duplicate emails", f"shared_trigger:{event_name}",
                                    f"{n} active campaigns fire on {event_name}: {names}.",
                                    "Consolidate them, or rely on the frequency cap in Settings.", "/campaigns"))
    if len({s.id for s in session.exec(select(Source))}) > 1:
        dup = session.exec(select(Event.event_uuid).where(
            Event.received_at >= since, col(Event.event_uuid).is_not(None), col(Event.source_id).is_not(None))
            .group_by(Event.event_uuid).having(func.count(func.distinct(Event.source_id)) > 1).limit(1)).first()
        if dup:
            findings.append(Finding("Users are receiving duplicate emails", "two_destinations",
                                    "The same PostHog event arrived through two sources.",
                                    "Two webhook destinations point at Humanic — disable one in PostHog's Data "
                                    "pipelines.", "/integrations"))

    if ws.status == WorkspaceStatus.paused:
        findings.append(Finding("Emails aren't sending even though events are arriving", "workspace_paused",
                                "The workspace is paused: events are stored, nothing is sent.",
                                "Resume it in Settings.", "/settings"))
    findings += _provider_findings(session, ws, since)
    problem = domains.sending_domain_problem(session=session, from_email=ws.from_email,
                                             resend_configured=resend_configured)
    if problem:
        findings.append(Finding("Emails aren't sending even though events are arriving", "domain", problem,
                                "Domains → add the records at your DNS provider → Verify.", "/domains"))
    return findings


def _provider_findings(session: Session, ws, since) -> list[Finding]:
    """What the email provider refused recently: quota, a bad API key, other permanent failures."""
    case = "Emails aren't sending even though events are arriving"
    found: list[Finding] = []
    if block := workspace.sending_block(workspace=ws):
        found.append(Finding(case, "provider_quota", block,
                             "Upgrade your Resend plan (or wait for the daily quota to reset), then click Resume "
                             "sending in Settings. Scheduled emails wait; none are lost.", "/settings"))
    failures = session.exec(select(Message.last_error, func.count()).where(
        Message.status == MessageStatus.failed, Message.due_at >= since).group_by(Message.last_error)).all()
    if not failures:
        return found
    total = sum(n for _, n in failures)
    if any("invalid_api_key" in e or "restricted_api_key" in e for e, _ in failures):
        found.append(Finding(case, "provider_key", "Resend refuses the API key (invalid or restricted).",
                             "Create a full-access key in Resend → API Keys, set it as RESEND_API_KEY and restart; "
                             "then retry the failed emails in Messages.", "/messages"))
    error, _ = max(failures, key=lambda f: f[1])
    found.append(Finding(case, "provider_errors", f"{total} emails failed in the last 7 days; most often: {error}",
                         "Open Messages filtered to 'failed' to see each error; fix the cause, then Retry.",
                         "/messages"))
    return found


def finding_as_dict(finding: Finding) -> dict[str, str]:
    return dataclasses.asdict(finding)
