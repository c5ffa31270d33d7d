"""Campaigns page: list, builder, preview on a real event, status changes, YAML in and out."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import reflex as rx
from sqlmodel import Session

from humanic_app import clock, routes
from humanic_app.models import CampaignStatus, Event
from humanic_app.models.rows import id_of
from humanic_app.services import event_log, templates, wording, workspace
from humanic_app.services.campaigns import guardrails, journeys, library, preview, store
from humanic_app.services.design import partials, render
from humanic_app.services.errors import ServiceError, ValidationFailed
from humanic_app.state import journey_counts, journey_form as form, journey_layout, quiet_hours
from humanic_app.state.activation import ActivationState
from humanic_app.state.auth import AuthState, field_messages, signed_in
from humanic_app.state.journey_form import BlockRow, ConditionRow, NodeRow, PathCondition
from humanic_app.state.topics import NO_TOPIC, topic_choices


@dataclasses.dataclass(frozen=True)
class CampaignRow:
    id: str
    name: str
    status: str
    trigger: str
    sent: str
    scheduled: str
    paused_reason: str  # empty unless the campaign paused itself
    archive_consequence: str  # what the Archive confirmation says will happen


# Said where a count of scheduled emails leaves out a journey's emails past a wait for an event or a branch.
NOT_SCHEDULED_YET = (
    "Emails after a wait for an event or a branch are scheduled only when a contact gets there, so they are "
    "not in this count"
)


def _archive_consequence(scheduled: int, *, later_emails: bool) -> str:
    later = f" {NOT_SCHEDULED_YET}; they will not be sent either." if later_emails else ""
    if not scheduled:
        return "It stops for good: no new contacts enrol. Nothing is scheduled, so no email is cancelled." + later
    return (
        f"It stops for good and cancels {wording.plural(scheduled, 'scheduled email')}; "
        f"contacts in it leave the sequence.{later} This cannot be undone."
    )


def _has_later_emails(definition: dict[str, Any]) -> bool:
    steps = [s for s in definition.get("steps", []) if isinstance(s, dict)]
    return any(form.written_later([form.node_row(s) for s in steps]))


@dataclasses.dataclass(frozen=True)
class TemplateCard:
    """A ready-made campaign's card: what it is for, what starts it, how many emails it sends."""

    slug: str
    name: str
    purpose: str
    trigger: str
    emails: str  # "4 emails"


@dataclasses.dataclass(frozen=True)
class NodeChoice:
    """A node a way out can lead to, named as the builder shows it."""

    id: str
    label: str


@dataclasses.dataclass(frozen=True)
class EffectRow:
    """What saving an edit of a live journey does to the contacts waiting at one node."""

    label: str
    waiting: str
    change: str
    what_happens: str


@dataclasses.dataclass(frozen=True)
class PreviewEventRow:
    id: str
    label: str


@dataclasses.dataclass(frozen=True)
class CheckRow:
    """One design check of the previewed email (services/design/checks.py): passed or not, and what it found."""

    check: str
    ok: bool
    message: str


@dataclasses.dataclass(frozen=True)
class VariableRow:
    """A variable the previewed event and its contact have, with its value there as an example."""

    name: str
    example: str


@dataclasses.dataclass(frozen=True)
class DryRunRow:
    recipient: str  # not `to`: a row var's `.to` is Reflex's own cast method
    step: str
    due: str


def _builder_errors(exc: ServiceError) -> dict[str, str]:
    return {
        form.form_field(field) if field else "document": wording.message(message)
        for field, message in field_messages(exc).items()
    }


def _test_send_problem(exc) -> str:
    """Why a test send was refused: the address, or the campaign fields named as the builder names them."""
    if isinstance(exc, ValidationFailed):
        return " ".join(
            wording.message(m) if field == "email" else f"{wording.campaign_field(field)}: {wording.message(m)}"
            for field, m in exc.field_errors.items()
        )
    return str(exc)


def _status_refusal(exc: ServiceError) -> str:
    """A refused status change in one sentence; an activation's refusal says so first."""
    said = " ".join(field_messages(exc).values())
    return said if "status" in field_messages(exc) else f"Cannot activate yet. {said}"


def _yaml_problem(exc: Exception) -> str:
    """A YAML or JSON parse error as a sentence with its line, not PyYAML's '"<unicode string>", line 3'."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        problem = getattr(exc, "problem", None) or "unreadable"
        return f"Line {mark.line + 1}, column {mark.column + 1}: {problem}."
    return wording.message(str(exc))


class CampaignsState(AuthState):
    campaigns: list[CampaignRow] = []
    templates: list[TemplateCard] = []
    workspace_name: str = ""  # what the ready-made campaigns' copy calls the product (Settings)
    shared_blocks: str = ""  # the names a shared-block block can put in, for its hint ("signature, product-card")
    known_events: list[str] = []
    known_cohorts: list[str] = []  # the imported PostHog cohorts' names, offered by the trigger's cohort field
    editing_id: int = 0
    editing_status: str = ""
    builder_open: bool = False
    name: str = ""
    trigger_event: str = ""
    occurrence: str = "1"
    within: str = ""
    trigger_cohort: str = ""
    conditions: list[ConditionRow] = []
    unless_event: str = ""
    unless_within: str = ""  # empty while there is no Unless event: a value there would read as a setting
    unless_match: str = ""
    exit_on: str = ""
    reentry: str = "once"
    emails_per_minute: str = ""  # the campaign's send rate; empty: no limit
    topic: str = NO_TOPIC  # a topic's key, "transactional", or NO_TOPIC (the document names none)
    topic_choices: list[list[str]] = []  # [value, label] for the builder's Topic select
    quiet_mode: str = "inherit"  # quiet hours: inherit (the workspace's), off, or window (the fields below)
    quiet_from: str = "09:00"
    quiet_to: str = "19:00"
    quiet_days: str = quiet_hours.WEEKDAYS_TEXT
    preview_sends: str = ""  # when the previewed email would go for that event's contact (quiet hours)
    nodes: list[NodeRow] = []  # the journey's steps, in the document's order (journey_form maps them)
    edit_effects: list[EffectRow] = []  # shown before saving a live journey: who waits where, what happens
    edit_effects_summary: str = ""
    dry_run_paths: list[str] = []  # per way out of each wait_for and branch: how many took it
    counts_summary: str = ""  # the live region's text: how the counts moved (journey_counts), throttled
    counts_announcements: int = 0  # counts summaries, so one worded like the last is a new node, read again
    _counts_heard: dict[str, list[int]] = {}  # the counts as last said (or as they were on load)
    _counts_said_at: float = 0.0
    builder_errors: dict[str, str] = {}  # by the document's field ("steps.0.html"), in the UI's words
    message: str = ""
    status_error: str = ""  # why an Activate (or other status change) was refused
    status_fix: str = ""  # the page where that is fixed
    overlap_warning: str = ""
    yaml_text: str = ""
    preview_events: list[PreviewEventRow] = []
    preview_event_id: str = "sample"
    preview_step: str = "0"
    preview_subject: str = ""
    preview_from: str = ""  # the From header the email would carry ("" until Settings has a From address)
    preview_html: str = ""
    preview_error: str = ""  # why the step cannot render, shown where the preview would be
    preview_missing: list[str] = []
    preview_checks: list[CheckRow] = []
    preview_width: str = "desktop"  # desktop (600 px) or phone (390 px): the frame's width
    preview_scheme: str = "light"  # light or dark: which of the email's colour schemes the frame shows
    _preview_as_sent: str = ""  # the rendered HTML; `preview_html` is it in the chosen scheme
    variable_choices: list[VariableRow] = []  # what the previewed event and contact have, for the picker
    dry_run_days: str = "30"
    dry_run_summary: str = ""
    dry_run_rows: list[DryRunRow] = []

    def _builder_call(self, then: Callable[[], object] | None = None) -> AbstractContextManager[Session]:
        """A service call whose validation errors the builder lists one per field."""
        return self._service_call("builder_errors", then=then, words=_builder_errors, catch=ValidationFailed)

    @rx.var
    def field_errors(self) -> list[str]:
        """Every refusal at once, each named as the builder names the field."""
        return [f"{wording.campaign_field(field)}: {message}" for field, message in self.builder_errors.items()]

    def _refresh_list(self) -> None:
        with self._service_call() as session:
            rows = store.list_campaigns(session=session)
            counts = store.message_counts(session=session, campaign_ids=[id_of(c) for c in rows])
            self.campaigns = [
                CampaignRow(
                    id=str(c.id),
                    name=c.name,
                    status=c.status.value,
                    trigger=c.trigger_event,
                    sent=str(counts[id_of(c)].get("sent", 0)),
                    scheduled=str(counts[id_of(c)].get("scheduled", 0)),
                    archive_consequence=_archive_consequence(
                        counts[id_of(c)].get("scheduled", 0), later_emails=_has_later_emails(c.definition)
                    ),
                    paused_reason=c.paused_reason or "",
                )
                for c in rows
            ]
            self.known_events = event_log.recent_event_names(session=session)
            self.known_cohorts = sorted(name for _, name in journeys.imported_cohorts(session))
            self.workspace_name = workspace.get_workspace(session=session).name
            self.shared_blocks = ", ".join(partials.listed(session=session))
        self.templates = [
            TemplateCard(
                slug=t.slug,
                name=t.name,
                purpose=t.purpose,
                trigger=t.trigger,
                emails=wording.plural(t.emails, "email"),
            )
            for t in library.catalogue()
        ]

    def _load_document(self, doc: dict[str, Any]) -> None:
        trigger = doc.get("trigger") or {}
        unless = doc.get("unless") or {}
        self.name = doc.get("name", "")
        self.trigger_event = trigger.get("event", "")
        self.occurrence = str(trigger.get("occurrence", 1))
        self.within = str(trigger.get("within") or "")
        self.trigger_cohort = str(trigger.get("in_cohort") or "")
        self.conditions = [form.condition_row(c) for c in trigger.get("where", [])]
        self.unless_event = unless.get("event", "")
        self.unless_within = str(unless.get("within", "24h")) if unless else ""
        self.unless_match = ", ".join(unless.get("match", []))
        self.exit_on = ", ".join(doc.get("exit_on", []))
        self.reentry = doc.get("reentry", "once")
        self.emails_per_minute = str(doc.get("emails_per_minute") or "")
        self.topic = str(doc.get("topic") or NO_TOPIC)
        with self._read_call() as session:
            self.topic_choices = topic_choices(session=session, current=self.topic)
        self.quiet_mode, self.quiet_from, self.quiet_to, self.quiet_days = quiet_hours.form_of(doc.get("quiet_hours"))
        self._load_nodes(doc, {})
        self.builder_errors, self.preview_subject, self.preview_html, self.preview_missing = {}, "", "", []
        self._preview_as_sent = ""
        self.preview_checks = []
        self.preview_from, self.preview_sends, self.preview_step = "", "", self._first_email()
        self.edit_effects, self.edit_effects_summary, self.dry_run_paths = [], "", []
        self.counts_summary, self._counts_said_at = "", 0.0
        # what was shown for the previous campaign belongs to it
        self.dry_run_summary, self.dry_run_rows, self.test_send_result, self.test_send_error = "", [], "", ""
        self.message = ""
        self.preview_error = ""
        self.yaml_text = library.dump(doc)

    def _document(self) -> dict[str, Any]:
        trigger: dict[str, Any] = {"event": self.trigger_event.strip()}
        if self.conditions:
            trigger["where"] = [form.condition_dict(c) for c in self.conditions]
        if self.occurrence.strip() not in ("", "1"):
            trigger["occurrence"] = int(self.occurrence) if self.occurrence.strip().isdigit() else self.occurrence
        if self.within.strip():
            trigger["within"] = self.within.strip()
        if self.trigger_cohort.strip():
            trigger["in_cohort"] = self.trigger_cohort.strip()
        doc: dict[str, Any] = {"name": self.name.strip(), "trigger": trigger}
        if self.unless_event.strip():
            doc["unless"] = {
                "event": self.unless_event.strip(),
                "within": self.unless_within.strip() or "24h",
                "match": form.split(self.unless_match),
            }
        doc["exit_on"] = form.split(self.exit_on)
        doc["reentry"] = self.reentry
        if rate := self.emails_per_minute.strip():
            doc["emails_per_minute"] = int(rate) if rate.isdigit() else rate  # not a number: the schema says so
        if self.topic != NO_TOPIC:
            doc["topic"] = self.topic
        if (
            quiet := quiet_hours.value_of(self.quiet_mode, self.quiet_from, self.quiet_to, self.quiet_days)
        ) is not None:
            doc["quiet_hours"] = quiet
        doc["steps"] = [form.node_dict(row) for row in self.nodes]
        return doc

    def _load_nodes(self, doc: dict[str, Any], counts: dict[str, dict[str, Any]]) -> None:
        """The document's steps into the form, each with its live counts (by the id the document gives it)."""
        steps = [s for s in doc.get("steps", []) if isinstance(s, dict)] or [{}]
        rows = [form.node_row(s, counts.get(s.get("id") or f"step-{i + 1}")) for i, s in enumerate(steps)]
        self.nodes = form.with_ids(rows) if form.is_journey(rows) else rows
        self._counts_heard = journey_counts.tally(counts)  # what opens is on screen: not announced

    def _first_email(self) -> str:
        return next((str(i) for i, row in enumerate(self.nodes) if row.kind == "email"), "0")

    @rx.event
    @signed_in
    def load(self):
        self.message = self.status_error = ""
        self._refresh_list()

    @rx.event
    @signed_in
    def new_from_template(self, slug: str):
        if slug:
            with self._service_call() as session:
                named = workspace.get_workspace(session=session).name
            document = library.templates(workspace_name=named)[slug]
        else:
            document = {"name": "", "trigger": {"event": ""}, "steps": [form.blank_email()]}
        self._load_document(document)
        self.editing_id, self.editing_status, self.builder_open = 0, "", True
        self.overlap_warning = self.message = ""
        self._load_preview_events()
        self._show_preview()
        return ActivationState.check("")

    @rx.event
    @signed_in
    def edit(self, campaign_id: str):
        with self._service_call() as session:
            campaign = store.get_campaign(session=session, campaign_id=int(campaign_id))
            self._load_document(campaign.definition)
            self._load_nodes(campaign.definition, store.node_counts(session=session, campaign_id=id_of(campaign)))
            self.editing_id, self.editing_status = id_of(campaign), campaign.status.value
            overlaps = store.overlapping_triggers(session=session, campaign=campaign)
        self.overlap_warning = (
            (
                f"Also triggered by {campaign.trigger_event}: {', '.join(overlaps)}. Both will fire "
                "for the same event; consolidate them or rely on the frequency cap."
            )
            if overlaps
            else ""
        )
        self.builder_open, self.message = True, ""
        self._load_preview_events()
        self._show_preview()
        return ActivationState.check(str(self.editing_id))

    @rx.event
    def close_builder(self):
        self.builder_open = False

    @rx.event
    @signed_in
    def set_text(self, field: str, value: str):
        self._edited()
        if field in (
            "name",
            "trigger_event",
            "occurrence",
            "within",
            "trigger_cohort",
            "unless_event",
            "unless_within",
            "unless_match",
            "exit_on",
            "reentry",
            "emails_per_minute",
            "topic",
            "quiet_mode",
            "quiet_from",
            "quiet_to",
            "quiet_days",
            "yaml_text",
        ):
            setattr(self, field, value)
        if field == "trigger_event":
            self._load_preview_events()

    def _edited(self) -> None:
        """A builder edit: a shown "Saved." or "Loaded …" no longer describes what is on screen."""
        self.message = ""

    @rx.event
    @signed_in
    def add_condition(self):
        self._edited()
        self.conditions = self.conditions + [ConditionRow()]

    @rx.event
    @signed_in
    def remove_condition(self, index: int):
        self._edited()
        self.conditions = [c for i, c in enumerate(self.conditions) if i != index]

    @rx.event
    @signed_in
    def set_condition(self, index: int, field: str, value: str):
        self._edited()
        rows = list(self.conditions)
        rows[index] = dataclasses.replace(rows[index], **{field: value})
        self.conditions = rows
        self._follow_edit()

    # --- The journey's nodes ---------------------------------------------------------------------------

    @rx.var
    def node_labels(self) -> list[str]:
        """Each node named as validation and the dry run name it: "Step 3 (wait for checkout_completed)"."""
        return form.labels(self.nodes)

    @rx.var
    def node_choices(self) -> list[NodeChoice]:
        """Where a way out can lead: any node with an id (a journey's nodes all have one)."""
        return [
            NodeChoice(id=row.id, label=label)
            for row, label in zip(self.nodes, form.labels(self.nodes), strict=True)
            if row.id
        ]

    @rx.var
    def email_choices(self) -> list[NodeChoice]:
        """The email nodes the preview can render, by their index in `steps`."""
        return [
            NodeChoice(id=str(i), label=label)
            for i, (row, label) in enumerate(zip(self.nodes, form.labels(self.nodes), strict=True))
            if row.kind == "email"
        ]

    @rx.var
    def email_ids(self) -> list[NodeChoice]:
        """The email nodes an engagement condition can ask about, by id."""
        labels = form.labels(self.nodes)
        return [
            NodeChoice(id=row.id, label=labels[i]) for i, row in enumerate(self.nodes) if row.kind == "email" and row.id
        ]

    @rx.var
    def written_later(self) -> list[bool]:
        """Per node: an email not scheduled (in Messages, the Dashboard, Archive's count) until a contact gets to it."""
        return form.written_later(self.nodes)

    @rx.var
    def flow(self) -> list[journey_layout.FlowColumn]:
        """The nodes as the builder draws them: ways out side by side until they meet again."""
        return journey_layout.flow_layout(self.nodes)

    @rx.var
    def can_move(self) -> list[list[bool]]:
        """Per node: [up, down], whether it can move so within its run."""
        return [list(pair) for pair in journey_layout.moves(self.nodes)]

    @rx.var
    def node_problems(self) -> list[str]:
        """Per node, its refusals in one line ("" when none): the card shows them and is highlighted."""
        problems = [""] * len(self.nodes)
        for field, message in self.builder_errors.items():
            parts = field.split(".")
            if parts[0] == "steps" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(problems):
                index = int(parts[1])
                problems[index] = (problems[index] + " " + message).strip()
        return problems

    def _set_nodes(self, rows: list[NodeRow]) -> None:
        self._edited()
        self.nodes = form.with_ids(rows) if form.is_journey(rows) else rows
        self.edit_effects, self.edit_effects_summary = [], ""

    @rx.event
    @signed_in
    def add_node(self, at: int, kind: str):
        """A new node at position `at` (0 = first), reached from the node above it."""
        rows = form.with_ids(self.nodes) if kind != "email" or form.is_journey(self.nodes) else list(self.nodes)
        new = form.new_node(kind, form.fresh_id(rows, kind) if kind != "email" or form.is_journey(rows) else "")
        self._set_nodes([*rows[:at], new, *rows[at:]])

    @rx.event
    @signed_in
    def add_into_path(self, index: int, key: str, kind: str):
        """A new node on one way out of a wait_for or branch: placed right below it and led to by that way
        only; the others keep leading where they did, and the new node goes on to where this way led."""
        rows = form.with_ids(self.nodes)
        if index + 1 == len(rows) and len(rows[index].paths) > 1:
            # nothing below: the other ways out ended the journey; an exit keeps them ending once a node is below
            rows.append(form.new_node("exit", form.fresh_id(rows, "exit")))
        below = rows[index + 1].id if index + 1 < len(rows) else form.BELOW
        new = form.new_node(kind, form.fresh_id(rows, kind))
        paths = []
        for path in rows[index].paths:
            leads_to = path.then or below
            if path.key == key:
                if kind in ("email", "wait"):
                    new = dataclasses.replace(new, next=leads_to if leads_to != below else form.BELOW)
                paths.append(dataclasses.replace(path, then=new.id))
            else:
                paths.append(dataclasses.replace(path, then=leads_to))
        rows[index] = dataclasses.replace(rows[index], paths=paths)
        self._set_nodes([*rows[: index + 1], new, *rows[index + 1 :]])

    @rx.event
    @signed_in
    def remove_step(self, index: int):
        if len(self.nodes) > 1:
            self._set_nodes(journey_layout.removed(self.nodes, index))
            self.preview_step = self._first_email() if self.preview_step == str(index) else self.preview_step

    @rx.event
    @signed_in
    def move_step(self, index: int, offset: int):
        """One place up or down within its run (a path's column, or the journey itself), ways kept."""
        if 0 <= index < len(self.nodes) and (rows := journey_layout.moved(self.nodes, index, offset)) is not None:
            self._set_nodes(rows)

    @rx.event
    @signed_in
    def set_step(self, index: int, field: str, value: str):
        """A node's own field (subject, duration, event, a way out's target…)."""
        if field == "kind" or field not in NodeRow.__dataclass_fields__ or field in ("where", "paths", "blocks"):
            return
        rows = list(self.nodes)
        if field == "mode":
            rows[index] = form.with_mode(rows[index], value)
            self._set_nodes(rows)
            self._follow_edit()
            return
        change: dict[str, Any] = {field: form.BELOW if value == "_below" else value}
        rows[index] = dataclasses.replace(rows[index], **change)
        self._set_nodes(rows)
        self._follow_edit()

    def _edit_blocks(self, index: int, change: Callable[[list[BlockRow]], list[BlockRow]]) -> None:
        rows = list(self.nodes)
        rows[index] = dataclasses.replace(rows[index], blocks=change(list(rows[index].blocks)))
        self._set_nodes(rows)
        self._follow_edit()

    @rx.event
    @signed_in
    def add_block(self, index: int):
        """A block of the kind chosen beside "Add block", at the end of the email."""
        kind = self.nodes[index].adding
        if kind in form.BLOCK_FIELDS:
            self._edit_blocks(index, lambda blocks: [*blocks, form.new_block(kind)])

    def _edit_at(self, index: int, at: str, change: Callable[[list[BlockRow], int], list[BlockRow]]) -> None:
        self._edit_blocks(index, lambda blocks: form.edit_blocks(blocks, at, change))

    @rx.event
    @signed_in
    def remove_block(self, index: int, at: str):
        """The block at `at` ("2", or "2.columns.0.1" inside a two-column block) taken out."""
        self._edit_at(index, at, lambda held, k: held[:k] + held[k + 1 :])

    @rx.event
    @signed_in
    def move_block(self, index: int, at: str, offset: int):
        def move(held: list[BlockRow], k: int) -> list[BlockRow]:
            if 0 <= k + offset < len(held):
                held[k], held[k + offset] = held[k + offset], held[k]
            return held

        self._edit_at(index, at, move)

    @rx.event
    @signed_in
    def add_column_block(self, index: int, block: int, column: int, kind: str):
        """A block of `kind` at the end of one column of a two-column block (no columns inside columns)."""
        if kind in form.COLUMN_KINDS:
            at = f"{block}.columns.{column}.{len(self._column(index, block, column))}"
            self._edit_at(index, at, lambda held, k: [*held, form.new_block(kind)])

    def _column(self, index: int, block: int, column: int) -> list[BlockRow]:
        found = form.block_at(list(self.nodes[index].blocks), str(block)) if 0 <= index < len(self.nodes) else None
        return found.columns[column] if found and 0 <= column < len(found.columns) else []

    @rx.event
    @signed_in
    def set_block(self, index: int, at: str, field: str, value: str):
        if field not in ("kind", "kept", "columns") and field in BlockRow.__dataclass_fields__:
            self._set_block_field(index, at, field, value)

    def _set_block_field(self, index: int, at: str, field: str, value: str) -> None:
        changes: dict[str, Any] = {field: value}
        self._edit_at(index, at, lambda held, k: [*held[:k], dataclasses.replace(held[k], **changes), *held[k + 1 :]])

    @rx.event
    @signed_in
    def insert_variable(self, index: int, at: str, field: str, name: str):
        """`{{ name | default('there') }}` added to the end of a text: the step's subject (`at` empty) or a
        block's field. Only the variables the picker lists (the previewed event's) are inserted."""
        if name not in {v.name for v in self.variable_choices} or not 0 <= index < len(self.nodes):
            return
        if not at and field == "subject":
            rows = list(self.nodes)
            rows[index] = dataclasses.replace(rows[index], subject=_joined(rows[index].subject, name))
            self._set_nodes(rows)
            self._follow_edit()
            return
        block = form.block_at(list(self.nodes[index].blocks), at) if at else None
        if block is not None and field in _TEXT_FIELDS.get(block.kind, ()):
            self._set_block_field(index, at, field, _joined(getattr(block, field), name))

    @rx.event
    @signed_in
    def set_path(self, index: int, path: int, field: str, value: str):
        if field not in ("then", "name"):
            return
        rows = list(self.nodes)
        paths = list(rows[index].paths)
        change: dict[str, Any] = {field: form.BELOW if value == "_below" else value}
        paths[path] = dataclasses.replace(paths[path], **change)
        rows[index] = dataclasses.replace(rows[index], paths=paths)
        self._set_nodes(rows)

    @rx.event
    @signed_in
    def add_path(self, index: int):
        """A branch path more, just before "Everyone else"."""
        rows = list(self.nodes)
        paths = list(rows[index].paths)
        n = len(paths)
        paths.insert(n - 1, form.PathRow(str(n - 1), f"Path {n}", conditions=[PathCondition()]))
        rows[index] = dataclasses.replace(rows[index], paths=paths)
        self._set_nodes(rows)

    @rx.event
    @signed_in
    def remove_path(self, index: int, path: int):
        rows = list(self.nodes)
        paths = [p for i, p in enumerate(rows[index].paths) if i != path]
        paths = [dataclasses.replace(p, key=str(i)) if p.key != "else" else p for i, p in enumerate(paths)]
        rows[index] = dataclasses.replace(rows[index], paths=paths)
        self._set_nodes(rows)

    @rx.event
    @signed_in
    def add_path_condition(self, index: int, path: int):
        self._edit_path_conditions(index, path, lambda conds: [*conds, PathCondition()])

    @rx.event
    @signed_in
    def remove_path_condition(self, index: int, path: int, condition: int):
        self._edit_path_conditions(index, path, lambda conds: [c for i, c in enumerate(conds) if i != condition])

    @rx.event
    @signed_in
    def set_path_condition(self, index: int, path: int, condition: int, field: str, value: str):
        if field not in PathCondition.__dataclass_fields__:
            return

        def change(conds: list[PathCondition]) -> list[PathCondition]:
            conds = list(conds)
            conds[condition] = dataclasses.replace(conds[condition], **{field: value})
            return conds

        self._edit_path_conditions(index, path, change)

    def _edit_path_conditions(self, index: int, path: int, change: Callable[[list[PathCondition]], list]) -> None:
        rows = list(self.nodes)
        paths = list(rows[index].paths)
        paths[path] = dataclasses.replace(paths[path], conditions=change(list(paths[path].conditions)))
        rows[index] = dataclasses.replace(rows[index], paths=paths)
        self._set_nodes(rows)

    @rx.event
    @signed_in
    def add_filter(self, index: int):
        rows = list(self.nodes)
        rows[index] = dataclasses.replace(rows[index], where=[*rows[index].where, ConditionRow()])
        self._set_nodes(rows)

    @rx.event
    @signed_in
    def remove_filter(self, index: int, condition: int):
        rows = list(self.nodes)
        rows[index] = dataclasses.replace(
            rows[index], where=[c for i, c in enumerate(rows[index].where) if i != condition]
        )
        self._set_nodes(rows)

    @rx.event
    @signed_in
    def set_filter(self, index: int, condition: int, field: str, value: str):
        if field not in ConditionRow.__dataclass_fields__:
            return
        rows = list(self.nodes)
        where = list(rows[index].where)
        where[condition] = dataclasses.replace(where[condition], **{field: value})
        rows[index] = dataclasses.replace(rows[index], where=where)
        self._set_nodes(rows)

    @rx.event
    @signed_in
    def save(self):
        """Saves; an edit of an active journey with contacts in it first shows what happens to them
        (`store.edit_effects`), and "Save anyway" (`confirm_save`) saves it."""
        self.message = ""
        if self.editing_id and self.editing_status == "active" and not self.edit_effects_summary:
            with self._builder_call() as session:
                effects = store.edit_effects(session=session, campaign_id=self.editing_id, document=self._document())
            if self.builder_errors:
                self._edited()
                return
            if effects["in_progress"]:
                self._show_effects(effects)
                return
        self._save()
        return ActivationState.check(str(self.editing_id))

    @rx.event
    @signed_in
    def confirm_save(self):
        self._save()
        return ActivationState.check(str(self.editing_id))

    @rx.event
    @signed_in
    def cancel_save(self):
        self.edit_effects, self.edit_effects_summary = [], ""

    def _show_effects(self, effects: dict[str, Any]) -> None:
        self.edit_effects_summary = (
            f"{wording.plural(effects['in_progress'], 'contact')} are in this journey now. {effects['rule']}"
        )
        self.edit_effects = [
            EffectRow(label=n["label"], waiting=str(n["waiting"]), change=n["change"], what_happens=n["what_happens"])
            for n in effects["nodes"]
        ]

    def _save(self) -> None:
        self.message = ""
        self.edit_effects, self.edit_effects_summary = [], ""
        with self._builder_call(then=self._refresh_list) as session:
            if self.editing_id:
                campaign = store.update_campaign(
                    session=session, campaign_id=self.editing_id, document=self._document()
                )
            else:
                campaign = store.create_campaign(session=session, document=self._document())
            self.editing_id, self.editing_status = id_of(campaign), campaign.status.value
            self.yaml_text = library.dump(campaign.definition)
            self._load_nodes(campaign.definition, store.node_counts(session=session, campaign_id=id_of(campaign)))
            self.message = "Saved." + (
                " Changes apply to contacts who enrol from now on; those already in the "
                "journey finish the version they started with."
                if self.editing_status == "active"
                else ""
            )
        if not self.builder_errors:
            self._show_preview()  # the saved campaign, as it will be sent: the preview never goes blank on Save

    @rx.event
    @signed_in
    def refresh_counts(self):
        """The live counts per node again (contacts move on while the builder is open)."""
        if self.editing_id:
            with self._read_call() as session:
                self._show_counts(store.node_counts(session=session, campaign_id=self.editing_id))

    @rx.event
    @signed_in
    def poll_counts(self, _tick: str = ""):
        """Every few seconds while an active journey is open: a contact arriving shows without Refresh."""
        if self.editing_id and self.editing_status == "active":
            with self._read_call() as session:  # per tick per open tab: a snapshot read, never a write turn
                self._show_counts(store.node_counts(session=session, campaign_id=self.editing_id))

    def _show_counts(self, counts: dict[str, dict[str, Any]]) -> None:
        rows = [
            dataclasses.replace(
                row,
                waiting=str(counts[key]["waiting"]) if key in counts else row.waiting,
                passed=str(counts[key]["passed"]) if key in counts else row.passed,
                paths=[dataclasses.replace(p, took=_took(counts.get(key, {}), p)) for p in row.paths],
            )
            for i, row in enumerate(self.nodes)
            for key in [row.id or f"step-{i + 1}"]
        ]
        if rows != self.nodes:  # unchanged counts send nothing (a field being typed in is left alone)
            self.nodes = rows
        now = clock.now().timestamp()  # wall time: a tab's state may be handled by another worker process next
        summary, self._counts_heard = journey_counts.announce(
            self._counts_heard,
            journey_counts.tally(counts),
            journey_counts.short_labels(self.nodes),
            quiet_for=now - self._counts_said_at,
        )
        if summary:
            self.counts_summary, self._counts_said_at = summary, now
            self.counts_announcements += 1

    @rx.event
    @signed_in
    def import_yaml(self):
        try:
            self._load_document(library.load_text(self.yaml_text) or {})
        except Exception as exc:  # YAML errors are shown, not raised
            self.builder_errors = {"yaml": _yaml_problem(exc)}
            return
        self.message = "Loaded into the builder; review and Save."
        self._show_preview()

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        """A dropped or chosen YAML/JSON campaign file goes into the builder (saving stays explicit)."""
        if self._principal() is None:
            return rx.redirect(routes.SIGN_IN)
        for upload in files[:1]:
            text = (await upload.read()).decode("utf-8", "replace")
            try:
                document = library.load_text(text)
                if not isinstance(document, dict):
                    raise ValueError("the file holds no campaign object (export one campaign with --id)")
            except Exception as exc:  # a bad file is reported, not raised
                self.builder_errors = {"yaml": f"{upload.name or 'The file'}: {_yaml_problem(exc)}"}
                return None
            self._load_document(document)
            self.editing_id, self.editing_status, self.builder_open = 0, "", True
            self.message = f"Loaded {upload.name or 'the file'} into the builder; review and Save."
            self._load_preview_events()
            self._show_preview()
        return None

    @rx.event
    @signed_in
    def download_yaml(self):
        return rx.download(
            data=library.dump(self._document()),
            filename=(self.name.strip().lower().replace(" ", "-") or "campaign") + ".yaml",
        )

    @rx.event
    @signed_in
    def change_status(self, campaign_id: str, status: str):
        self.message, self.status_fix = "", ""
        with self._service_call("status_error", words=_status_refusal, catch=ValidationFailed) as session:
            campaign = store.set_status(session=session, campaign_id=int(campaign_id), status=CampaignStatus(status))
            overlaps = store.overlapping_triggers(session=session, campaign=campaign)
            self.message = f"{campaign.name} is now {campaign.status.value}."
            if overlaps and status == "active":
                self.message += f" Warning: {', '.join(overlaps)} also fire on {campaign.trigger_event}."
            if int(campaign_id) == self.editing_id:
                self.editing_status = campaign.status.value
        with self._service_call() as session:  # the findings and banners follow the new status at once
            self._refresh_findings(session)
        if self.status_error and status == "active":
            with self._service_call() as session:
                campaign = store.get_campaign(session=session, campaign_id=int(campaign_id))
                found = guardrails.blockers(session=session, campaign=campaign)
                self.status_fix = next((b.href for b in found if b.href != routes.CAMPAIGNS), "")
        self._refresh_list()  # refused or not: the list shows each campaign's status as stored
        if int(campaign_id) == self.editing_id:  # the activation area follows the new status and settings
            return ActivationState.check(campaign_id)

    def _load_preview_events(self) -> None:
        with self._service_call() as session:
            events = (
                event_log.recent_events_named(session=session, name=self.trigger_event.strip())
                if self.trigger_event.strip()
                else []
            )
            self.preview_events = [PreviewEventRow(id=str(e.id), label=_event_label(e)) for e in events]
            self.preview_event_id = self.preview_events[0].id if self.preview_events else "sample"
            self._load_variables(session)

    def _previewed_event(self, session: Session) -> Event | None:
        """The event the preview, the variables picker and a test send use: the one chosen (the latest
        matching one when the builder opens), or None for the sample."""
        if self.preview_event_id == "sample":
            return None
        return event_log.get_event(session=session, event_id=int(self.preview_event_id))

    def _load_variables(self, session: Session) -> None:
        examples = preview.variable_examples(session=session, event=self._previewed_event(session))
        self.variable_choices = [VariableRow(name=name, example=example) for name, example in examples]

    @rx.event
    @signed_in
    def set_preview(self, field: str, value: str):
        if field == "event":
            self.preview_event_id = value
            with self._service_call() as session:
                self._load_variables(session)
        else:
            self.preview_step = value
        return CampaignsState.render_preview

    @rx.event
    @signed_in
    def set_preview_view(self, field: str, value: str):
        """The preview frame's width (desktop, phone) or colour scheme (light, dark)."""
        if field == "width" and value in ("desktop", "phone"):
            self.preview_width = value
        elif field == "scheme" and value in ("light", "dark"):
            self.preview_scheme = value
            self.preview_html = render.in_scheme(self._preview_as_sent, dark=value == "dark")

    def _render_preview(self, session) -> None:
        result = preview.preview_step(
            session=session,
            document=self._document(),
            step_index=int(self.preview_step or 0),
            event=self._previewed_event(session),
        )
        self.builder_errors = {}
        self.preview_subject, self._preview_as_sent, self.preview_missing, self.preview_error = (
            result["subject"],
            result["html"],
            result["missing"],
            result["error"],
        )
        self.preview_html = render.in_scheme(result["html"], dark=self.preview_scheme == "dark")
        self.preview_from, self.preview_sends = result["from_address"], result["sends"]
        self.preview_checks = [CheckRow(check=c["check"], ok=c["ok"], message=c["message"]) for c in result["checks"]]

    def _show_preview(self) -> None:
        """The first step rendered as soon as a campaign opens, so the preview is never an empty box; a
        document not valid yet leaves it empty (Render preview names what is missing)."""
        with contextlib.suppress(ValidationFailed), self._service_call() as session:
            self._render_preview(session)

    def _follow_edit(self) -> None:
        """Re-renders a shown preview as the builder is edited. A document mid-edit is often invalid: then the
        last good preview and the errors already listed stay (the Render preview button reports them)."""
        if self.preview_subject or self.preview_error:
            with contextlib.suppress(ValidationFailed), self._service_call() as session:
                self._render_preview(session)

    @rx.event
    @signed_in
    def render_preview(self):
        with self._builder_call() as session:
            self._render_preview(session)
        if self.builder_errors:
            self._edited()

    @rx.event
    @signed_in
    def set_dry_run_days(self, value: str):
        self.dry_run_days = value

    @rx.event
    @signed_in
    def run_dry_run(self):
        from humanic_app.services.campaigns.dry_run import dry_run

        days = int(self.dry_run_days) if self.dry_run_days.strip().isdigit() else 30
        with self._builder_call() as session:
            result = dry_run(session=session, document=self._document(), days=days)
            self._show_dry_run(result, days)
        if self.builder_errors:
            self._edited()
            self.dry_run_summary, self.dry_run_rows, self.dry_run_paths = "", [], []

    def _show_dry_run(self, result: dict[str, Any], days: int) -> None:
        self.dry_run_summary = dry_run_sentence(result, days)
        self.dry_run_paths = dry_run_path_lines(result)
        self.dry_run_rows = [
            DryRunRow(recipient=e["to"], step=str(e["step"] + 1), due=e["sends_at"][:16].replace("T", " "))
            for e in result["sample"][:20]
        ]

    test_to: str = ""
    test_send_result: str = ""  # shown beside the Send test field, like its refusal
    test_send_error: str = ""

    @rx.event
    @signed_in
    def set_test_to(self, value: str):
        self.test_to = value

    @rx.event
    @signed_in
    def send_test(self):
        from humanic_app.background import wake_dispatcher

        self.test_send_result = ""
        with self._service_call("test_send_error", then=wake_dispatcher, words=_test_send_problem) as session:
            event = self._previewed_event(session)
            preview.queue_test_send(
                session=session,
                document=self._document(),
                step_index=int(self.preview_step or 0),
                to=self.test_to,
                variables=preview.variables_for_event(session=session, event=event),
                campaign_id=self.editing_id or None,
            )
            self.test_send_result = f"Test email queued to {self.test_to.strip().lower()}: see Messages."


def _event_label(e: Event) -> str:
    return f"#{e.id} {e.event_name} · {e.distinct_id or ''} · {e.received_at.strftime('%Y-%m-%d %H:%M')}"


_TEXT_FIELDS = {"heading": ("text",), "paragraph": ("markdown",), "button": ("label",)}  # where a variable goes


def _joined(text: str, name: str) -> str:
    """The text with a reference to the variable at its end, a space apart."""
    return text + (" " if text and not text[-1].isspace() else "") + templates.reference(name)


def dry_run_sentence(result: dict[str, Any], days: int) -> str:
    """What the dry run found, in one sentence: emails per email step by its label (a wait or a branch
    sends none, so it is not listed; how many took each path is said apart, in `dry_run_paths`)."""
    not_sent = "; ".join(f"{reason}: {n}" for reason, n in result["not_sent"].items()) or "none"
    per_email = "; ".join(f"{label}: {n}" for label, n in result["emails_per_email"].items())
    return (
        f"Over the last {wording.plural(days, 'day')} this campaign would have enrolled "
        f"{wording.plural(result['contacts'], 'contact')} and sent "
        f"{wording.plural(result['emails'], 'email')} ({per_email}). Not sent: {not_sent}. "
        + (
            f"Quiet hours moved {wording.plural(result['held_by_quiet_hours'], 'email')} to their window's opening. "
            if result.get("held_by_quiet_hours")
            else ""
        )
        + "Nothing was sent."
    )


def dry_run_path_lines(result: dict[str, Any]) -> list[str]:
    """The dry run's lines under its sentence: how many took each way out of each wait_for and branch, how
    many still wait where, and — when a branch asks about engagement — that a dry run cannot know it."""
    lines = [
        f"{label}: " + " · ".join(f"{took} {n}" for took, n in ways.items()) for label, ways in result["paths"].items()
    ] + [f"Still waiting at {label}: {n}" for label, n in result["waiting"].items()]
    if result["engagement"]:
        lines.append(result["engagement"].capitalize() + ".")
    return lines


def _took(counts: dict[str, Any], path: form.PathRow) -> str:
    """How many contacts took a way out, by the name the trace gives it."""
    name = {"on_event": "happened", "on_timeout": "timed out", "else": "else"}.get(path.key) or (
        path.name or f"path {int(path.key) + 1}"
    )
    return str(counts.get("took", {}).get(name, 0)) if counts else path.took
