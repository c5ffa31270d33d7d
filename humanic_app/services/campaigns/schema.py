"""The campaign document — one schema for the builder, the API and YAML/JSON files."""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator, model_validator
from pydantic.config import JsonDict

from humanic_app.models import limits
from humanic_app.services import templates
from humanic_app.services.errors import ValidationFailed

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
    occurrence: int = Field(default=1, ge=1)
    within: str | int | None = Field(default=None, json_schema_extra={"anyOf": [*_DURATION_FORMS, {"type": "null"}]})

    _b_within = field_validator("within", mode="before")(lambda cls, v: _not_a_boolean(v))
    _v_within = field_validator("within")(lambda cls, v: v if v is None else _check_duration(v))


class Unless(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=200)
    within: str | int = Field(json_schema_extra=DURATION_SCHEMA)
    match: list[str] = []

    _b_within = field_validator("within", mode="before")(lambda cls, v: _not_a_boolean(v))
    _v_within = field_validator("within")(lambda cls, v: _check_duration(v))


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay: str | int = Field(default=0, json_schema_extra=DURATION_SCHEMA)
    subject: str = Field(min_length=1)
    html: str = Field(min_length=1)
    text: str | None = None

    _b_delay = field_validator("delay", mode="before")(lambda cls, v: _not_a_boolean(v))
    _v_delay = field_validator("delay")(lambda cls, v: _check_duration(v))


class CampaignDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    trigger: Trigger
    unless: Unless | None = None
    exit_on: list[str] = []
    reentry: Literal["once", "every_time", "after_exit"] = "once"
    steps: list[Step] = Field(min_length=1)


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
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            errors[_loc(loc) or "document"] = error["msg"].removeprefix("Value error, ")
        raise ValidationFailed(errors) from None
    template_errors: dict[str, str] = {}
    for index, step in enumerate(document.steps):
        for field, message in templates.syntax_errors(subject=step.subject, html=step.html, text=step.text).items():
            template_errors[f"steps.{index}.{field}"] = message
    if template_errors:
        raise ValidationFailed(template_errors)
    if unknown := _unknown_names(document):
        raise ValidationFailed(unknown)
    return document


FIELD_LABELS = {"subject": "subject", "html": "HTML", "text": "text"}


def _unknown_names(document: CampaignDocument) -> dict[str, str]:
    """Unknown filters and tests, checked in the environment the dispatcher renders with: such a template
    would compile here and fail every email it renders. Steps are numbered from 1, as the builder shows."""
    errors: dict[str, str] = {}
    for index, step in enumerate(document.steps):
        for field in ("subject", "html", "text"):
            source = getattr(step, field)
            if not source:
                continue
            for name in templates.unknown_names(source, html=field == "html")[:1]:
                errors[f"steps.{index}.{field}"] = (
                    f"Unknown {name.kind} '{name.name}' in step {index + 1} {FIELD_LABELS[field]}, line {name.line}"
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
    for index, step in enumerate(document.steps):
        for field, limit in _STEP_LIMITS.items():
            if len(getattr(step, field) or "") > limit:
                errors[f"steps.{index}.{field}"] = limits.too_long(limit)
    return errors


def document_as_dict(document: CampaignDocument) -> dict[str, Any]:
    """The canonical form that is stored and exported: what round-trips without loss."""
    return document.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
