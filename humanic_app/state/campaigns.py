"""Campaigns page: list, builder, preview on a real event, status changes, YAML in and out."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from humanic_app.db import session_scope
from humanic_app.models import CampaignStatus
from humanic_app.services import event_log
from humanic_app.services.campaigns import library, preview, store
from humanic_app.services.errors import ServiceError, ValidationFailed
from humanic_app.state.auth import AuthState, signed_in

OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "contains", "not_contains", "is_set", "is_not_set", "in"]
EMPTY_STEP = {"delay": "0", "subject": "", "html": "", "text": ""}


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _parse_value(text: str, op: str) -> Any:
    if op in ("is_set", "is_not_set"):
        return None
    if op == "in":
        return [_parse_value(part.strip(), "eq") for part in text.split(",") if part.strip()]
    try:
        return json.loads(text)
    except ValueError:
        return text


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class CampaignsState(AuthState):
    campaigns: list[dict[str, str]] = []
    template_names: list[dict[str, str]] = []
    known_events: list[str] = []
    editing_id: int = 0
    editing_status: str = ""
    builder_open: bool = False
    name: str = ""
    trigger_event: str = ""
    occurrence: str = "1"
    within: str = ""
    conditions: list[dict[str, str]] = []
    unless_event: str = ""
    unless_within: str = "24h"
    unless_match: str = ""
    exit_on: str = ""
    reentry: str = "once"
    steps: list[dict[str, str]] = []
    field_errors: list[str] = []
    message: str = ""
    overlap_warning: str = ""
    yaml_text: str = ""
    preview_events: list[dict[str, str]] = []
    preview_event_id: str = "sample"
    preview_step: str = "0"
    preview_subject: str = ""
    preview_html: str = ""
    preview_missing: list[str] = []
    dry_run_days: str = "30"
    dry_run_summary: str = ""
    dry_run_rows: list[dict[str, str]] = []

    def _refresh_list(self) -> None:
        with session_scope() as session:
            rows = store.list_campaigns(session=session)
            counts = store.message_counts(session=session, campaign_ids=[c.id for c in rows])
            self.campaigns = [{"id": str(c.id), "name": c.name, "status": c.status.value, "trigger": c.trigger_event,
                               "sent": str(counts[c.id].get("sent", 0)),
                               "scheduled": str(counts[c.id].get("scheduled", 0))} for c in rows]
            self.known_events = event_log.recent_event_names(session=session)
        self.template_names = [{"slug": slug, "name": doc["name"]} for slug, doc in library.templates().items()]

    def _load_document(self, doc: dict[str, Any]) -> None:
        trigger = doc.get("trigger") or {}
        unless = doc.get("unless") or {}
        self.name = doc.get("name", "")
        self.trigger_event = trigger.get("event", "")
        self.occurrence = str(trigger.get("occurrence", 1))
        self.within = str(trigger.get("within") or "")
        self.conditions = [{"target": "person_property" if c.get("person_property") else "property",
                            "key": c.get("property") or c.get("person_property") or "", "op": c.get("op", "eq"),
                            "value": _value_text(c.get("value"))} for c in trigger.get("where", [])]
        self.unless_event = unless.get("event", "")
        self.unless_within = str(unless.get("within", "24h"))
        self.unless_match = ", ".join(unless.get("match", []))
        self.exit_on = ", ".join(doc.get("exit_on", []))
        self.reentry = doc.get("reentry", "once")
        self.steps = [{"delay": str(s.get("delay", 0)), "subject": s.get("subject", ""), "html": s.get("html", ""),
                       "text": s.get("text") or ""} for s in doc.get("steps", [])] or [dict(EMPTY_STEP)]
        self.field_errors, self.preview_subject, self.preview_html, self.preview_missing = [], "", "", []
        self.yaml_text = library.dump(doc)

    def _document(self) -> dict[str, Any]:
        trigger: dict[str, Any] = {"event": self.trigger_event.strip()}
        if self.conditions:
            trigger["where"] = [{c["target"]: c["key"].strip(), "op": c["op"], "value": _parse_value(c["value"], c["op"])}
                                for c in self.conditions]
        if self.occurrence.strip() not in ("", "1"):
            trigger["occurrence"] = int(self.occurrence) if self.occurrence.strip().isdigit() else self.occurrence
        if self.within.strip():
            trigger["within"] = self.within.strip()
        doc: dict[str, Any] = {"name": self.name.strip(), "trigger": trigger}
        if self.unless_event.strip():
            doc["unless"] = {"event": self.unless_event.strip(), "within": self.unless_within.strip() or "24h",
                             "match": _split(self.unless_match)}
        doc["exit_on"] = _split(self.exit_on)
        doc["reentry"] = self.reentry
        doc["steps"] = [{"delay": s["delay"].strip() or "0", "subject": s["subject"], "html": s["html"],
                         **({"text": s["text"]} if s["text"].strip() else {})} for s in self.steps]
        return doc

    @rx.event
    @signed_in
    def load(self):
        self.message = ""
        self._refresh_list()

    @rx.event
    @signed_in
    def new_from_template(self, slug: str):
        self._load_document(library.templates()[slug] if slug else {"name": "", "trigger": {"event": ""},
                                                                     "steps": [EMPTY_STEP]})
        self.editing_id, self.editing_status, self.builder_open = 0, "", True
        self.overlap_warning = self.message = ""
        self._load_preview_events()

    @rx.event
    @signed_in
    def edit(self, campaign_id: str):
        with session_scope() as session:
            campaign = store.get_campaign(session=session, campaign_id=int(campaign_id))
            self._load_document(campaign.definition)
            self.editing_id, self.editing_status = campaign.id, campaign.status.value
            overlaps = store.overlapping_triggers(session=session, campaign=campaign)
        self.overlap_warning = (f"Also triggered by {campaign.trigger_event}: {', '.join(overlaps)}. Both will fire "
                                "for the same event; consolidate them or rely on the frequency cap.") if overlaps else ""
        self.builder_open, self.message = True, ""
        self._load_preview_events()

    @rx.event
    def close_builder(self):
        self.builder_open = False

    @rx.event
    @signed_in
    def set_text(self, field: str, value: str):
        if field in ("name", "trigger_event", "occurrence", "within", "unless_event", "unless_within",
                     "unless_match", "exit_on", "reentry", "yaml_text"):
            setattr(self, field, value)
        if field == "trigger_event":
            self._load_preview_events()

    @rx.event
    @signed_in
    def add_condition(self):
        self.conditions = self.conditions + [{"target": "property", "key": "", "op": "eq", "value": ""}]

    @rx.event
    @signed_in
    def remove_condition(self, index: int):
        self.conditions = [c for i, c in enumerate(self.conditions) if i != index]

    @rx.event
    @signed_in
    def set_condition(self, index: int, field: str, value: str):
        rows = [dict(c) for c in self.conditions]
        rows[index][field] = value
        self.conditions = rows
        self._follow_edit()

    @rx.event
    @signed_in
    def add_step(self):
        self.steps = self.steps + [dict(EMPTY_STEP, delay="1d")]

    @rx.event
    @signed_in
    def remove_step(self, index: int):
        if len(self.steps) > 1:
            self.steps = [s for i, s in enumerate(self.steps) if i != index]

    @rx.event
    @signed_in
    def move_step(self, index: int, offset: int):
        target = index + offset
        if 0 <= target < len(self.steps):
            rows = list(self.steps)
            rows[index], rows[target] = rows[target], rows[index]
            self.steps = rows

    @rx.event
    @signed_in
    def set_step(self, index: int, field: str, value: str):
        rows = [dict(s) for s in self.steps]
        rows[index][field] = value
        self.steps = rows
        self._follow_edit()

    @rx.event
    @signed_in
    def save(self):
        try:
            with session_scope() as session:
                if self.editing_id:
                    campaign = store.update_campaign(session=session, campaign_id=self.editing_id,
                                                     document=self._document())
                else:
                    campaign = store.create_campaign(session=session, document=self._document())
                self.editing_id, self.editing_status = campaign.id, campaign.status.value
                self.yaml_text = library.dump(campaign.definition)
        except ValidationFailed as exc:
            self.field_errors = [f"{field}: {msg}" for field, msg in exc.field_errors.items()]
            self.message = ""
            return
        self.field_errors = []
        self.message = "Saved." + (" Changes apply to contacts who enrol from now on; those already in the "
                                   "sequence keep the version they started with." if self.editing_status == "active"
                                   else "")
        self._refresh_list()

    @rx.event
    @signed_in
    def import_yaml(self):
        try:
            self._load_document(library.load_text(self.yaml_text) or {})
        except Exception as exc:  # YAML errors are shown, not raised
            self.field_errors = [f"YAML: {exc}"]
            return
        self.message = "Loaded into the builder; review and Save."

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        """A dropped or chosen YAML/JSON campaign file goes into the builder (saving stays explicit)."""
        if self.principal() is None:
            return rx.redirect("/signin")
        for upload in files[:1]:
            text = (await upload.read()).decode("utf-8", "replace")
            try:
                document = library.load_text(text)
                if not isinstance(document, dict):
                    raise ValueError("the file holds no campaign object (export one campaign with --id)")
            except Exception as exc:  # a bad file is reported, not raised
                self.field_errors = [f"{upload.name or 'file'}: {exc}"]
                return None
            self._load_document(document)
            self.editing_id, self.editing_status, self.builder_open = 0, "", True
            self.message = f"Loaded {upload.name or 'the file'} into the builder; review and Save."
            self._load_preview_events()
        return None

    @rx.event
    @signed_in
    def download_yaml(self):
        return rx.download(data=library.dump(self._document()),
                           filename=(self.name.strip().lower().replace(" ", "-") or "campaign") + ".yaml")

    @rx.event
    @signed_in
    def change_status(self, campaign_id: str, status: str):
        try:
            with session_scope() as session:
                campaign = store.set_status(session=session, campaign_id=int(campaign_id),
                                            status=CampaignStatus(status))
                overlaps = store.overlapping_triggers(session=session, campaign=campaign)
        except ServiceError as exc:
            self.message = str(exc).removeprefix("status: ")
            self._refresh_list()
            return
        self.message = f"{campaign.name} is now {campaign.status.value}."
        if overlaps and status == "active":
            self.message += f" Warning: {', '.join(overlaps)} also fire on {campaign.trigger_event}."
        if int(campaign_id) == self.editing_id:
            self.editing_status = campaign.status.value
        self._refresh_list()

    def _load_preview_events(self) -> None:
        with session_scope() as session:
            events = event_log.recent_events_named(session=session, name=self.trigger_event.strip()) \
                if self.trigger_event.strip() else []
        self.preview_events = [{"id": str(e.id), "label": f"#{e.id} {e.event_name} · {e.distinct_id or ''} · "
                                                          f"{e.received_at.strftime('%Y-%m-%d %H:%M')}"} for e in events]
        self.preview_event_id = self.preview_events[0]["id"] if self.preview_events else "sample"

    @rx.event
    @signed_in
    def set_preview(self, field: str, value: str):
        if field == "event":
            self.preview_event_id = value
        else:
            self.preview_step = value
        return CampaignsState.render_preview

    def _render_preview(self, quiet: bool) -> None:
        """Quiet re-renders follow edits live and keep the last good preview while the document is
        mid-edit (invalid); the explicit button reports the errors."""
        try:
            with session_scope() as session:
                event = None if self.preview_event_id == "sample" else \
                    event_log.get_event(session=session, event_id=int(self.preview_event_id))
                result = preview.preview_step(session=session, document=self._document(),
                                              step_index=int(self.preview_step or 0), event=event)
        except ValidationFailed as exc:
            if not quiet:
                self.field_errors = [f"{field}: {msg}" for field, msg in exc.field_errors.items()]
            return
        self.field_errors = []
        self.preview_subject, self.preview_html, self.preview_missing = \
            result["subject"], result["html"], result["missing"]

    def _follow_edit(self) -> None:
        if self.preview_subject:
            self._render_preview(quiet=True)

    @rx.event
    @signed_in
    def render_preview(self):
        self._render_preview(quiet=False)

    @rx.event
    @signed_in
    def set_dry_run_days(self, value: str):
        self.dry_run_days = value

    @rx.event
    @signed_in
    def run_dry_run(self):
        from humanic_app.services.campaigns.dry_run import dry_run

        days = int(self.dry_run_days) if self.dry_run_days.strip().isdigit() else 30
        try:
            with session_scope() as session:
                result = dry_run(session=session, document=self._document(), days=days)
        except ValidationFailed as exc:
            self.field_errors = [f"{field}: {msg}" for field, msg in exc.field_errors.items()]
            return
        not_sent = "; ".join(f"{reason}: {n}" for reason, n in result["not_sent"].items()) or "none"
        self.dry_run_summary = (f"Over the last {days} days this campaign would have enrolled {result['contacts']} "
                                f"contacts and sent {result['emails']} emails (per step: "
                                f"{', '.join(map(str, result['emails_per_step']))}). Not sent: {not_sent}. "
                                f"Nothing was sent.")
        self.dry_run_rows = [{"to": e["to"], "step": str(e["step"] + 1), "due": e["due_at"][:16].replace("T", " ")}
                             for e in result["sample"][:20]]

    test_to: str = ""

    @rx.event
    @signed_in
    def set_test_to(self, value: str):
        self.test_to = value

    @rx.event
    @signed_in
    def send_test(self):
        from humanic_app.services.delivery import messages
        from humanic_app.background import wake_dispatcher

        try:
            with session_scope() as session:
                event = None if self.preview_event_id == "sample" else \
                    event_log.get_event(session=session, event_id=int(self.preview_event_id))
                messages.create_test_send(session=session, document=self._document(),
                                          step_index=int(self.preview_step or 0), to=self.test_to,
                                          variables=preview.variables_for_event(session=session, event=event),
                                          campaign_id=self.editing_id or None)
        except ValidationFailed as exc:
            self.field_errors = [f"{field}: {msg}" for field, msg in exc.field_errors.items()]
            return
        wake_dispatcher()
        self.field_errors = []
        self.message = f"Test email queued to {self.test_to.strip().lower()}: see Messages."
