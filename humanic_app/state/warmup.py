"""Domains page, warm-up panel: each sending domain's daily cap today, what went and what waits, the switch
and the ladder of daily caps (services/warmup.py)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from humanic_app.services import domains, warmup
from humanic_app.services.errors import ValidationFailed
from humanic_app.state.auth import AuthState, field_messages, signed_in


@dataclasses.dataclass(frozen=True)
class WarmupRow:
    id: str
    name: str
    enabled: bool
    summary: str
    held: str  # "3 emails wait for tomorrow (00:00 UTC)", or ""
    ladder: str  # as typed: "50, 100, 250"
    error: str  # why the last ladder typed for it was refused


def warmup_row(domain_id: str, name: str, state: warmup.WarmupStatus, error: str) -> WarmupRow:
    held = state.held
    return WarmupRow(
        id=domain_id,
        name=name,
        enabled=state.enabled,
        summary=state.describe(),
        held=f"{held:,} {'email waits' if held == 1 else 'emails wait'} for tomorrow (00:00 UTC)." if held else "",
        ladder=warmup.ladder_text(state.ladder),
        error=error,
    )


class WarmupState(AuthState):
    rows: list[WarmupRow] = []
    message: str = ""
    errors: dict[str, str] = {}  # by domain id

    def _refresh(self) -> None:
        with self._read_call() as session:
            states = [(d, warmup.status(session=session, domain=d)) for d in domains.list_domains(session=session)]
        self.rows = [warmup_row(str(d.id), d.name, s, self.errors.get(str(d.id), "")) for d, s in states]

    @rx.event
    @signed_in
    def load(self):
        self.message, self.errors = "", {}
        self._refresh()

    @rx.event
    @signed_in
    def switch(self, domain_id: str, on: bool):
        with self._service_call(then=self._refresh) as session:
            domain = domains.get_domain(session=session, domain_id=int(domain_id))
            warmup.update(session=session, domain=domain, enabled=on, ladder=None)
            self.message = f"Warm-up {'on' if on else 'off'} for {domain.name}."

    @rx.event
    @signed_in
    def save_ladder(self, form: dict):
        domain_id = str(form.get("domain_id", ""))
        try:
            ladder = warmup.parse_ladder(str(form.get("ladder", "")))
        except ValidationFailed as exc:
            self.errors, self.message = self.errors | {domain_id: " ".join(field_messages(exc).values())}, ""
            self._refresh()
            return
        self.errors = {k: v for k, v in self.errors.items() if k != domain_id}
        with self._service_call(then=self._refresh) as session:
            domain = domains.get_domain(session=session, domain_id=int(domain_id))
            warmup.update(session=session, domain=domain, enabled=None, ladder=ladder)
            self.message = f"Ladder saved for {domain.name}."
