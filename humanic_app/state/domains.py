"""Domains page: add a sending domain, copy its DNS records, verify."""

from __future__ import annotations

import reflex as rx

from humanic_app.db import session_scope
from humanic_app.models import DOMAIN_STATUS_LABELS
from humanic_app.services import domains
from humanic_app.services.errors import ServiceError
from humanic_app.settings import get_settings
from humanic_app.state.auth import AuthState, signed_in


class DomainsState(AuthState):
    resend_configured: bool = False
    domains: list[dict[str, str]] = []
    records: list[dict[str, str]] = []
    message: str = ""
    error: str = ""

    def _refresh(self) -> None:
        settings = get_settings()
        self.resend_configured = domains.configure(api_key=settings.resend_api_key, api_url=settings.resend_api_url)
        with session_scope() as session:
            rows = domains.list_domains(session=session)
        self.domains = [{"id": str(d.id), "name": d.name, "status": d.status,
                         "label": DOMAIN_STATUS_LABELS.get(d.status, d.status),
                         "checked": d.checked_at.strftime("%Y-%m-%d %H:%M") if d.checked_at else "never"}
                        for d in rows]
        self.records = [{"domain": d.name, "record": r.get("record", ""), "type": r.get("type", ""),
                         "name": r.get("name", ""), "value": str(r.get("value", "")),
                         "priority": str(r.get("priority", "")), "status": str(r.get("status", ""))}
                        for d in rows for r in d.records]

    @rx.event
    @signed_in
    def load(self):
        self.message = self.error = ""
        self._refresh()

    @rx.event
    @signed_in
    def add(self, form: dict):
        try:
            with session_scope() as session:
                domain = domains.create_domain(session=session, name=form.get("name", ""))
        except ServiceError as exc:
            self.error = str(exc).removeprefix("name: ").removeprefix("domain: ")
            return
        self.error, self.message = "", f"{domain.name} added: add these DNS records, then click Verify."
        self._refresh()

    @rx.event
    @signed_in
    def verify(self, domain_id: str):
        try:
            with session_scope() as session:
                domain = domains.get_domain(session=session, domain_id=int(domain_id))
                domain = domains.refresh(session=session, domain=domain, start_verification=True)
        except ServiceError as exc:
            self.error = str(exc)
            return
        self.error = ""
        self.message = f"{domain.name}: {DOMAIN_STATUS_LABELS.get(domain.status, domain.status)}."
        self._refresh()
