"""The Dashboard's setup checklist: what is still missing before emails go out, each with where to fix it."""

from __future__ import annotations

import dataclasses

from sqlmodel import Session, col, select

from humanic_app.models import Campaign, CampaignStatus, Event, EventOutcome, Source, SourceStatus
from humanic_app.services import domains, workspace


@dataclasses.dataclass
class ChecklistItem:
    key: str
    label: str
    done: bool
    href: str
    hint: str


def setup_checklist(*, session: Session, resend_configured: bool) -> list[ChecklistItem]:
    ws = workspace.get_workspace(session=session)
    sources = list(session.exec(select(Source).where(Source.status != SourceStatus.deleted)))
    received = session.exec(
        select(Event.id).where(col(Event.source_id).is_not(None), Event.outcome != EventOutcome.rejected).limit(1)
    ).first()
    with_email = session.exec(
        select(Event.id).where(Event.outcome == EventOutcome.processed, col(Event.contact_id).is_not(None)).limit(1)
    ).first()
    active = session.exec(select(Campaign.id).where(Campaign.status == CampaignStatus.active).limit(1)).first()
    domain_problem = domains.sending_domain_problem(
        session=session, from_email=ws.from_email, resend_configured=resend_configured
    )
    return [
        ChecklistItem(
            "from_address",
            "Default From address set",
            bool(ws.from_email),
            "/settings",
            "Settings → Default From address.",
        ),
        ChecklistItem(
            "domain",
            "Sending domain verified" if resend_configured else "Sending domain (not needed in local outbox mode)",
            not resend_configured or (bool(ws.from_email) and domain_problem is None),
            "/domains",
            domain_problem or "Add the domain of your From address in Domains and verify it.",
        ),
        ChecklistItem(
            "source",
            "PostHog source connected",
            bool(sources),
            "/integrations",
            "Integrations → PostHog → Connect, then paste the URL into a PostHog webhook destination.",
        ),
        ChecklistItem(
            "test_event",
            "Test event received",
            received is not None,
            "/integrations",
            "Send a test event from PostHog (or Send a sample event) and watch it arrive.",
        ),
        ChecklistItem(
            "mapping",
            "Mapping yields an email",
            with_email is not None,
            "/integrations",
            "No event has matched a contact with an email yet: add email to your $identify call, or map "
            "the email field in step 4.",
        ),
        ChecklistItem(
            "campaign",
            "At least one active campaign",
            active is not None,
            "/campaigns",
            "Campaigns → start from a ready-made campaign → Activate.",
        ),
        ChecklistItem(
            "address",
            "Physical mailing address set",
            bool(ws.physical_address),
            "/settings",
            "Settings → Physical mailing address (printed in every email footer).",
        ),
    ]
