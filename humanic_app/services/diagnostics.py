"""Automatic troubleshooting: the product's Troubleshooting cases, checked against the stored evidence.
Each finding says what is wrong in plain language and how to fix it."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import (
    WORKSPACE_SCOPE,
    Campaign,
    CampaignStatus,
    Enrolment,
    Event,
    EventOutcome,
    Message,
    MessageStatus,
    Source,
    SourceStatus,
    WorkspaceStatus,
)
from humanic_app.services import domains, posthog_pull, posthog_reconcile, reputation, stats, warmup, wording, workspace
from humanic_app.services.delivery import throttle
from humanic_app.services.intake import judging
from humanic_app.services.posthog import writeback

WINDOW = timedelta(days=7)


@dataclasses.dataclass
class Finding:
    case: str  # the troubleshooting case it is, a stable name
    key: str
    problem: str
    fix: str
    href: str
    # A PostHog gap's one-click fix: the body of POST /api/v1/posthog/backfill for its window (a dry run)
    backfill: dict[str, Any] | None = None


def _backfill_link(body: dict[str, Any]) -> str:
    """Settings → Recover missed events filled in with a gap's window: the finding's one click."""
    asked = {"backfill_events": ",".join(body["events"]), "since": body["since"], "until": body["until"]}
    return f"/settings?{urlencode(asked)}#posthog-backfill"


def run_checks(*, session: Session, resend_configured: bool) -> list[Finding]:
    """Reads counters (services/stats.py) and small tables only, so it stays fast at millions of events."""
    now = clock.now()
    since = now - WINDOW
    ws = workspace.get_workspace(session=session)
    all_sources = list(session.exec(select(Source).where(Source.status != SourceStatus.deleted)))
    received = stats.totals(session=session, name="received", since=since)
    rejected = stats.totals(session=session, name="rejected", since=since)
    findings = _source_findings(session, all_sources, received, now)

    rotated = sum(n for reason, n in rejected.items() if reason.startswith("404 rotated"))
    if rotated:
        findings.append(
            Finding(
                "Events aren't appearing",
                "rotated_url",
                f"{rotated} deliveries in the last 7 days used an old (regenerated) webhook URL.",
                "PostHog still uses the old URL — paste the new one from Integrations → PostHog "
                "into the destination's Webhook URL field.",
                "/integrations",
            )
        )
    findings += _posthog_findings(session, rejected, since)
    refused = {r: n for r, n in rejected.items() if not r.startswith("404") and r != judging.WRITTEN_BACK_KEY}
    if refused:
        reason = max(refused, key=lambda r: refused[r])
        count = sum(refused.values())
        example = session.exec(
            select(Event.id).where(Event.outcome == EventOutcome.rejected).order_by(col(Event.id).desc()).limit(1)
        ).first()
        findings.append(
            Finding(
                "Events aren't appearing",
                "rejected",
                f"{wording.plural(count, 'delivery', 'deliveries')} {'was' if count == 1 else 'were'} rejected "
                "in the last 7 days; most often: "
                f"{reason}" + (f" (latest example: event #{example})." if example else "."),
                "Open the Event Log filtered to 'rejected' to see each payload; fix the signing "
                "secret, header or body shape in the PostHog destination.",
                "/events?outcome=rejected",  # the link applies the filter the fix speaks of
            )
        )

    duplicates = sum(stats.totals(session=session, name="duplicate", since=since).values())
    if duplicates >= 20 and duplicates >= 0.2 * max(1, sum(received.values())):
        findings.append(
            Finding(
                "Users are receiving duplicate emails",
                "repeated_deliveries",
                f"{duplicates} deliveries in the last 7 days repeated an event already received on "
                f"the same URL ({100 * duplicates // max(1, sum(received.values()))}% of events).",
                "Humanic drops the repeats, so nobody is emailed twice; but two webhook "
                "destinations probably use the same URL — disable one in PostHog's Data pipelines.",
                "/integrations",
            )
        )

    processed = stats.totals(session=session, name="processed", since=since)
    no_email = sum(stats.totals(session=session, name="no_email", since=since).values())
    handled = sum(processed.values()) + no_email
    if no_email and no_email / handled >= 0.1:
        findings.append(
            Finding(
                "Emails aren't sending even though events are arriving",
                "no_email",
                f"{100 * no_email // handled}% of recent events carry no email and match no contact.",
                "Add email to your PostHog $identify call (person properties), or map the email "
                "field in Integrations → PostHog step 4.",
                "/integrations",
            )
        )

    active = list(session.exec(select(Campaign).where(Campaign.status == CampaignStatus.active)))
    triggers = Counter(c.trigger_event for c in active)
    unused = sorted(n for n in set(processed) - set(triggers) if n and not n.startswith("$"))
    if unused:
        findings.append(
            Finding(
                "Emails aren't sending even though events are arriving",
                "unused_events",
                f"Events arrive that no active campaign uses: {', '.join(unused[:8])}.",
                "Receiving an event does not send an email by itself: create (or activate) a "
                "campaign with that event as its trigger.",
                "/campaigns",
            )
        )
    findings += _trigger_findings(session, active, stats.totals(session=session, name="event", since=since))
    for event_name, n in triggers.items():
        if n > 1:
            names = ", ".join(c.name for c in active if c.trigger_event == event_name)
            findings.append(
                Finding(
                    "Users are receiving duplicate emails",
                    f"shared_trigger:{event_name}",
                    f"{n} active campaigns fire on {event_name}: {names}.",
                    "Consolidate them, or rely on the frequency cap in Settings.",
                    "/campaigns",
                )
            )
    if sum(stats.totals(session=session, name="cross_source", since=since).values()):
        findings.append(
            Finding(
                "Users are receiving duplicate emails",
                "two_destinations",
                "The same PostHog event arrived through two sources.",
                "Two webhook destinations point at Humanic — disable one in PostHog's Data pipelines.",
                "/integrations",
            )
        )

    held = dict(
        session.exec(
            select(Message.campaign_id, func.count())
            .where(
                Message.status == MessageStatus.scheduled, Message.due_at <= now, col(Message.campaign_id).is_not(None)
            )
            .group_by(col(Message.campaign_id))
        ).all()
    )
    by_guardrail = reputation.paused_by_guardrail(session=session)
    for campaign in session.exec(select(Campaign).where(Campaign.status == CampaignStatus.paused)):
        if str(campaign.id) in by_guardrail:
            continue  # the guardrail's own finding below names the cause and the Resume
        if campaign.paused_reason:
            findings.append(
                Finding(
                    "Emails aren't sending even though events are arriving",
                    f"campaign_auto_paused:{campaign.id}",
                    f"“{campaign.name}”: {campaign.paused_reason}",
                    "Open the campaign, fix the step's template (Preview shows the error), save, "
                    "then Resume; then retry its failed emails in Messages.",
                    "/campaigns",
                )
            )
        elif held.get(campaign.id):
            findings.append(
                Finding(
                    "Emails aren't sending even though events are arriving",
                    f"campaign_paused:{campaign.id}",
                    f"“{campaign.name}” is paused: {held[campaign.id]} of its emails are due and waiting.",
                    "Resume it in Campaigns (or archive it to cancel them).",
                    "/campaigns",
                )
            )
    if ws.status == WorkspaceStatus.paused:
        findings.append(
            Finding(
                "Emails aren't sending even though events are arriving",
                "workspace_paused",
                "The workspace is paused: events are stored, nothing is sent.",
                "Resume it in Settings.",
                "/settings",
            )
        )
    findings += _provider_findings(session, ws, since, by_guardrail)
    findings += [Finding(**dataclasses.asdict(alert)) for alert in reputation.alerts(session=session)]
    problem = domains.sending_domain_problem(
        session=session, from_email=ws.from_email, resend_configured=resend_configured
    )
    if problem:
        findings.append(
            Finding(
                "Emails aren't sending even though events are arriving",
                "domain",
                problem,
                "Domains → add the records at your DNS provider → Verify.",
                "/domains",
            )
        )
    findings += _held_findings(session, active)
    return findings


def _posthog_findings(session: Session, rejected: dict[str, int], since) -> list[Finding]:
    """Write-back failing, and Humanic's own events coming back through the webhook (loop safety)."""
    found = []
    problem = writeback.problem(session=session, since=since)
    if problem:
        found.append(
            Finding(
                "PostHog write-back",
                "posthog_writeback",
                problem,
                "Check the host and project API key in Settings → PostHog; events wait and are sent once "
                "PostHog accepts them.",
                "/settings#posthog",
            )
        )
    pulling = posthog_pull.problem(session=session)
    if pulling:
        found.append(
            Finding(
                "PostHog pull-only mode",
                "posthog_pull",
                pulling,
                "Check the personal API key (Query Read scope) and the project id in Settings → PostHog API "
                "access, and the address under Pull events from PostHog.",
                "/settings#posthog-access",
            )
        )
    unreconciled = posthog_reconcile.problem(session=session)
    if unreconciled:
        found.append(
            Finding(
                "PostHog reconciliation",
                "posthog_reconcile",
                unreconciled,
                "Check the personal API key (Query Read scope) and the project id in Settings → PostHog API "
                "access; the check runs again within the hour, and the gaps it last found are shown meanwhile.",
                "/settings#posthog-access",
            )
        )
    for key, problem_text, body in posthog_reconcile.findings(session=session):
        found.append(
            Finding(
                "Events aren't appearing",
                key,
                problem_text,
                "Backfill that window from PostHog (a dry run first; backfilled events send nothing unless you "
                "ask), then check the webhook destination's status and filters in PostHog's Data pipelines.",
                _backfill_link(body),
                backfill=body,
            )
        )
    looped = rejected.get(judging.WRITTEN_BACK_KEY, 0)
    if looped:
        found.append(
            Finding(
                "PostHog write-back",
                "posthog_loop",
                f"{wording.plural(looped, 'event', 'events')} Humanic wrote to PostHog came back through the "
                "webhook in the last 7 days; Humanic dropped them, so they triggered nothing.",
                "In PostHog's webhook destination add a filter excluding events whose property "
                "humanic_writeback is true (or whose name starts with 'humanic '), so they are not sent back.",
                "/integrations",
            )
        )
    return found


def _held_findings(session: Session, active: list[Campaign]) -> list[Finding]:
    """Emails that wait for a warm-up cap or a campaign's send rate: not a fault, but it should be seen.
    Counted per domain and per rated campaign on their indexes (few domains, few rated campaigns)."""
    found = []
    for domain in domains.list_domains(session=session):
        if n := warmup.held(session=session, domain_name=domain.name):
            found.append(
                Finding(
                    "Emails are waiting",
                    f"warmup:{domain.name}",
                    f"{wording.plural(n, 'email')} from {domain.name} {'waits' if n == 1 else 'wait'} for the "
                    "domain's warm-up: today's cap is reached. They go out from 00:00 UTC, in order, within each "
                    "day's cap.",
                    "Nothing is lost. To send more a day, raise the ladder or switch warm-up off in Domains (only "
                    "for a domain that already has a sending reputation).",
                    "/domains",
                )
            )
    for campaign in active:
        if (rate := throttle.emails_per_minute(campaign)) and (n := throttle.held(session=session, campaign=campaign)):
            found.append(
                Finding(
                    "Emails are waiting",
                    f"campaign_rate:{campaign.id}",
                    f"{wording.plural(n, 'email')} of '{campaign.name}' {'waits' if n == 1 else 'wait'} for its "
                    f"send rate ({rate:,} per minute).",
                    "They go out at that pace. To send faster, raise Emails per minute in the campaign.",
                    "/campaigns",
                )
            )
    return found


def _answers_before(session: Session, moment) -> str:
    """Humanic's own answers in the 24 h before `moment`: did Humanic make PostHog give up?"""
    since = moment - timedelta(hours=24)
    buckets = stats.totals(session=session, name="webhook_ms", since=since)
    if not buckets:
        return ""
    errors = sum(stats.totals(session=session, name="webhook_non2xx", since=since).values())
    return (
        f" In the 24 h before, Humanic answered {sum(buckets.values())} requests, "
        f"p99 {stats.describe_ms(stats.quantile_ms(buckets, 0.99))}, {errors} with an error."
    )


def _source_findings(session: Session, all_sources: list[Source], received: dict[str, int], now) -> list[Finding]:
    """Sources that never received anything, or have been quiet far longer than their usual rate."""
    found = []
    for source in all_sources:
        if source.last_event_at is None:
            if now - source.created_at > timedelta(seconds=30):
                found.append(
                    Finding(
                        "Events aren't appearing",
                        f"silent_source:{source.id}",
                        f"Source “{source.name}” has never received an event.",
                        "Check the PostHog destination is Enabled (not Disabled or Quarantined) and uses the URL "
                        "shown in Integrations → PostHog; confirm the event fires in PostHog's Live Events.",
                        "/integrations",
                    )
                )
            continue
        per_hour = received.get(str(source.id), 0) / (WINDOW.total_seconds() / 3600)
        quiet = now - source.last_event_at
        if per_hour >= 1 and quiet > max(timedelta(hours=1), timedelta(hours=10 / per_hour)):
            found.append(
                Finding(
                    "Events aren't appearing",
                    f"quiet_source:{source.id}",
                    f"Source “{source.name}” has received nothing for {int(quiet.total_seconds() // 3600)} h; it "
                    f"usually receives about {per_hour:.0f} events an hour."
                    + _answers_before(session, source.last_event_at),
                    "PostHog may have disabled the destination after failed deliveries: open Data pipelines → your "
                    "Humanic destination; if it says Disabled, check its Metrics tab, then Enable it. Humanic's own "
                    "answer times and errors are under Pipeline health on the Dashboard.",
                    "/integrations",
                )
            )
    return found


def _trigger_findings(session: Session, active: list[Campaign], arrived: dict[str, int]) -> list[Finding]:
    """Active campaigns whose trigger never arrives, or arrives but never enrols anyone (and why)."""
    case = "Emails aren't sending even though events are arriving"
    found = []
    for campaign in active:
        event_name = campaign.trigger_event
        if not arrived.get(event_name):
            found.append(
                Finding(
                    case,
                    f"trigger_missing:{campaign.id}",
                    f"“{campaign.name}” triggers on {event_name}, which has not arrived in the last 7 days.",
                    f"Check the event name's spelling and case in PostHog, and that the destination's "
                    f"event filter lets {event_name} through.",
                    "/campaigns",
                )
            )
            continue
        enrolled = session.exec(
            select(func.count()).select_from(Enrolment).where(Enrolment.campaign_id == campaign.id)
        ).one()
        if enrolled:
            continue
        reasons: Counter = Counter()
        for decisions in session.exec(
            select(Event.decisions).where(Event.event_name == event_name).order_by(col(Event.id).desc()).limit(200)
        ):
            reasons.update(d.get("reason", "") for d in decisions or [] if d.get("campaign_id") == campaign.id)
        if reasons:
            reason, n = reasons.most_common(1)[0]
            found.append(
                Finding(
                    case,
                    f"trigger_never_matched:{campaign.id}",
                    f"“{campaign.name}” has seen {event_name} but enrolled nobody; most recent "
                    f"events were refused with: {reason} ({n}×).",
                    "Open the campaign and loosen that condition, or check the property names "
                    "PostHog sends (Event Log → an event → payload).",
                    "/campaigns",
                )
            )
    return found


def _provider_findings(session: Session, ws, since, by_guardrail: dict[str, str]) -> list[Finding]:
    """What the email provider refused recently: quota, a bad API key, other permanent failures."""
    case = "Emails aren't sending even though events are arriving"
    found: list[Finding] = []
    if (block := workspace.sending_block(workspace=ws)) and WORKSPACE_SCOPE not in by_guardrail:
        found.append(
            Finding(
                case,
                "provider_quota",
                block,
                "Upgrade your Resend plan (or wait for the daily quota to reset), then click Resume "
                "sending in Settings. Scheduled emails wait; none are lost.",
                "/settings",
            )
        )
    unsure = session.exec(
        select(func.count())
        .select_from(Message)
        .where(Message.status == MessageStatus.failed, col(Message.maybe_sent_since).is_not(None))
    ).one()
    if unsure:
        found.append(
            Finding(
                "Users are receiving duplicate emails",
                "maybe_sent",
                f"{unsure} failed emails may have reached Resend: it never answered for them.",
                "Open Messages filtered to 'failed': Retry replays each under its original key (Resend "
                "deduplicates it) within 24 h; after that, check Resend's Emails log for the recipient "
                "before confirming a new send.",
                "/messages",
            )
        )
    failures = session.exec(
        select(Message.last_error, func.count())
        .where(Message.status == MessageStatus.failed, Message.due_at >= since)
        .group_by(Message.last_error)
    ).all()
    if not failures:
        return found
    total = sum(n for _, n in failures)
    if any("invalid_api_key" in e or "restricted_api_key" in e for e, _ in failures):
        found.append(
            Finding(
                case,
                "provider_key",
                "Resend refuses the API key (invalid or restricted).",
                "Create a full-access key in Resend → API Keys and paste it in Settings → Sending (or set it as "
                "RESEND_API_KEY and restart); then retry the failed emails in Messages.",
                "/messages",
            )
        )
    error, _ = max(failures, key=lambda f: f[1])
    found.append(
        Finding(
            case,
            "provider_errors",
            f"{total} emails failed in the last 7 days; most often: {error}",
            "Open Messages filtered to 'failed' to see each error; fix the cause, then Retry.",
            "/messages",
        )
    )
    return found


def finding_as_dict(finding: Finding) -> dict[str, Any]:
    return dataclasses.asdict(finding)
