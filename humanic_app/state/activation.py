"""The campaign page's activation area: what refuses this campaign's activation, each with its fix, and
the DMARC notice (never refusing) with the record to copy. The checks are the services' own
(`services/campaigns/guardrails.py`), the same that refuse Activate; the DNS lookup runs off the event
loop, so a slow resolver never stalls the page."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from humanic_app import routes
from humanic_app.services import workspace
from humanic_app.services.campaigns import guardrails, store
from humanic_app.state.auth import AuthState, signed_in

_FIX_LABELS = {routes.SETTINGS: "Open Settings", routes.DOMAINS: "Open Domains", routes.CAMPAIGNS: "Edit the step"}


@dataclasses.dataclass(frozen=True)
class BlockerRow:
    field: str
    problem: str
    href: str  # where it is fixed ("" when it is fixed here, in the builder)
    fix: str


class ActivationState(AuthState):
    campaign_id: int = 0
    blockers: list[BlockerRow] = []
    dmarc_warning: str = ""
    dmarc_record: str = ""  # the whole line, to copy into a DNS zone
    dmarc_record_name: str = ""
    dmarc_record_value: str = ""

    def _clear(self) -> None:
        self.blockers, self.dmarc_warning = [], ""
        self.dmarc_record = self.dmarc_record_name = self.dmarc_record_value = ""

    @rx.event
    @signed_in
    async def check(self, campaign_id: str):
        """Reads the blockers at once, then (off the event loop) the DMARC record of the From domain."""
        self.campaign_id = int(campaign_id or 0)
        self._clear()
        if not self.campaign_id:
            return
        with self._service_call() as session:
            campaign = store.get_campaign(session=session, campaign_id=self.campaign_id)
            found = guardrails.blockers(session=session, campaign=campaign)
            from_email = workspace.get_workspace(session=session).from_email
            through_resend = guardrails.resend_configured(session=session)
        self.blockers = [
            BlockerRow(
                field=b.field,
                problem=b.problem,
                href="" if b.href == routes.CAMPAIGNS else b.href,
                fix=_FIX_LABELS.get(b.href, ""),
            )
            for b in found
        ]
        yield
        checked = await asyncio.to_thread(
            guardrails.dmarc_check, from_email=from_email, sending_through_resend=through_resend
        )
        if checked is not None and (warning := guardrails.dmarc_warning(checked)):
            self.dmarc_warning, self.dmarc_record = warning, checked.record
            self.dmarc_record_name, self.dmarc_record_value = checked.record_name, checked.record_value
