"""Domains page: add a sending domain, copy its DNS records, verify."""

from __future__ import annotations

import dataclasses

import reflex as rx

from humanic_app.models import DOMAIN_STATUS_LABELS
from humanic_app.services import domains
from humanic_app.state.auth import AuthState, signed_in


@dataclasses.dataclass(frozen=True)
class DomainRow:
    id: str
    name: str
    status: str
    label: str
    checked: str


@dataclasses.dataclass(frozen=True)
class DnsRecordRow:
    domain: str
    record: str
    type: str
    name: str
    value: str
    priority: str
    status: str


def _record_status(status: str) -> str:
    """A record's status in the page's words ("Not started"); DMARC's "recommended" is not Resend's."""
    return DOMAIN_STATUS_LABELS.get(status, status.capitalize())


class DomainsState(AuthState):
    resend_configured: bool = False
    domains: list[DomainRow] = []
    records: list[DnsRecordRow] = []
    message: str = ""
    error: str = ""

    def _refresh(self) -> None:
        with self._service_call() as session:
            self.resend_configured = domains.configure_in_effect(session=session)
            rows = domains.list_domains(session=session)
        self.domains = [
            DomainRow(
                id=str(d.id),
                name=d.name,
                status=d.status,
                label=DOMAIN_STATUS_LABELS.get(d.status, d.status),
                checked=d.checked_at.strftime("%Y-%m-%d %H:%M") if d.checked_at else "never",
            )
            for d in rows
        ]
        self.records = [
            DnsRecordRow(
                domain=d.name,
                record=r.get("record", ""),
                type=r.get("type", ""),
                name=r.get("name", ""),
                value=str(r.get("value", "")),
                priority=str(r.get("priority", "")),
                status=_record_status(str(r.get("status", ""))),
            )
            for d in rows
            for r in d.records
        ]

    @rx.event
    @signed_in
    def load(self):
        self.message = self.error = ""
        self._refresh()

    @rx.event
    @signed_in
    def add(self, form: dict):
        with self._service_call(
            "error", then=self._refresh, words=lambda exc: str(exc).removeprefix("name: ").removeprefix("domain: ")
        ) as session:
            domain = domains.create_domain(session=session, name=form.get("name", ""))
            self.message = f"{domain.name} added: add these DNS records, then click Verify."

    @rx.event
    @signed_in
    def verify(self, domain_id: str):
        with self._service_call("error", then=self._refresh) as session:
            domain = domains.get_domain(session=session, domain_id=int(domain_id))
            domain = domains.refresh(session=session, domain=domain, start_verification=True)
            self.message = f"{domain.name}: {DOMAIN_STATUS_LABELS.get(domain.status, domain.status)}."
