"""Sending domains through Resend's Domains API: create, show the DNS records (plus the DMARC record
Resend does not return), verify, re-check. Campaign activation and sending need the From address's
domain verified when sending through Resend; in local-outbox mode no domain is needed."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import resend
from resend.exceptions import ResendError
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Domain
from humanic_app.services import warmup
from humanic_app.services.errors import ValidationFailed, require
from humanic_app.services.sending import credentials

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](-?[a-z0-9])*\.)+[a-z]{2,63}$")


def configure(*, api_key: str | None, api_url: str | None) -> bool:
    """Points the SDK at the account; False when there is no key (local outbox mode)."""
    if not api_key:
        return False
    resend.api_key = api_key
    if api_url:
        resend.api_url = api_url.rstrip("/")
    return True


def configure_in_effect(*, session: Session) -> bool:
    """Points the SDK at the account whose key is in effect; False in local outbox mode."""
    found = credentials.in_effect(session=session)
    return configure(api_key=found.api_key, api_url=found.api_url)


def dmarc_record(name: str, *, report_to: str = "") -> dict[str, Any]:
    """The DMARC record to publish: `p=none` only asks for reports, so it can never cost a delivery;
    `report_to` receives the daily aggregate reports."""
    return {
        "record": "DMARC",
        "name": f"_dmarc.{name}",
        "type": "TXT",
        "ttl": "Auto",
        "status": "recommended",
        "value": "v=DMARC1; p=none;" + (f" rua=mailto:{report_to}" if report_to else ""),
    }


def _records(name: str, resend_records: Sequence[Mapping[str, object]] | None) -> list[dict[str, Any]]:
    return [dict(r) for r in (resend_records or [])] + [dmarc_record(name)]


def _resend_error(exc: ResendError) -> ValidationFailed:
    return ValidationFailed({"domain": f"Resend refused: {exc.message}"})


def create_domain(*, session: Session, name: str) -> Domain:
    name = (name or "").strip().lower().rstrip(".")
    if not _DOMAIN_RE.match(name):
        raise ValidationFailed({"name": "Enter a domain like mail.yourcompany.com."})
    if session.exec(select(Domain).where(Domain.name == name)).first():
        raise ValidationFailed({"name": f"{name} is already added."})
    try:
        created = resend.Domains.create({"name": name})
    except ResendError as exc:
        raise _resend_error(exc) from None
    domain = Domain(
        name=name,
        resend_id=created["id"],
        status=created.get("status") or "not_started",
        records=_records(name, created.get("records")),
        warmup_enabled=True,  # a domain new to Humanic is likely new to mailbox providers too
    )
    if domain.status == "verified":
        warmup.on_verified(domain, clock.now())
    session.add(domain)
    session.flush()
    return domain


def get_domain(*, session: Session, domain_id: int) -> Domain:
    return require(session.get(Domain, domain_id), noun="domain", row_id=domain_id)


def list_domains(*, session: Session) -> list[Domain]:
    return list(session.exec(select(Domain).order_by(col(Domain.id))))


def refresh(*, session: Session, domain: Domain, start_verification: bool) -> Domain:
    try:
        if start_verification:
            resend.Domains.verify(domain.resend_id)
        current = resend.Domains.get(domain.resend_id)
    except ResendError as exc:
        raise _resend_error(exc) from None
    domain.status = current.get("status") or domain.status
    if current.get("records"):
        domain.records = _records(domain.name, current["records"])
    domain.checked_at = clock.now()
    if domain.status == "verified":
        warmup.on_verified(domain, domain.checked_at)
    session.add(domain)
    return domain


def recheck_all(*, session: Session) -> int:
    """The periodic re-check: pending domains may have verified, verified ones may have lost a record."""
    domains = list_domains(session=session)
    for domain in domains:
        try:
            refresh(session=session, domain=domain, start_verification=False)
        except ValidationFailed:
            continue
    return len(domains)


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if email else ""


def find_domain(*, session: Session, name: str) -> Domain | None:
    return session.exec(select(Domain).where(Domain.name == name)).first() if name else None


def sending_domain_problem(*, session: Session, from_email: str, resend_configured: bool) -> str | None:
    """Why mail from this address cannot go out yet, with the fix; None when it can."""
    if not resend_configured or not from_email:
        return None
    name = domain_of(from_email)
    domain = find_domain(session=session, name=name)
    if domain is None:
        return f"The sending domain {name} is not added: add it in Domains and verify it."
    if domain.status != "verified":
        return f"The sending domain {name} is {domain.status.replace('_', ' ')}: add its DNS records and click Verify."
    return None


def domain_as_dict(domain: Domain) -> dict[str, Any]:
    return {
        "id": domain.id,
        "name": domain.name,
        "status": domain.status,
        "records": domain.records,
        "resend_id": domain.resend_id,
        "created_at": domain.created_at.isoformat(),
        "checked_at": domain.checked_at.isoformat() if domain.checked_at else None,
        "verified_at": domain.verified_at.isoformat() if domain.verified_at else None,
    }
