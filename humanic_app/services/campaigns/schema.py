"""The campaign document — one schema for the builder, the API and YAML/JSON files."""

from __future__ import annotations

import functools
import json
import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic_core import InitErrorDetails, PydanticCustomError

from humanic_app.models import limits
from humanic_app.services import templates
from humanic_app.services.design import blocks as design_blocks
from humanic_app.services.design.blocks import Block, Html
from humanic_app.services.errors import ValidationFailed
from humanic_app.services.quiet_hours import SETTINGS as QUIET_SETTINGS, QuietHours
from humanic_app.services.timewindow import WEEKDAYS, ClockTime

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains", "not_contains", "is_set", "is_not_set", "in")
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@functools.lru_cache(maxsize=1024, typed=True)  # the engine and the dry run ask for the same few durations per event
def parse_duration(value: str | int) -> timedelta:
    """'0', '30m', '24h', '2d', '1w' (or a number of seconds)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION_RE.match(str(value))
    if not match:
        raise ValueError(f"'{value}' is not a duration; use forms like 0, 30m, 24h, 2d or 1w")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


# Ten years, the dry run's longest look back: it keeps every due date a campaign computes (event time plus
# delays) inside what a datetime can hold, so a document that validates can always be run.
MAX_DURATION = timedelta(days=3650)
_DURATION_FORMS: list[JsonValue] = [
    {"type": "integer", "minimum": 0, "maximum": int(MAX_DURATION.total_seconds()), "description": "seconds"},
    {"type": "string", "pattern": _DURATION_RE.pattern, "description": "like 0, 30m, 24h, 2d or 1w"},
]
DURATION_SCHEMA: JsonDict = {"anyOf": _DURATION_FORMS, "description": "A duration of at most 3650 days."}


def _not_a_boolean(value: Any) -> Any:
    # Before pydantic's own check, which would read true and false as the integers 1 and 0.
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like 30m, not true or false")
    return value


def _check_duration(value: str | int) -> str | int:
    if isinstance(value, str) and (match := _DURATION_RE.match(value)):
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    else:
        parse_duration(value)  # raises the message that says which forms are durations
        seconds = 0
    if not 0 <= seconds <= MAX_DURATION.total_seconds():
        raise ValueError(f"'{value}' is out of range; a duration is from 0 to {MAX_DURATION.days} days")
    return value


_UNSET: JsonDict = {"anyOf": [{"type": "null"}, {"const": ""}]}


class Condition(BaseModel):
    # The schema states what _one_target checks: exactly one non-empty target, and a list for 'in'.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["property"],
                    "properties": {"property": {"type": "string", "minLength": 1}, "person_property": _UNSET},
                },
                {
                    "required": ["person_property"],
                    "properties": {"person_property": {"type": "string", "minLength": 1}, "property": _UNSET},
                },
            ],
            "if": {"properties": {"op": {"const": "in"}}},
            "then": {"required": ["value"], "properties": {"value": {"type": "array"}}},
        },
    )

    property: str | None = None
    person_property: str | None = None
    op: Literal[OPERATORS]  # type: ignore[valid-type]
    value: Any = None

    @model_validator(mode="after")
    def _one_target(self):
        if bool(self.property) == bool(self.person_property):
            raise ValueError("give exactly one of 'property' (event) or 'person_property' (contact)")
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError("'in' needs a list value")
        return self

    def describe(self) -> str:
        target = f"property {self.property}" if self.property else f"person property {self.person_property}"
        return f"{target} {self.op}" + ("" if self.op in ("is_set", "is_not_set") else f" {self.value!r}")


class Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=200)
    where: list[Condition] = []
    # Only contacts in this imported PostHog cohort (its name, any case, or its PostHog id) enrol: `in_cohort`'s
    # rule, as a branch asks it (rules.in_cohort)
    in_cohort: str | None = Field(default=None, min_length=1, max_length=400)
    occurrence: int = Field(default=1, ge=1)
    within: str | int | None = Field(default=None, json_schema_extra={"anyOf": [*_DURATION_FORMS, {"type": "null"}]})

    @field_validator("in_cohort", mode="before")
    @classmethod
    def _cohort_id_as_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip() or None  # a cleared field asks nothing
        return _cohort_id_as_text(value)

    _b_within = field_validator("within", mode="before")(lambda cls, v: _not_a_boolean(v))
    _v_within = field_validator("within")(lambda cls, v: v if v is None else _check_duration(v))


def _cohort_id_as_text(value: Any) -> Any:
    """A cohort named by its PostHog id (a number in YAML or JSON) is matched as text, like a name."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Unless(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=200)
    within: str | int = Field(json_schema_extra=DURATION_SCHEMA)
    match: list[str] = []

    _b_within = field_validator("within", mode="before")(lambda cls, v: _not_a_boolean(v))
    _v_within = field_validator("within")(lambda cls, v: _check_duration(v))


def _duration_field(**kwargs: Any) -> Any:
    return Field(json_schema_extra=DURATION_SCHEMA, **kwargs)


_NODE_ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
NodeId = Annotated[str, Field(pattern=_NODE_ID_RE, description="a node's id: letters, digits, - and _")]


class Step(BaseModel):
    """An email node: the only kind a linear campaign has (`type` may be left out). Its `delay` counts from
    the trigger event's own timestamp, and the email never falls due before the contact reaches it."""

    model_config = ConfigDict(extra="forbid")

    id: NodeId | None = None
    type: Literal["email"] | None = None
    delay: str | int = Field(default=0, json_schema_extra=DURATION_SCHEMA)
    subject: str = Field(min_length=1)
    # The email: `blocks` (composed in the builder, rendered through the brand layout) or `html` (written by
    # hand, sent as written with the footer: emails from before blocks keep rendering exactly as they did).
    html: str | None = Field(default=None, min_length=1)
    blocks: list[Block] | None = Field(default=None, min_length=1)
    text: str | None = None  # the plain-text part; derived from the blocks or the HTML when absent
    next: NodeId | None = None  # jump there instead of to the step below

    _b_delay = field_validator("delay", mode="before")(lambda cls, v: _not_a_boolean(v))
    _v_delay = field_validator("delay")(lambda cls, v: _check_duration(v))

    @model_validator(mode="after")
    def _one_body(self):
        if (self.html is None) == (self.blocks is None):
            raise ValueError(
                "an email has 'blocks' or 'html', not both" if self.html else "an email needs 'blocks' or 'html'"
            )
        return self

    def as_blocks(self) -> list[Block]:
        """The email as blocks, as the builder edits it: a hand-written `html` is one raw-HTML block."""
        return list(self.blocks) if self.blocks is not None else [Html(type="html", html=self.html or "")]

    def block_data(self) -> list[dict[str, Any]] | None:
        """The blocks as stored (what the renderer compiles and caches by), or None for an `html` email."""
        return None if self.blocks is None else [block.model_dump(mode="json") for block in self.blocks]


class Until(BaseModel):
    """A time of day (`time`) or a window (`between`), optionally on some weekdays only, in the contact's
    timezone (the workspace's when the contact's is unknown). `days` alone: any time on those days."""

    model_config = ConfigDict(extra="forbid")

    time: ClockTime | None = None
    between: list[ClockTime] | None = Field(default=None, min_length=2, max_length=2)
    days: list[Literal[WEEKDAYS]] = []  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _one_form(self):
        if self.time and self.between:
            raise ValueError("give 'time' (until that time of day) or 'between' (a window), not both")
        if not (self.time or self.between or self.days):
            raise ValueError("give 'time', 'between' or 'days'")
        if self.between and self.between[0] == self.between[1]:
            # At the end time ('between.1'), so the builder outlines and ties the error to its To field.
            raise _error_at(
                ("between", 1), self.between[1], "the window ends when it starts: pick a different end time"
            )
        return self


def _quiet_kind(value: Any) -> str:
    return "quiet-setting" if isinstance(value, str) else "quiet-window"


QuietHoursField = Annotated[
    Annotated[QuietHours, Tag("quiet-window")] | Annotated[Literal[QUIET_SETTINGS], Tag("quiet-setting")],  # type: ignore[valid-type]
    Discriminator(_quiet_kind),
]


def _error_at(loc: tuple[str | int, ...], value: Any, message: str) -> ValidationError:
    """A refusal a model validator places on one of its fields (a ValueError would sit on the model itself)."""
    return ValidationError.from_exception_data(
        "Refusal", [InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)]
    )


class Wait(BaseModel):
    """Wait a duration, then (with `until`) until a time of day or window opens."""

    model_config = ConfigDict(extra="forbid")

    id: NodeId | None = None
    type: Literal["wait"]
    duration: str | int | None = Field(default=None, json_schema_extra={"anyOf": [*_DURATION_FORMS, {"type": "null"}]})
    until: Until | None = None
    next: NodeId | None = None

    _b_duration = field_validator("duration", mode="before")(lambda cls, v: _not_a_boolean(v))
    _v_duration = field_validator("duration")(lambda cls, v: v if v is None else _check_duration(v))

    @model_validator(mode="after")
    def _something_to_wait(self):
        if self.duration is None and self.until is None:
            raise ValueError("a wait needs a 'duration', an 'until' or both")
        return self


class WaitFor(BaseModel):
    """Wait until `event` happens (with `where` on its properties — a `person_property` on the waiting
    contact's — and, with `match`, the same values as the enrolling event had) for at most `timeout`; then go
    on at `on_event` or `on_timeout` (default: the next step). With `match`, the event may come from any
    contact (a server-side event, another person's)."""

    model_config = ConfigDict(extra="forbid")

    id: NodeId | None = None
    type: Literal["wait_for"]
    event: str = Field(min_length=1, max_length=200)
    where: list[Condition] = []
    match: list[str] = []
    timeout: str | int = Field(json_schema_extra=DURATION_SCHEMA)
    on_event: NodeId | None = None
    on_timeout: NodeId | None = None

    _b_timeout = field_validator("timeout", mode="before")(lambda cls, v: _not_a_boolean(v))
    _v_timeout = field_validator("timeout")(lambda cls, v: _check_duration(v))


class Engagement(BaseModel):
    """The contact's engagement with an earlier email node of this journey: at least `was` (delivered <
    opened < clicked), as the provider reported it by the time the branch is reached."""

    model_config = ConfigDict(extra="forbid")

    email: NodeId
    was: Literal["delivered", "opened", "clicked"]

    def describe(self) -> str:
        return f"email {self.email} was {self.was}"


class Did(BaseModel):
    """Whether the contact did `did` (with `where` on its properties, or the contact's) since enrolling."""

    model_config = ConfigDict(extra="forbid")

    did: str = Field(min_length=1, max_length=200)
    where: list[Condition] = []

    def describe(self) -> str:
        return f"did {self.did} since enrolling"


class InCohort(BaseModel):
    """Whether the contact is in an imported PostHog cohort (Settings → PostHog → Cohorts), named by its name
    (any case) or its PostHog id, as of the cohort's last import."""

    model_config = ConfigDict(extra="forbid")

    in_cohort: str = Field(min_length=1, max_length=400)

    _v_in_cohort = field_validator("in_cohort", mode="before")(lambda cls, v: _cohort_id_as_text(v))

    def describe(self) -> str:
        return f"in cohort {self.in_cohort}"


def _condition_kind(value: Any) -> str | None:
    """The kind of a branch condition, by the keys it has (None for what is no condition at all)."""
    if isinstance(value, BaseModel):
        keys: Any = type(value).model_fields
    elif isinstance(value, dict):
        keys = value
    else:
        return None
    if "in_cohort" in keys:
        return "cond-cohort"
    return "cond-engagement" if "was" in keys else "cond-did" if "did" in keys else "cond-property"


BranchCondition = Annotated[
    Annotated[Condition, Tag("cond-property")]
    | Annotated[Engagement, Tag("cond-engagement")]
    | Annotated[Did, Tag("cond-did")]
    | Annotated[InCohort, Tag("cond-cohort")],
    Discriminator(_condition_kind),
]


class Path(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=80)
    when: list[BranchCondition] = Field(min_length=1)  # all must hold
    then: NodeId | None = None  # None: the step below the branch


class Branch(BaseModel):
    """The first path whose conditions all hold, else `else_` (YAML `else`; default: the step below)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    id: NodeId | None = None
    type: Literal["branch"]
    paths: list[Path] = Field(min_length=1)
    else_: NodeId | None = Field(default=None, alias="else")


class Exit(BaseModel):
    """The journey ends here for the contact (emails already scheduled still go)."""

    model_config = ConfigDict(extra="forbid")

    id: NodeId | None = None
    type: Literal["exit"]


NODE_KINDS = ("email", "wait", "wait_for", "branch", "exit")


def _node_kind(value: Any) -> str | None:
    """A node's kind by its `type` (an email when left out; None for what is no node at all)."""
    if isinstance(value, BaseModel):
        return f"node-{getattr(value, 'type', None) or 'email'}"
    if isinstance(value, dict):
        return f"node-{value.get('type') or 'email'}"
    return None


Node = Annotated[
    Annotated[Step, Tag("node-email")]
    | Annotated[Wait, Tag("node-wait")]
    | Annotated[WaitFor, Tag("node-wait_for")]
    | Annotated[Branch, Tag("node-branch")]
    | Annotated[Exit, Tag("node-exit")],
    Discriminator(
        _node_kind,
        custom_error_type="node_type",
        custom_error_message="a step's type is email (the default), wait, wait_for, branch or exit",
    ),
]
_TAGS = (
    {f"node-{kind}" for kind in NODE_KINDS}
    | {
        "cond-property",
        "cond-engagement",
        "cond-did",
        "cond-cohort",
        "quiet-window",
        "quiet-setting",
    }
    | design_blocks.TAGS
)


MAX_EMAILS_PER_MINUTE = 100_000
_TOPIC_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class CampaignDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    trigger: Trigger
    unless: Unless | None = None
    exit_on: list[str] = []
    reentry: Literal["once", "every_time", "after_exit"] = "once"
    # At most this many of the campaign's emails go out per rolling minute (services/delivery/throttle.py)
    emails_per_minute: int | None = Field(default=None, ge=1, le=MAX_EMAILS_PER_MINUTE, strict=True)
    # A topic's key (Settings → Topics), "transactional" (account and billing mail), or none: services/topics.py
    topic: str | None = Field(default=None, strict=True)
    # When its emails may go out, in the contact's timezone: a window, 'inherit' (the workspace's default,
    # Settings) or 'off'. Missing means inherit. Applied at send time (services/campaigns/rules.py).
    quiet_hours: QuietHoursField | None = None
    steps: list[Node] = Field(min_length=1)

    @field_validator("topic")
    @classmethod
    def _topic_key(cls, value: str | None) -> str | None:
        if value is not None and not _TOPIC_KEY.match(value):
            raise ValueError(
                "a topic is named by its key, like product-tips (Settings → Topics), or is 'transactional'"
            )
        return value

    def emails(self) -> list[tuple[int, Step]]:
        """The email nodes with their index in `steps` (an email's outbox rows carry that index)."""
        return [(index, step) for index, step in enumerate(self.steps) if isinstance(step, Step)]


def _loc(parts: tuple) -> str:
    return ".".join(str(p) for p in parts)


def validate_document(data: Any) -> CampaignDocument:
    """Field-level errors (e.g. 'steps.0.delay', 'steps.1.html') for schema and template syntax problems."""
    if not isinstance(data, dict):
        raise ValidationFailed({"document": "A campaign is an object with name, trigger and steps."})
    try:
        document = CampaignDocument.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = tuple(
                p for p in error["loc"] if not (isinstance(p, str) and (p.startswith("function-") or p in _TAGS))
            )
            errors[_loc(loc) or "document"] = error["msg"].removeprefix("Value error, ")
        raise ValidationFailed(errors) from None
    if graph_errors := journey_errors(document):
        raise ValidationFailed(graph_errors)
    template_errors: dict[str, str] = {}
    for index, step in document.emails():
        for field, message in templates.syntax_errors(**_template_sources(step)).items():
            template_errors[f"steps.{index}.{field}"] = message
    if template_errors:
        raise ValidationFailed(template_errors)
    if unknown := _unknown_names(document):
        raise ValidationFailed(unknown)
    return document


FIELD_LABELS = {"subject": "subject", "html": "HTML", "text": "text"}


def _template_sources(step: Step) -> dict[str, str | None]:
    """Every template of an email step by its field: each block's texts on their own ('blocks.2.label'), so
    a block's template is complete in itself and an error points at the block."""
    return {"subject": step.subject, "html": step.html, "text": step.text} | dict(
        design_blocks.template_fields(step.blocks or [])
    )


def _field_label(field: str) -> str:
    if field.startswith("blocks."):
        parts = field.split(".")
        return f"block {int(parts[1]) + 1} {parts[-1]}"
    return FIELD_LABELS[field]


def _unknown_names(document: CampaignDocument) -> dict[str, str]:
    """Unknown filters and tests, checked in the environment the dispatcher renders with: such a template
    would compile here and fail every email it renders. Steps are numbered from 1, as the builder shows."""
    errors: dict[str, str] = {}
    for index, step in document.emails():
        for field, source in _template_sources(step).items():
            if not source:
                continue
            # Everything but the subject and the text part lands in the HTML, where inserted values are escaped.
            for name in templates.unknown_names(source, html=field not in ("subject", "text"))[:1]:
                errors[f"steps.{index}.{field}"] = (
                    f"Unknown {name.kind} '{name.name}' in step {index + 1} {_field_label(field)}, line {name.line}"
                    + (f" — did you mean '{name.suggestion}'?" if name.suggestion else ".")
                )
    return errors


_STEP_LIMITS = {"subject": limits.SUBJECT, "html": limits.HTML, "text": limits.TEXT}


def length_errors(document: CampaignDocument) -> dict[str, str]:
    """Texts over their limit, checked when a campaign is saved (create or update). Documents stored before a
    limit existed are still read, previewed and sent as they are, so the schema itself does not check this."""
    errors: dict[str, str] = {}
    if len(document.name) > limits.NAME:
        errors["name"] = limits.too_long(limits.NAME)
    for index, step in document.emails():
        for field, limit in _STEP_LIMITS.items():
            if len(getattr(step, field) or "") > limit:
                errors[f"steps.{index}.{field}"] = limits.too_long(limit)
        if step.blocks is not None and len(json.dumps(step.block_data())) > limits.HTML:
            errors[f"steps.{index}.blocks"] = limits.too_long(limits.HTML)
    return errors


def document_as_dict(document: CampaignDocument) -> dict[str, Any]:
    """The canonical form that is stored and exported: what round-trips without loss."""
    return document.model_dump(mode="json", exclude_none=True, exclude_defaults=False, by_alias=True)


# --- The journey graph -------------------------------------------------------------------------------------
# `steps` is a list read top to bottom: each node goes on to the one below unless it names another (`next`,
# `on_event`/`on_timeout`, a path's `then`, `else`). Nodes are found by `id`; one without an id is
# `step-N` (N counted from 1, as the builder numbers them), so a linear campaign needs no ids at all.


def node_id(document: CampaignDocument, index: int) -> str:
    return document.steps[index].id or f"step-{index + 1}"


def node_index(document: CampaignDocument) -> dict[str, int]:
    """Each node's id → its index in `steps` (the last one wins for a duplicate, which validation refuses)."""
    return {node_id(document, index): index for index in range(len(document.steps))}


def node_label(document: CampaignDocument, index: int) -> str:
    """A node as the builder shows it: 'Step 3 (wait for checkout_completed)'."""
    node = document.steps[index]
    if isinstance(node, Step):
        subject = node.subject if len(node.subject) <= 40 else node.subject[:39] + "…"
        what = f'email "{subject}"'
    elif isinstance(node, Wait):
        what = "wait " + " then ".join(
            part
            for part in (
                str(node.duration) if node.duration is not None else "",
                describe_until(node.until) if node.until else "",
            )
            if part
        )
    elif isinstance(node, WaitFor):
        what = f"wait for {node.event}"
    elif isinstance(node, Branch):
        what = "branch"
    else:
        what = "exit"
    return f"Step {index + 1} ({what})"


def describe_until(until: Until) -> str:
    when = (
        f"until {until.time}"
        if until.time
        else f"until between {until.between[0]} and {until.between[1]}"
        if until.between
        else "until"
    )
    return when + (f" on {', '.join(until.days)}" if until.days else "")


def path_label(branch: Branch, index: int) -> str:
    """A branch path's name as the trace and the dry run count it."""
    return branch.paths[index].name or f"path {index + 1}"


def exits(document: CampaignDocument, index: int) -> list[tuple[str, str | None]]:
    """(label, target id) for each way out of a node; a None target is the step below it."""
    node = document.steps[index]
    if isinstance(node, Exit):
        return []
    if isinstance(node, WaitFor):
        return [("happened", node.on_event), ("timed out", node.on_timeout)]
    if isinstance(node, Branch):
        return [(path_label(node, i), path.then) for i, path in enumerate(node.paths)] + [("else", node.else_)]
    return [("next", node.next)]


def target_index(document: CampaignDocument, index: int, target: str | None) -> int | None:
    """Where a way out leads: a node's index, or None for the end of the journey."""
    if target is None:
        return index + 1 if index + 1 < len(document.steps) else None
    return node_index(document)[target]


def journey_errors(document: CampaignDocument) -> dict[str, str]:
    """Ids that repeat, targets that name no node, loops and nodes no path reaches — each at the node, named
    as the builder names it."""
    errors: dict[str, str] = {}
    seen: dict[str, int] = {}
    for index in range(len(document.steps)):
        nid = node_id(document, index)
        if nid in seen:
            errors[f"steps.{index}.id"] = (
                f"{node_label(document, index)} has the id '{nid}' of {node_label(document, seen[nid])}; ids are unique"
            )
        seen.setdefault(nid, index)
    for index in range(len(document.steps)):
        for label, target in exits(document, index):
            if target is not None and target not in seen:
                errors[f"steps.{index}"] = (
                    f"{node_label(document, index)} goes on to '{target}' ({label}), which is no step's id"
                )
            elif target is not None and seen[target] == index:
                errors[f"steps.{index}"] = f"{node_label(document, index)} goes on to itself ({label})"
    errors.update(_engagement_errors(document, seen))
    if errors:
        return errors
    return _loop_and_reach_errors(document)


def cohorts_named(document: CampaignDocument) -> list[tuple[int | None, str]]:
    """Each `in_cohort` condition's node index (None: the trigger's) and the cohort it names."""
    trigger: list[tuple[int | None, str]] = [(None, document.trigger.in_cohort)] if document.trigger.in_cohort else []
    return trigger + [
        (index, condition.in_cohort)
        for index, node in enumerate(document.steps)
        if isinstance(node, Branch)
        for path in node.paths
        for condition in path.when
        if isinstance(condition, InCohort)
    ]


def _engagement_errors(document: CampaignDocument, ids: dict[str, int]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for index, node in enumerate(document.steps):
        if not isinstance(node, Branch):
            continue
        for path in node.paths:
            for condition in path.when:
                if isinstance(condition, Engagement) and not isinstance(
                    document.steps[ids.get(condition.email, index)], Step
                ):
                    errors[f"steps.{index}"] = (
                        f"{node_label(document, index)} asks about '{condition.email}', which is not an email step"
                    )
    return errors


def _loop_and_reach_errors(document: CampaignDocument) -> dict[str, str]:
    """Depth-first from the first node: a way back to a node still on the current path is a loop (a journey
    visits each node at most once: one email per node per enrolment); a node never visited is unreachable."""
    errors: dict[str, str] = {}
    state: dict[int, str] = {}  # "open" while on the current path, "done" after
    stack: list[tuple[int, list[int]]] = [(0, _successors(document, 0))]
    state[0] = "open"
    while stack:
        index, todo = stack[-1]
        if not todo:
            state[index] = "done"
            stack.pop()
            continue
        successor = todo.pop(0)
        if state.get(successor) == "open":
            errors.setdefault(
                f"steps.{index}",
                f"{node_label(document, index)} leads back to {node_label(document, successor)}: a journey cannot loop",
            )
        elif successor not in state:
            state[successor] = "open"
            stack.append((successor, _successors(document, successor)))
    for index in range(len(document.steps)):
        if index not in state:
            errors.setdefault(f"steps.{index}", f"{node_label(document, index)} is never reached: no path leads to it")
    return errors


def _successors(document: CampaignDocument, index: int) -> list[int]:
    found = [target_index(document, index, target) for _, target in exits(document, index)]
    return [successor for successor in dict.fromkeys(found) if successor is not None]


def event_names(doc: CampaignDocument) -> set[str]:
    """Every event name a campaign reads: its trigger, its ending events (`unless`, exit goals), what its
    journey waits for and what its branches ask about ("did event"). The dry run replays these, and
    PostHog's pull and reconciliation ask for them."""
    names = {doc.trigger.event, *doc.exit_on} | ({doc.unless.event} if doc.unless else set())
    for node in doc.steps:
        if isinstance(node, WaitFor):
            names.add(node.event)
        elif isinstance(node, Branch):
            names |= {c.did for path in node.paths for c in path.when if isinstance(c, Did)}
    return names
