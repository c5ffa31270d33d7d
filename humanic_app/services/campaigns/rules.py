"""The campaign rules, in one place: an event's properties, occurrence counting, re-entry, `unless`, exit
goals, what stops a trigger from enrolling, when each step falls due, which definition a pending email
renders from — and the journey rules: walking the nodes, when an email falls due on a path, which events a
`wait_for` takes and how it is correlated, timeouts, branch conditions (engagement, events since enrolling,
properties) and the timezone of time windows.

Pure: no database and no clock, only arguments. The live engine (one processing batch at a time) and the
dry run (a replay of stored events) both decide through these functions, so they cannot disagree.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from humanic_app.models import EnrolmentStatus
from humanic_app.services import mapping, timewindow
from humanic_app.services.campaigns.conditions import failing_condition
from humanic_app.services.campaigns.schema import (
    Branch,
    CampaignDocument,
    Condition,
    Did,
    Engagement,
    Exit,
    InCohort,
    Step,
    Unless,
    Wait,
    WaitFor,
    node_id,
    node_index,
    node_label,
    parse_duration,
    path_label,
    target_index,
)


class Past(NamedTuple):
    """One of a contact's stored events, as occurrence counting and `unless` see it."""

    time: datetime
    event_id: int
    properties: dict[str, Any]


class Refusal(NamedTuple):
    """Why a trigger event does not enrol: `kind` groups it (where, cohort, occurrence, past_occurrence,
    no_email, reentry, unless), `reason` is the Event Log's sentence."""

    kind: str
    reason: str


def event_properties(payload: dict[str, Any] | None, source_mapping: dict[str, Any] | None) -> dict[str, Any]:
    """A stored event's properties, found where its source's field mapping says they live."""
    return mapping.read_event_properties(payload or {}, source_mapping)


def event_variables(payload: dict[str, Any] | None, source_mapping: dict[str, Any] | None) -> dict[str, Any]:
    """A stored event's template variables (the mapping's named variables among them, `timezone` for one),
    read exactly as processing reads them for the enrolment it starts."""
    return mapping.apply_mapping(payload or {}, source_mapping).variables


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
    cohorts: Callable[[], Sequence[tuple[int, str]]],
    time: datetime,
) -> Refusal | None:
    """Why the contact's trigger event does not enrol, checked in the Event Log's order, or None when
    it enrols. The callables are asked only when their check is reached; `cohorts` gives the contact's
    imported PostHog cohorts as (PostHog id, name)."""
    trigger = document.trigger
    if failing := failing_condition(trigger.where, properties, person_properties):
        return Refusal("where", f"where clause failed: {failing}")
    if trigger.in_cohort and not cohort_named(trigger.in_cohort, cohorts()):
        return Refusal("cohort", f"not in cohort {trigger.in_cohort}")
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
    """Each email step's index and due time, counted from the trigger event's own timestamp (a linear
    campaign's whole schedule; a journey's is worked out by `walk`)."""
    return [(index, time + parse_duration(step.delay)) for index, step in document.emails()]


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


# --- Journeys ----------------------------------------------------------------------------------------------
#
# A contact walks the nodes from the first, by event time. Emails are written to the outbox as the walk
# passes them; a `wait` is passed at once (its end is known: the emails after it are written with their
# later due times); the walk stops at a `wait_for` (until its event or its timeout) and at a `branch`
# reached ahead of time (its conditions are about what will have happened by then), and ends at an `exit`
# or after the last node. So the outbox holds the emails up to the next wait_for or branch, never those
# of a path not yet chosen.


class Seen(NamedTuple):
    """A stored event a wait_for or a branch's `did` may take: who did it (None: no contact — only a `match`
    wait takes it), when, and its properties."""

    time: datetime
    event_id: int
    contact_id: int | None
    properties: dict[str, Any]


class Engaged(NamedTuple):
    """What is known of one email of an enrolment when a branch asks: `level` is '', delivered, opened or
    clicked; `known` is False when nothing can be known (the local outbox: no provider reports)."""

    known: bool
    level: str
    note: str


ENGAGEMENT_RANK = {"": 0, "sent": 0, "delivered": 1, "opened": 2, "clicked": 3, "bounced": 0, "complained": 0}
UNKNOWN_ENGAGEMENT = (
    "engagement unknown (local outbox: no provider reports opens or clicks): counted as not engaged, so the "
    "contact goes on to the next path"
)


@dataclasses.dataclass(frozen=True)
class Walker:
    """What a walk needs to know about the enrolment, as data and questions. `now`: when the walk runs
    (processing's clock, or the dry run's replay time); `caused_by`: the event that moved the contact (it
    never also resumes the wait it leads to). `did(event, since, until)` gives the contact's stored events
    of that name stamped in that span; `engagement(step_index)` what is known of that email;
    `already(node, reached_at)` the stored events a wait_for just reached may take; `cohorts()` the imported
    PostHog cohorts the contact is in, as (PostHog id, name)."""

    enrolled_at: datetime
    trigger_properties: dict[str, Any]
    person_properties: dict[str, Any]
    tz: ZoneInfo
    now: datetime
    caused_by: int | None
    did: Callable[[str, datetime, datetime], Sequence[Seen]]
    engagement: Callable[[int], Engaged]
    already: Callable[[WaitFor, datetime], Sequence[Seen]]
    cohorts: Callable[[], Sequence[tuple[int, str]]]


@dataclasses.dataclass
class Stop:
    """Where a walk stopped: at a wait_for (waiting for `waiting_for` until `wake_at`, its timeout) or at a
    branch reached ahead of time (`wake_at` = when it is reached)."""

    index: int
    reached_at: datetime
    wake_at: datetime
    waiting_for: str | None = None


@dataclasses.dataclass
class Walk:
    emails: list[tuple[int, datetime]] = dataclasses.field(default_factory=list)  # (step index, due)
    trail: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # {node, label, took, why, at}
    stop: Stop | None = None

    def describe(self, document: CampaignDocument) -> str:
        """The trace's account of a walk: the paths taken and where it waits."""
        parts = [f"{step['label']}: {step['took']} ({step['why']})" for step in self.trail if step["took"] != "waited"]
        if self.stop is not None:
            parts.append(f"waits at {node_label(document, self.stop.index)} until {_hm(self.stop.wake_at)}")
        return "; ".join(parts)


def _hm(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _note(walk: Walk, document: CampaignDocument, index: int, took: str, why: str, at: datetime) -> None:
    walk.trail.append(
        {
            "node": node_id(document, index),
            "label": node_label(document, index),
            "took": took,
            "why": why,
            "at": at.isoformat(),
        }
    )


def contact_zone(
    *,
    variables: dict[str, Any],
    person_properties: dict[str, Any],
    trigger_properties: dict[str, Any],
    workspace_timezone: str,
) -> ZoneInfo:
    """The timezone of a contact's time windows: the source mapping's `timezone` variable, else PostHog's
    `$geoip_time_zone` on the person, else on the trigger event, else the workspace's (UTC when unset).
    An unknown name is passed over."""
    for candidate in (
        variables.get("timezone"),
        person_properties.get("$geoip_time_zone"),
        trigger_properties.get("$geoip_time_zone"),
        workspace_timezone,
    ):
        if (tz := timewindow.zone(candidate)) is not None:
            return tz
    return ZoneInfo("UTC")


def quiet_window(*, own: Any, workspace_default: Any) -> timewindow.Window | None:
    """The window a campaign's emails may go out in, from its document's `quiet_hours` (a window as a dict
    or model, 'off', or 'inherit'/missing) and the workspace's default (a window dict, or None: off)."""
    chosen = workspace_default if own in (None, "inherit") else own
    if not chosen or chosen == "off":
        return None
    if not isinstance(chosen, dict):
        chosen = chosen.model_dump()
    return timewindow.Window.of(between=chosen["between"], days=chosen.get("days") or [])


def quiet_send_at(window: timewindow.Window | None, *, due: datetime, tz: ZoneInfo) -> datetime:
    """When an email due at `due` may go out under quiet hours: `due` itself inside the window (or with
    none), else the window's next opening in the contact's timezone. The dispatcher and the dry run ask here."""
    return due if window is None else timewindow.next_open(window, at=due, tz=tz)


def quiet_hold_note(window: timewindow.Window | None, *, due: datetime, tz: ZoneInfo) -> str:
    """What a row scheduled for `due` says from the start when quiet hours will hold it then ('' when they
    will not). A forecast: the dispatcher applies the campaign's setting as it is when the row falls due."""
    opens = quiet_send_at(window, due=due, tz=tz)
    return quiet_note(opens, tz) if opens > due else ""


def quiet_note(opens: datetime, tz: ZoneInfo) -> str:
    """What a scheduled row says while quiet hours hold it: 'waits for 09:00 Europe/Berlin (quiet hours,
    Mon 30 Mar)'."""
    local = opens.astimezone(tz)
    return f"waits for {local:%H:%M} {tz.key} (quiet hours, {local:%a %d %b})"


def wait_end(node: Wait, *, start: datetime, tz: ZoneInfo) -> datetime:
    """When a wait that starts at `start` ends: after its duration, then once its window is open."""
    end = start + parse_duration(node.duration) if node.duration is not None else start
    if node.until is not None:
        window = timewindow.Window.of(at=node.until.time, between=node.until.between, days=node.until.days)
        end = timewindow.next_open(window, at=end, tz=tz)
    return end


def walk(document: CampaignDocument, *, start: int | None, at: datetime, walker: Walker) -> Walk:
    """From node `start` (None: the journey is over) at event time `at`, as far as the walk can go now."""
    result = Walk()
    clock = due_floor = at  # the wait clock; and the latest email due on the way (a wait starts after it)
    index = start
    for _ in range(len(document.steps) + 1):  # validated journeys have no loops; this bounds a bad one
        if index is None:
            break
        node = document.steps[index]
        if isinstance(node, Step):
            due = max(clock, walker.enrolled_at + parse_duration(node.delay))
            result.emails.append((index, due))
            due_floor = max(due_floor, due)
            index = target_index(document, index, node.next)
            continue
        ready = max(clock, due_floor)
        if isinstance(node, Wait):
            clock = due_floor = wait_end(node, start=ready, tz=walker.tz)
            _note(result, document, index, "waited", f"until {_hm(clock)}", ready)
            index = target_index(document, index, node.next)
        elif isinstance(node, WaitFor):
            deadline = ready + parse_duration(node.timeout)
            if catch := earliest_catch(node, reached_at=ready, candidates=walker.already(node, ready), walker=walker):
                _note(result, document, index, "happened", f"{node.event} #{catch.event_id} already stored", catch.time)
                clock = due_floor = catch.time
                index = target_index(document, index, node.on_event)
                continue
            result.stop = Stop(index, ready, deadline, node.event)
            return result
        elif isinstance(node, Branch):
            if ready > walker.now:
                result.stop = Stop(index, ready, ready)
                return result
            chosen, why = choose_path(document, node, at=ready, walker=walker)
            took = path_label(node, chosen) if chosen is not None else "else"
            _note(result, document, index, took, why, ready)
            clock = ready
            index = target_index(document, index, node.paths[chosen].then if chosen is not None else node.else_)
        else:
            assert isinstance(node, Exit)
            _note(result, document, index, "exit", "the journey ends here", ready)
            break
    return result


def earliest_catch(node: WaitFor, *, reached_at: datetime, candidates: Sequence[Seen], walker: Walker) -> Seen | None:
    """Of stored events, the earliest (by event time, then id) that this wait_for takes."""
    caught = [
        seen
        for seen in candidates
        if seen.event_id != walker.caused_by
        and wait_for_catches(
            node,
            reached_at=reached_at,
            trigger_properties=walker.trigger_properties,
            person_properties=walker.person_properties,
            time=seen.time,
            properties=seen.properties,
        )
    ]
    return min(caught, key=lambda seen: (seen.time, seen.event_id), default=None)


def wait_for_catches(
    node: WaitFor,
    *,
    reached_at: datetime,
    trigger_properties: dict[str, Any],
    person_properties: dict[str, Any],
    time: datetime,
    properties: dict[str, Any],
) -> bool:
    """Whether an event of `node.event` (its name checked by the caller) resumes a contact waiting there since
    `reached_at`: stamped from then up to the timeout, its `where` holding — event properties on the event's,
    person properties on the waiting contact's (whoever sent the event: with `match` it may be someone else,
    or no one) — and with `match` the same values as the enrolling event (missing on either side never
    matches)."""
    if not reached_at <= time <= reached_at + parse_duration(node.timeout):
        return False
    if failing_condition(node.where, properties, person_properties) is not None:
        return False
    return same_values(node.match, trigger_properties, properties)


def waiting_key(node: WaitFor, *, contact_id: int, trigger_properties: dict[str, Any]) -> str:
    """How events find a contact waiting at `node`: by contact, or with `match` by the enrolling event's
    values — then an event of any contact with the same values resumes it."""
    if not node.match:
        return f"c:{contact_id}"
    return "m:" + json.dumps([[key, trigger_properties.get(key)] for key in node.match], sort_keys=True, default=str)


def event_keys(match_lists: Sequence[Sequence[str]], *, contact_id: int | None, properties: dict[str, Any]) -> set[str]:
    """The keys under which waiting contacts an event may resume are stored (see `waiting_key`)."""
    keys = {f"c:{contact_id}"} if contact_id is not None else set()
    for match in match_lists:
        if all(properties.get(key) is not None for key in match):
            keys.add("m:" + json.dumps([[key, properties.get(key)] for key in match], sort_keys=True, default=str))
    return keys


def resume_target(document: CampaignDocument, index: int, *, happened: bool) -> int | None:
    """Where a wait_for goes on: its 'happened' path or its 'timed out' path."""
    node = document.steps[index]
    assert isinstance(node, WaitFor)
    return target_index(document, index, node.on_event if happened else node.on_timeout)


def arrived_late(timed_out: dict[str, Any], *, name: str | None, time: datetime, keys: set[str]) -> bool:
    """Whether an event (its correlation `keys`, see `event_keys`) arrived late for a wait whose timeout path
    already ran (`timed_out`: that wait's trail step): the event it waited for, correlated the same way, and
    stamped inside the wait. It does not rewind: the note is all it causes."""
    if timed_out.get("took") != "timed out" or timed_out.get("event") != name:
        return False
    if timed_out.get("key") is not None and timed_out["key"] not in keys:
        return False
    return datetime.fromisoformat(timed_out["since"]) <= time <= datetime.fromisoformat(timed_out["at"])


def choose_path(document: CampaignDocument, node: Branch, *, at: datetime, walker: Walker) -> tuple[int | None, str]:
    """The first path whose conditions all hold at `at`, with why; (None, why) for else."""
    misses = []
    for number, path in enumerate(node.paths):
        failing = next((why for c in path.when if (why := _fails(document, c, at=at, walker=walker))), None)
        if failing is None:
            return number, "; ".join(_describe(c) for c in path.when)
        misses.append(f"{path_label(node, number)}: {failing}")
    return None, "; ".join(misses)


def _describe(condition: Condition | Engagement | Did | InCohort) -> str:
    return condition.describe()


def in_cohort(condition: InCohort, cohorts: Sequence[tuple[int, str]]) -> bool:
    """Whether one of the contact's cohorts, as (PostHog id, name), is the one the condition names: by name in
    any case, or by PostHog id."""
    wanted = condition.in_cohort.strip().lower()
    return any(wanted == name.strip().lower() or wanted == str(posthog_id) for posthog_id, name in cohorts)


def cohort_named(name: str, cohorts: Sequence[tuple[int, str]]) -> bool:
    """Whether `name` names one of these imported cohorts, by `in_cohort`'s rule."""
    return in_cohort(InCohort(in_cohort=name), cohorts)


def _fails(
    document: CampaignDocument, condition: Condition | Engagement | Did | InCohort, *, at: datetime, walker: Walker
) -> str | None:
    """Why one branch condition does not hold at `at`, or None when it holds."""
    if isinstance(condition, Condition):
        return failing_condition([condition], walker.trigger_properties, walker.person_properties)
    if isinstance(condition, InCohort):
        return None if in_cohort(condition, walker.cohorts()) else f"not in cohort {condition.in_cohort}"
    if isinstance(condition, Did):
        seen = walker.did(condition.did, walker.enrolled_at, at)
        if did_since(condition, seen, person_properties=walker.person_properties):
            return None
        return f"no {condition.did} since enrolling"
    engaged = walker.engagement(node_index(document)[condition.email])
    if not engaged.known:
        return f"{condition.email}: {engaged.note}"
    if ENGAGEMENT_RANK.get(engaged.level, 0) >= ENGAGEMENT_RANK[condition.was]:
        return None
    return f"{condition.email} not {condition.was} ({engaged.note or engaged.level or 'no report'})"


def did_since(condition: Did, seen: Sequence[Seen], *, person_properties: dict[str, Any]) -> bool:
    """Whether one of the contact's events (already limited to the name and span) meets the `where`: event
    properties on the event's, person properties on the contact's."""
    return any(failing_condition(condition.where, event.properties, person_properties) is None for event in seen)


def engagement_of(*, status: str | None, delivery_status: str, sent_via: str) -> Engaged:
    """What a branch may know of an email from its outbox row (None: no row yet)."""
    if status != "sent":
        return Engaged(True, "", f"email not sent ({status or 'not written'})")
    if sent_via == "local":
        return Engaged(False, "", UNKNOWN_ENGAGEMENT)
    return Engaged(True, delivery_status, delivery_status or "no report from the provider yet")
