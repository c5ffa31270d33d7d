"""Dashboard: the setup checklist until everything is done, and what the automatic checks found."""

from __future__ import annotations

import reflex as rx

from humanic_app.db import session_scope
from humanic_app.services import checklist, diagnostics
from humanic_app.settings import get_settings
from humanic_app.state.auth import AuthState, signed_in


class DashboardState(AuthState):
    items: list[dict[str, str]] = []
    remaining: int = 0
    findings: list[dict[str, str]] = []

    @rx.event
    @signed_in
    def load(self):
        resend_configured = bool(get_settings().resend_api_key)
        with session_scope() as session:
            rows = checklist.setup_checklist(session=session, resend_configured=resend_configured)
            self.findings = [diagnostics.finding_as_dict(f)
                             for f in diagnostics.run_checks(session=session, resend_configured=resend_configured)]
        self.items = [{"key": i.key, "label": i.label, "done": "yes" if i.done else "", "href": i.href,
                       "hint": i.hint} for i in rows]
        self.remaining = sum(1 for i in rows if not i.done)
