"""Render a campaign step on a real stored event (or a sample) exactly as the dispatcher would send it
(footer and unsubscribe link included), listing missing variables."""

from __future__ import annotations

import keyword
import re
from typing import Any

from sqlmodel import Session

from humanic_app import clock
from humanic_app.models import Contact, Event, Message, Source
from humanic_app.models.rows import id_of
from humanic_app.models.workspace import Workspace
from humanic_app.services import composing, mapping, outbox, templates, topics, workspace
from humanic_app.services.campaigns import rules
from humanic_app.services.campaigns.schema import (
    CampaignDocument,
    Step,
    node_label,
    parse_duration,
    validate_document,
)
from humanic_app.services.design import brand as brands, checks
from humanic_app.services.design.brand import Brand
from humanic_app.services.errors import ValidationFailed
from humanic_app.services.samples import posthog_event

_TEMPLATE_FIELD = re.compile(r"^steps\.\d+\.(subject|html|text|blocks\.[\w.]+)$")
# Each sent email gets its own signed link (services/unsubscribe.py); a preview has no message to sign for.
PREVIEW_UNSUBSCRIBE_URL = "https://example.invalid/unsubscribe/preview"


def variables_for_event(*, session: Session, event: Event | None) -> dict[str, Any]:
    """What a template sees for this event: contact properties, then event and person properties, then
    the standard names (email, name, distinct_id, event)."""
    return _variables(*_read_event(session, event))


def variable_examples(*, session: Session, event: Event | None) -> list[tuple[str, str]]:
    """The variables a template can name as they are (`{{ plan }}`: identifiers, not `$lib`) that this event
    and its contact have, sorted, each with its value here as an example."""
    variables = variables_for_event(session=session, event=event)
    return [
        (name, _example(variables[name]))
        for name in sorted(variables)
        if name.isidentifier() and not keyword.iskeyword(name)
    ]


def _example(value: Any) -> str:
    shown = "" if value is None else str(value)
    return shown if len(shown) <= 40 else shown[:39] + "…"


def _read_event(session: Session, event: Event | None) -> tuple[Contact | None, mapping.MappedEvent | None]:
    """The event's contact, and its payload as its source's mapping reads it (None without an event or
    once retention pruned the payload)."""
    if event is None:
        return None, None
    source = session.get(Source, event.source_id) if event.source_id else None
    mapped = mapping.apply_mapping(event.payload, source.mapping if source else None) if event.payload else None
    contact = session.get(Contact, event.contact_id) if event.contact_id else None
    return contact, mapped


def _variables(contact: Contact | None, mapped: mapping.MappedEvent | None) -> dict[str, Any]:
    if mapped is None:  # no event's payload to show: a sample signup's
        sample = posthog_event(
            event="user_signed_up",
            distinct_id="sample_user_1",
            email="ada@example.com",
            name="Ada Lovelace",
            properties={"plan": "free", "cart_value": 129.5, "currency": "EUR", "feature_name": "Dashboards"},
        )
        return mapping.apply_mapping(sample, None).variables
    variables = dict(contact.properties) if contact else {}
    variables.update(mapped.variables)
    if contact and contact.email:
        variables["email"] = contact.email
    return variables


def preview_step(*, session: Session, document: dict[str, Any], step_index: int, event: Event | None) -> dict[str, Any]:
    """The rendered step, or — when this step's template cannot render — `error` saying why, in place of
    the preview (subject and HTML empty). Other problems with the document still raise."""
    try:
        doc = validate_document(document)
    except ValidationFailed as exc:
        if not all(_TEMPLATE_FIELD.match(field) for field in exc.field_errors):
            raise
        try:
            doc = CampaignDocument.model_validate(document)  # only templates are wrong: this step may be fine
        except ValueError:
            raise exc from None  # an empty template is the schema's to report
        index = min(step_index, len(doc.steps) - 1)
        if mine := [message for field, message in exc.field_errors.items() if field.startswith(f"steps.{index}.")]:
            return _failed(" ".join(mine), event)
    index = min(step_index, len(doc.steps) - 1)
    step = doc.steps[index]
    if not isinstance(step, Step):
        return _failed(f"{node_label(doc, index)} is not an email: only email steps have a preview.", event)
    contact, mapped = _read_event(session, event)
    ws = workspace.read_workspace(session=session)
    rendered = render_preview(ws=ws, document=doc, step=index, variables=_variables(contact, mapped))
    if rendered["error"]:
        return _failed(rendered["error"], event)
    return rendered | {
        "sends": when_it_sends(session=session, document=doc, step=step, contact=contact, mapped=mapped, ws=ws),
        "event_id": event.id if event else None,
    }


def render_preview(
    *,
    ws: Workspace,
    document: CampaignDocument | dict[str, Any],
    step: int,
    variables: dict[str, Any],
    brand: Brand | None = None,
) -> dict[str, Any]:
    """One email step as the dispatcher would send it (layout, footer and unsubscribe link included), with
    the design checks, for any document, variables and brand (saved or being edited): what an editor shows
    as the marketer types. A step that cannot render answers `error` in place of the email."""
    doc = document if isinstance(document, CampaignDocument) else validate_document(document)
    if not 0 <= step < len(doc.steps) or not isinstance(doc.steps[step], Step):
        return _failed(f"Step {step + 1} is not an email: only email steps have a preview.", None)
    node = doc.steps[step]
    assert isinstance(node, Step)
    try:
        rendered = composing.compose(
            subject=node.subject,
            html=node.html,
            blocks=node.block_data(),
            text=node.text,
            variables=variables,
            ws=ws,
            unsubscribe_url=PREVIEW_UNSUBSCRIBE_URL,  # as the dispatcher does: never the event's own
            brand=brand,
        )
    except Exception as exc:  # whatever the template raises is what sending would hit: show it
        return _failed(f"Step {step + 1} cannot be rendered: {templates.describe_error(exc)}.", None)
    return {
        "subject": rendered.subject,
        "html": rendered.html,
        "text": rendered.text,
        "missing": rendered.missing,
        "from_address": rendered.from_address,
        "checks": checks.run(rendered.html) + _brand_checks(ws, node, brand),
        "sends": "",
        "event_id": None,
        "error": "",
    }


def _brand_checks(ws: Workspace, step: Step, brand: Brand | None) -> list[dict[str, Any]]:
    """A block email's colours are the brand's: their contrast is checked with it."""
    if step.blocks is None:
        return []
    shown = brand or brands.of(ws)
    return [checks.contrast(text=shown.text_colour, links=shown.primary_colour, background=shown.content_colour)]


def when_it_sends(
    *,
    session: Session,
    document: CampaignDocument,
    step: Step,
    contact: Contact | None,
    mapped: mapping.MappedEvent | None,
    ws: Workspace,
) -> str:
    """When this email would go for the event's contact (a sample's: the workspace's timezone) if the
    event happened now: its delay, then quiet hours in the contact's timezone, by the dispatcher's rule; or
    that it would not go to them at all (unsubscribed, suppressed, opted out of the campaign's topic)."""
    if contact is not None and (
        refused := topics.refusals(session=session, topic=document.topic, contacts={id_of(contact): contact})
    ):
        return f"This contact would not get it: {refused[id_of(contact)]}."
    window = rules.quiet_window(own=document.quiet_hours, workspace_default=ws.quiet_hours)
    tz = rules.contact_zone(
        variables=mapped.variables if mapped else {},
        person_properties=contact.properties if contact else {},
        trigger_properties=mapped.event_properties if mapped else {},
        workspace_timezone=ws.timezone,
    )
    due = clock.now() + parse_duration(step.delay)
    sends = rules.quiet_send_at(window, due=due, tz=tz)
    when = f"{sends.astimezone(tz):%a %d %b %H:%M} {tz.key}"
    if window is None:
        return f"No quiet hours: if the event happened now, it would go {when} (after its delay)."
    if sends == due:
        return f"Inside quiet hours' window: if the event happened now, it would go {when} (after its delay)."
    return f"If the event happened now, it would be due during quiet hours and {rules.quiet_note(sends, tz)}."


def _failed(error: str, event: Event | None) -> dict[str, Any]:
    return {
        "subject": "",
        "html": "",
        "text": "",
        "missing": [],
        "sends": "",
        "from_address": "",
        "event_id": event.id if event else None,
        "checks": [],
        "error": error,
    }


def queue_test_send(
    *,
    session: Session,
    document: dict[str, Any],
    step_index: int,
    to: str,
    variables: dict[str, Any],
    campaign_id: int | None = None,
) -> Message:
    """Send one step of a campaign (saved or not) to any address, through the outbox like every email."""
    doc = validate_document(document)
    if not 0 <= step_index < len(doc.steps):
        raise ValidationFailed({"step": f"This campaign has {len(doc.steps)} steps."})
    step = doc.steps[step_index]
    if not isinstance(step, Step):
        raise ValidationFailed(
            {"step": f"{node_label(doc, step_index)} is not an email: only email steps can be sent."}
        )
    if error := render_preview(
        ws=workspace.read_workspace(session=session), document=doc, step=step_index, variables=variables
    )["error"]:
        raise ValidationFailed({"step": f"{error.removesuffix('.')}. Nothing was sent."})
    return outbox.create_test_send(
        session=session,
        step=step.model_dump(),
        step_index=step_index,
        to=to,
        variables=variables,
        campaign_id=campaign_id,
    )
