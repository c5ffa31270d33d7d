"""The campaign rules, in one place: an event's properties, occurrence counting, re-entry, `unless`, exit
goals, what stops a trigger from enrolling, when each step falls due, and which definition a pending email
renders from.

Pure: no database and no clock, only arguments. The live engine (one processing batch at a time) and the
dry run (a replay of stored events) both decide through these functions, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from humanic_app.models import EnrolmentStatus
from humanic_app.services import mapping
from humanic_app.services.campaigns.conditions import failing_condition
from humanic_app.services.campaigns.schema import CampaignDocument, Unless, parse_duration


class Past(NamedTuple):
    """One of a contact's stored events, as occurrence counting and `unless` see it."""

    time: datetime
    event_id: int
    properties: dict[str, Any]


class Refusal(NamedTuple):
    """Why a trigger event does not enrol: `kind` groups it (where, occurrence, past_occurrence, no_email,
    reentry, unless), `reason` is the Event Log's sentence."""

    kind: str
    reason: str


def event_properties(payload: dict[str, Any] | None, source_mapping: dict[str, Any] | None) -> dict[str, Any]:
    """A stored event's properties, found where its source's field mapping says they live."""
    return mapping.read_event_properties(payload or {}, source_mapping)


def same_values(keys: Sequence[str], a: dict[str, Any], b: dict[str, Any]) -> bool:
    """`unless … match`: each listed property is set on both events and equal. A property missing (or
    null) on either side never matches: two events without a cart_id are not about the same cart."""
    for key in keys:
        left, right = a.get(key), b.get(key)
        if left is None or right is None or left != right:
            return False
    return True


def occurrence(history: Sequence[Past], *, time: datetime, event_id: int, within: str | int | None) -> int:
    """How many of the trigger events in `history` (this one included) happened up to this one — ties in
    time go by event id — and inside `within` before it."""
    since = time - parse_duration(within) if within else None
    return sum(
        1
        for past in history
        if (past.time < time or (past.time == time and past.event_id <= event_id))
        and (since is None or past.time >= since)
    )


def reentry_blocked(rule: str, statuses: Sequence[EnrolmentStatus]) -> str | None:
    """`statuses`: the contact's enrolments in this campaign so far."""
    if rule == "once" and statuses:
        return "re-entry blocked: already enrolled once (reentry: once)"
    if rule == "after_exit" and EnrolmentStatus.active in statuses:
        return "re-entry blocked: still in the sequence (reentry: after_exit)"
    return None


def unless_catches(
    unless: Unless | None,
    *,
    enrolled_at: datetime,
    trigger_properties: dict[str, Any],
    name: str | None,
    time: datetime,
    properties: dict[str, Any],
) -> bool:
    """Whether this event cancels an enrolment that started at `enrolled_at`."""
    if unless is None or name != unless.event:
        return False
    if not enrolled_at <= time <= enrolled_at + parse_duration(unless.within):
        return False
    return same_values(unless.match, trigger_properties, properties)


def unless_already_happened(
    unless: Unless, *, time: datetime, properties: dict[str, Any], history: Sequence[Past]
) -> bool:
    """A trigger whose cancelling event is already stored (delivered before it) never enrols. The same
    window and match as `unless_catches`, with the window worked out once: `history` can be long."""
    window_end = time + parse_duration(unless.within)
    return any(
        time <= past.time <= window_end and same_values(unless.match, properties, past.properties) for past in history
    )


def ending(
    document: CampaignDocument,
    *,
    enrolled_at: datetime,
    trigger_properties: dict[str, Any],
    name: str | None,
    time: datetime,
    properties: dict[str, Any],
) -> tuple[EnrolmentStatus, str] | None:
    """What this event does to an active enrolment under `document`: reach an exit goal, cancel it by
    `unless`, or nothing (None)."""
    if name in document.exit_on and time >= enrolled_at:
        return EnrolmentStatus.exited, f"reached goal {name}"
    if unless_catches(
        document.unless,
        enrolled_at=enrolled_at,
        trigger_properties=trigger_properties,
        name=name,
        time=time,
        properties=properties,
    ):
        assert document.unless is not None  # unless_catches is true only for a campaign with `unless`
        return EnrolmentStatus.cancelled, f"cancelled by unless: {name} happened within {document.unless.within}"
    return None


def refusal(
    document: CampaignDocument,
    *,
    properties: dict[str, Any],
    person_properties: dict[str, Any],
    has_email: bool,
    count: Callable[[], int],
    statuses: Callable[[], Sequence[EnrolmentStatus]],
    unless_history: Callable[[], Sequence[Past]],
    time: datetime,
) -> Refusal | None:
    """Why the contact's trigger event does not enrol, checked in the Event Log's order, or None when
    it enrols. The callables are asked only when their check is reached."""
    trigger = document.trigger
    if failing := failing_condition(trigger.where, properties, person_properties):
        return Refusal("where", f"where clause failed: {failing}")
    if trigger.occurrence > 1 or trigger.within:
        seen = count()
        if seen != trigger.occurrence:
            kind = "occurrence" if seen < trigger.occurrence else "past_occurrence"
            return Refusal(kind, f"occurrence {seen} of {trigger.occurrence}")
    if not has_email:
        return Refusal("no_email", "contact has no email")
    if document.reentry != "every_time" and (blocked := reentry_blocked(document.reentry, statuses())):
        return Refusal("reentry", blocked)
    if document.unless and unless_already_happened(
        document.unless, time=time, properties=properties, history=unless_history()
    ):
        return Refusal("unless", f"cancelled by unless: {document.unless.event} already happened")
    return None


def schedule(document: CampaignDocument, *, time: datetime) -> list[tuple[int, datetime]]:
    """Each step's index and due time, counted from the trigger event's own timestamp."""
    return [(index, time + parse_duration(step.delay)) for index, step in enumerate(document.steps)]


def step_to_render(
    *,
    step_index: int,
    test_step: dict[str, Any] | None,
    snapshot: dict[str, Any] | None,
    current: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """The step a pending email renders: a test send's own content, else the step of the definition its
    enrolment was scheduled under (`snapshot`), else — for an email without an enrolment — the campaign's
    `current` definition. None when that definition has no such step."""
    if test_step is not None:
        return test_step
    definition = snapshot or current or {}
    steps = definition.get("steps") or []
    return steps[step_index] if 0 <= step_index < len(steps) else None
