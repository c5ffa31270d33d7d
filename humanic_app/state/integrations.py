"""Integrations → PostHog: connect a source, copy its URL, wait live for the test event, check the
mapping, activate."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
from datetime import timedelta

import reflex as rx
from reflex.utils.exec import is_prod_mode

from humanic_app import clock
from humanic_app.models import SOURCE_STATUS_LABELS, SourceStatus
from humanic_app.models.rows import id_of
from humanic_app.services import (
    contacts,
    diagnostics,
    event_log,
    mapping as mapping_service,
    sample_sender,
    source_activity,
    sources,
    wording,
    workspace,
)
from humanic_app.services.errors import ServiceError, ValidationFailed
from humanic_app.services.sending import credentials
from humanic_app.settings import get_settings
from humanic_app.state.auth import AuthState, FindingRow, field_messages, finding_row, signed_in

MAPPED_FIELDS = list(mapping_service.FIELD_LABELS)  # the editor lists every field the mapping knows


@dataclasses.dataclass(frozen=True)
class SourceRow:
    id: str
    name: str
    status: str
    status_label: str


@dataclasses.dataclass(frozen=True)
class MappingRow:
    """One mapped field in the editor: its dot-paths as typed, and its value in the latest event."""

    field: str
    label: str
    paths: str
    value: str


def _mapping_from(form: dict[str, str]) -> dict:
    """The mapping editor's inputs (comma-separated paths per field, `name = path` lines) as a mapping
    that keeps only what differs from the default."""
    mapping: dict = {}
    for field in MAPPED_FIELDS:
        # the boxes wrap long paths onto several lines; a line break typed there separates paths like a comma
        paths = [p.strip() for p in re.split(r"[,\n]", form.get(f"map_{field}") or "") if p.strip()]
        if paths and paths != mapping_service.DEFAULT_MAPPING[field]:
            mapping[field] = paths
    variables = _variables_from(form.get("variables") or "")
    if variables:
        mapping["variables"] = variables
    return mapping


def _variables_from(text: str) -> dict[str, str]:
    """`name = path` lines; a line that is not one is refused with its number, never dropped."""
    variables, problems = {}, []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if "=" not in line:
            problems.append(f"Line {number} (“{line.strip()[:60]}”) is not name = path.")
            continue
        name, path = line.split("=", 1)
        variables[name.strip()] = path.strip()
    if problems:
        raise ValidationFailed(
            {"variables": " ".join(problems) + " Write each as e.g. company = person.properties.company."}
        )
    return variables


def _match_text(session, latest, mapped) -> str:
    """What the latest event does to contacts. While it is being processed, matching it now would find none and
    say it "creates a new contact", which its own processing is doing: the preview waits for that instead."""
    if latest.outcome.value == "pending":
        return "being processed…"
    return contacts.describe_match(session=session, mapped=mapped)


def _mapping_errors(exc: ServiceError) -> dict[str, str]:
    """The refusals of a mapping by editor field: named variables' own errors (`variables.<name>`) all go
    under the variables box, each naming its variable."""
    errors: dict[str, str] = {}
    for field, message in field_messages(exc).items():
        if field.startswith("variables."):
            field, message = "variables", f"{field.removeprefix('variables.')}: {message}"
        errors[field] = f"{errors[field]} {message}" if field in errors else message
    return errors


def _variables_text(variables: dict[str, str]) -> str:
    """Named variables as the editor shows them, one `name = path` per line (what `_mapping_from` reads)."""
    return "\n".join(f"{name} = {path}" for name, path in variables.items())


def _pretty(value) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


WAIT_BEFORE_HELP = timedelta(seconds=30)


def _activity_words(found: source_activity.SourceActivity) -> dict[str, str]:
    """The summary card's values. `last_at` is ISO for the page's relative time ("2 minutes ago"), which the
    browser keeps current between events; `last_at_full` is the exact moment, shown on hover."""
    return {
        "received_today": str(found.received_today),
        "last_event": found.last_event_name,
        "last_at": found.last_event_at.isoformat() if found.last_event_at else "",
        "last_at_full": found.last_event_at.strftime("%Y-%m-%d %H:%M:%S UTC") if found.last_event_at else "",
        "rejected_today": str(found.rejected_today),
        "rejected_words": wording.plural(found.rejected_today, "refused delivery", "refused deliveries"),
        "last_rejection": found.last_rejection,
    }


def _name_error(exc: ServiceError) -> str:
    """A refused source name, as said at the name field."""
    return " ".join(field_messages(exc).values())


class IntegrationsState(AuthState):
    sources: list[SourceRow] = []
    connected: int = 0  # sources created here: the connect form starts empty after each
    selected_id: int = 0
    sel_name: str = ""
    sel_status: str = ""
    sel_url: str = ""
    sel_signing: bool = False
    sel_header_name: str = ""
    new_signing_secret: str = ""
    base_url: str = ""
    base_url_is_private: bool = False
    has_test_event: bool = False
    latest_event: dict[str, str] = {}
    latest_payload: str = ""
    mapping_rows: list[MappingRow] = []
    variables_text: str = ""
    preview_contact: dict[str, str] = {}
    preview_variables: str = ""
    preview_is_draft: bool = False
    mapping_warnings: list[str] = []
    mapping_errors: dict[str, str] = {}  # by editor field: a mapped field's name, or "variables"
    _draft: dict[str, str] = {}  # mapping inputs as typed and not yet saved ("map_<field>", "variables")
    message: str = ""
    error: str = ""
    connect_error: str = ""  # at the new source's name
    rename_error: str = ""  # at this source's name
    sending_samples: bool = False
    _last_seen_event_id: int = 0
    _last_seen_outcome: str = ""
    waiting_help: list[FindingRow] = []
    _help_checked_at: float = 0.0
    activity: dict[str, str] = {}  # the connected source's summary: services/source_activity.py, in words
    steps_open: bool = False  # the six setup steps, folded away once the source is live

    @rx.var
    def is_live(self) -> bool:
        """Activated (or paused after) and events have arrived: the setup is done, so its steps fold away."""
        return self.sel_status in (SourceStatus.active.value, SourceStatus.paused.value) and self.has_test_event

    @rx.var
    def status_label(self) -> str:
        if not self.selected_id:
            return "Not connected"
        return SOURCE_STATUS_LABELS[SourceStatus(self.sel_status)] if self.sel_status else "Not connected"

    def _served_at(self) -> str:
        return workspace.served_base_url(
            page_host=self.router.page.host or f"http://localhost:{get_settings().port}",
            prod=is_prod_mode(),
            backend_port=rx.config.get_config().backend_port or rx.constants.DefaultPorts.BACKEND_PORT,
        )

    def _reload(self) -> None:
        with self._service_call() as session:
            ws = workspace.get_workspace(session=session)
            self.base_url = workspace.effective_public_url(
                workspace=ws, env_public_url=get_settings().public_url, served_at=self._served_at()
            )
            self.base_url_is_private = workspace.is_private_url(self.base_url)
            rows = sources.list_sources(session=session)
            self.sources = [
                SourceRow(id=str(s.id), name=s.name, status=s.status.value, status_label=SOURCE_STATUS_LABELS[s.status])
                for s in rows
            ]
            if rows and self.selected_id not in {s.id for s in rows}:
                self.selected_id = id_of(rows[0])
            if not rows:
                self.selected_id, self.activity = 0, {}
                return
            source = sources.get_source(session=session, source_id=self.selected_id)
            self.sel_name, self.sel_status = source.name, source.status.value
            self.sel_url = sources.webhook_url(base_url=self.base_url, source=source)
            self.sel_signing, self.sel_header_name = bool(source.signing_secret), source.required_header_name or ""
            latest = event_log.latest_accepted_event(session=session, source_id=id_of(source))
            self._show_latest(session, latest, source.mapping)
            self.activity = _activity_words(source_activity.source_activity(session=session, source_id=id_of(source)))
            self._check_waiting(session, source, force=True)

    def _check_waiting(self, session, source, force: bool = False) -> None:
        """No test event 30 seconds after connecting: show what the automatic checks know: a
        marketer stuck here needs the troubleshooting, not more waiting."""
        if self.has_test_event or clock.now() - source.created_at < WAIT_BEFORE_HELP:
            self.waiting_help = []
            return
        if not force and time.monotonic() - self._help_checked_at < 5:
            return
        self._help_checked_at = time.monotonic()
        findings = diagnostics.run_checks(
            session=session, resend_configured=credentials.in_effect(session=session).configured
        )
        relevant = [
            f
            for f in findings
            if f.case == "Events aren't appearing"
            and not (f.key.startswith("silent_source:") and f.key != f"silent_source:{source.id}")
        ]
        self.waiting_help = [finding_row(f) for f in relevant]

    def _preview_mapping(self, saved: dict) -> tuple[dict, list[str]]:
        """The mapping to preview: the saved one with the unsaved edits on top, if they are valid."""
        if not self._draft:
            return saved, []
        effective = mapping_service.effective_mapping(saved)
        typed = {
            **{f"map_{f}": ", ".join(effective[f]) for f in MAPPED_FIELDS},
            "variables": _variables_text(effective["variables"]),
            **self._draft,
        }
        try:
            return mapping_service.validate_mapping(_mapping_from(typed)), []
        except ServiceError as exc:
            return saved, ["Not previewed: " + " ".join(_mapping_errors(exc).values())]

    def _show_latest(self, session, latest, source_mapping) -> None:
        preview_mapping, problems = self._preview_mapping(source_mapping)
        self.preview_is_draft = preview_mapping != (source_mapping or {})
        effective = mapping_service.effective_mapping(preview_mapping)
        self.variables_text = self._draft.get("variables", _variables_text(effective["variables"]))
        self.has_test_event = latest is not None
        self._last_seen_event_id = latest.id if latest else 0
        self._last_seen_outcome = latest.outcome.value if latest else ""
        mapped = mapping_service.apply_mapping(latest.payload, preview_mapping) if latest and latest.payload else None
        self.mapping_rows = [
            MappingRow(
                field=f,
                label=mapping_service.FIELD_LABELS[f],
                paths=", ".join(effective[f]),
                value="" if mapped is None else mapping_service.preview_value(mapped, f),
            )
            for f in MAPPED_FIELDS
        ]
        if latest is None:
            self.latest_event, self.latest_payload = {}, ""
            self.preview_contact, self.preview_variables, self.mapping_warnings = {}, "", problems
            return
        self.latest_event = {
            "id": str(latest.id),
            "event": latest.event_name or "(legacy notification)",
            "received": latest.received_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "distinct_id": latest.distinct_id or "",
            "outcome": latest.outcome.value,
        }
        self.latest_payload = _pretty(latest.payload)
        if mapped is not None:
            self.preview_contact = {
                "email": mapped.email or "(none — this event cannot be emailed)",
                "name": mapped.name or "",
                "user_id": mapped.user_id or "",
                "match": _match_text(session, latest, mapped),
            }
            self.preview_variables = _pretty(mapped.variables)
            warnings = problems + [f"{p} matches nothing in the latest event" for p in mapped.unmatched_paths]
            if not mapped.email:
                warnings.append(
                    "No email found: add email to your PostHog $identify call, or map the email "
                    "field to where your events carry it."
                )
            self.mapping_warnings = warnings

    @rx.event
    @signed_in
    def preview_draft(self, field: str, text: str):
        """On leaving a mapping input (`field`: a mapped field, or "variables"): the preview follows what
        is typed, before anything is saved."""
        self._draft = {**self._draft, field if field == "variables" else f"map_{field}": text}
        self._reload()

    @rx.event
    @signed_in
    def load(self):
        self.message = self.error = self.new_signing_secret = self.connect_error = self.rename_error = ""
        self._draft, self.mapping_errors, self.steps_open = {}, {}, False
        self._reload()

    @rx.event
    @signed_in
    def toggle_steps(self):
        self.steps_open = not self.steps_open

    @rx.event
    @signed_in
    def note_copied(self):
        self.error, self.message = "", "Webhook URL copied. Paste it into PostHog (step 2)."

    @rx.event
    @signed_in
    def select_source(self, source_id: str):
        self.selected_id = int(source_id)
        self.new_signing_secret = self.message = self.error = self.rename_error = ""
        self._draft, self.mapping_errors, self.steps_open = {}, {}, False
        self._reload()

    @rx.event
    @signed_in
    def connect(self, form: dict):
        self.message = self.rename_error = ""
        with self._service_call("connect_error", then=self._reload, words=_name_error) as session:
            source = sources.create_source(session=session, name=form.get("name", ""))
            self.selected_id, self._draft = id_of(source), {}
            self.connected += 1
            self.message = "Source created. Copy the webhook URL into PostHog (step 2)."

    @rx.event
    @signed_in
    def rename_source(self, form: dict):
        self.message = self.connect_error = ""
        with self._service_call("rename_error", then=self._reload, words=_name_error) as session:
            source = sources.rename_source(session=session, source_id=self.selected_id, name=form.get("name", ""))
            self.message = f"Renamed to “{source.name}”. The webhook URL is unchanged."

    @rx.event
    @signed_in
    def delete_source(self):
        self.connect_error = self.rename_error = ""
        with self._service_call("error", then=self._reload) as session:
            source = sources.delete_source(session=session, source_id=self.selected_id)
            self.message = f"Deleted “{source.name}”. Its URL now answers 404; its events stay in the Event Log."
            self.selected_id, self._draft = 0, {}

    @rx.event
    @signed_in
    def regenerate(self):
        with self._service_call(then=self._reload) as session:
            sources.rotate_token(session=session, source_id=self.selected_id)
            self.message = "New webhook URL created. The old one stopped working: paste the new one into PostHog."

    @rx.event
    @signed_in
    def set_active(self, active: bool):
        with self._service_call("error", then=self._reload) as session:
            sources.set_status(
                session=session,
                source_id=self.selected_id,
                status=SourceStatus.active if active else SourceStatus.paused,
            )
            self.message = (
                "Active: matching events now fire campaigns."
                if active
                else "Paused: events are still stored, nothing fires."
            )

    @rx.event
    @signed_in
    def save_mapping(self, form: dict):
        self.message = ""
        with self._service_call("mapping_errors", then=self._reload, words=_mapping_errors) as session:
            sources.update_mapping(session=session, source_id=self.selected_id, mapping=_mapping_from(form))
            self._draft = {}
            self.message = "Mapping saved; the preview below uses it."

    @rx.event
    @signed_in
    def save_security(self, form: dict):
        signing_on = form.get("signing") in ("on", True, "true")
        with self._service_call("error", then=self._reload) as session:
            before = sources.get_source(session=session, source_id=self.selected_id).signing_secret
            source = sources.update_security(
                session=session,
                source_id=self.selected_id,
                signing_enabled=signing_on,
                header_name=form.get("header_name", ""),
                header_value=form.get("header_value", ""),
            )
            self.new_signing_secret = (
                source.signing_secret if source.signing_secret != before and source.signing_secret else ""
            )
            self.message = "Security settings saved."

    @rx.event
    @signed_in
    def poll(self, _tick: str = ""):
        """Runs every half second while the page is open: shows a new event as soon as it is stored."""
        if not self.selected_id:
            return
        with self._read_call() as session:  # twice a second per open tab: a read, never a write turn
            latest = event_log.latest_accepted_event(session=session, source_id=self.selected_id)
            if latest is None:
                self._check_waiting(session, sources.get_source(session=session, source_id=self.selected_id))
                return
            if latest.id == self._last_seen_event_id and latest.outcome.value == self._last_seen_outcome:
                return  # the preview already shows this event as processed so far
        self._reload()

    @rx.event(background=True)
    async def send_sample(self):
        async with self:
            if self._principal() is None or not self.selected_id:
                return
            self.sending_samples = True
            with self._service_call() as session:
                source = sources.get_source(session=session, source_id=self.selected_id)
                secret = source.signing_secret
                header = sources.required_header(source)
                local_url = sources.local_webhook_url(
                    port=rx.config.get_config().backend_port or rx.constants.DefaultPorts.BACKEND_PORT, source=source
                )
        try:
            results = await asyncio.to_thread(
                sample_sender.send_samples, webhook_url=local_url, signing_secret=secret, extra_headers=header
            )
            summary = ", ".join(f"{name} → {status}" for name, status in results)
            message, error = f"Sent {len(results)} sample events: {summary}", ""
        except Exception as exc:  # network trouble is shown, not raised
            message, error = "", f"Could not send the samples: {type(exc).__name__}"
        async with self:
            self.sending_samples = False
            self.message, self.error = message, error
            self._reload()
