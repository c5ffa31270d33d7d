"""Field mapping: which dot-path in a stored payload gives the user ID, email, event name, name, the event's
properties and variables.

Payloads are stored in PostHog's default shape `{"event": {...}, "person": {...}}` (other PostHog shapes are
converted on arrival) or, for custom bodies, exactly as received; the mapping's paths point into that.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime
from typing import Any

from humanic_app.services.auth import EMAIL_RE
from humanic_app.services.errors import ValidationFailed

# Each field takes one path or a list of paths tried in order.
DEFAULT_MAPPING: dict[str, Any] = {
    "user_id": ["event.distinct_id"],
    "email": ["person.properties.email", "event.properties.email", "event.properties.$set.email"],
    "event_name": ["event.event"],
    "name": ["person.properties.name", "event.properties.name", "event.properties.$set.name"],
    "event_uuid": ["event.uuid"],
    "timestamp": ["event.timestamp"],
    "person_id": ["person.id"],
    "event_properties": ["event.properties"],
    "variables": {},
}
FIELD_LABELS = {
    "user_id": "User ID",
    "email": "Email address",
    "event_name": "Event name / campaign trigger",
    "name": "Contact name",
    "event_uuid": "Event ID (deduplication)",
    "timestamp": "Event time",
    "person_id": "PostHog person ID",
    "event_properties": "Event properties (conditions, unless match)",
}
_OBJECT_FIELDS = {"event_properties"}  # a path there must lead to an object, not a value
PATH_PATTERN = r"^[A-Za-z0-9_$\-]+(\.[A-Za-z0-9_$\-]+)*$"  # a dot-path, like event.properties.plan
_PATH_RE = re.compile(PATH_PATTERN)
_MISSING = object()


def resolve_path(document: Any, path: str) -> Any:
    """Walks a dot-path ('event.properties.$set.email'); list indexes are numbers. Missing → _MISSING."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def first_value(document: Any, paths: list[str]) -> Any:
    for path in paths:
        value = resolve_path(document, path)
        if value is not _MISSING and value is not None and value != "":
            return value
    return None


def read_event_properties(document: Any, mapping: dict[str, Any] | None) -> dict[str, Any]:
    """The event's own properties: the first of the field's paths that holds an object, else none. Live
    processing, the campaign engine's history and the dry run all read them here."""
    for path in paths_for(mapping, "event_properties"):
        value = resolve_path(document, path)
        if isinstance(value, dict):
            return value
    return {}


def effective_mapping(mapping: dict[str, Any] | None) -> dict[str, Any]:
    """Every field's paths and the named variables, the source's own where set, else the defaults."""
    merged: dict[str, Any] = {key: list(paths_for(mapping, key)) for key in FIELD_LABELS}
    merged["variables"] = dict(variables_for(mapping))
    return merged


def paths_for(mapping: dict[str, Any] | None, key: str) -> list[str]:
    """One field's paths as `effective_mapping` gives them, without copying: this runs for every event."""
    value = mapping.get(key) if mapping else None
    if value is None:
        return DEFAULT_MAPPING[key]
    return [value] if isinstance(value, str) else value


def variables_for(mapping: dict[str, Any] | None) -> dict[str, str]:
    return (mapping.get("variables") if mapping else None) or {}


def validate_mapping(mapping: dict[str, Any]) -> dict[str, Any]:
    """Field-level errors for unknown fields and malformed paths; returns the cleaned mapping."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for key, value in (mapping or {}).items():
        if key == "variables":
            if not isinstance(value, dict):
                errors["variables"] = "Must be an object of variable name → path."
                continue
            for var, path in value.items():
                if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(var)):
                    errors[f"variables.{var}"] = "Variable names use letters, digits and underscores."
                elif not isinstance(path, str) or not _PATH_RE.match(path):
                    errors[f"variables.{var}"] = "Use a dot-path like event.properties.plan."
            cleaned["variables"] = dict(value)
            continue
        if key not in DEFAULT_MAPPING:
            errors[key] = f"Unknown field. Mappable fields: {', '.join(FIELD_LABELS)}, variables."
            continue
        paths = [value] if isinstance(value, str) else value
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and _PATH_RE.match(p) for p in paths):
            errors[key] = "Use a dot-path like event.properties.email, or a list of them tried in order."
            continue
        cleaned[key] = paths
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def parse_timestamp(value: Any) -> datetime | None:
    """PostHog sends ISO-8601 UTC; ClickHouse-style 'YYYY-MM-DD HH:MM:SS.fff' and unix seconds are tolerated.
    Anything else is None, as if absent: a bad timestamp must not cost the event (or its batch)."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = value / 1000 if value > 10**11 else value
            return datetime.fromtimestamp(seconds, tz=UTC)
        if not isinstance(value, str):
            return None
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T", 1))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):  # not a time, or outside what a datetime can hold
        return None


@dataclasses.dataclass
class MappedEvent:
    """What one stored event means to Humanic."""

    event_name: str | None
    user_id: str | None
    email: str | None
    name: str | None
    event_uuid: str | None
    person_id: str | None
    timestamp: datetime | None
    event_properties: dict[str, Any]
    person_properties: dict[str, Any]
    variables: dict[str, Any]
    unmatched_paths: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_name": self.event_name,
            "user_id": self.user_id,
            "email": self.email,
            "name": self.name,
            "event_uuid": self.event_uuid,
            "person_id": self.person_id,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "variables": self.variables,
            "unmatched_paths": self.unmatched_paths,
        }


def preview_value(mapped: MappedEvent, field: str) -> str:
    """One mapped field as the mapping editor shows it: "—" when nothing was found, objects as JSON."""
    value = getattr(mapped, field)
    if value is None or value == {}:
        return "—"
    if isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text if len(text) <= 300 else text[:299] + "…"
    return str(value)


def _valid_email(value: Any) -> str | None:
    """An address Resend can send to, lower-cased; a placeholder ("", "n/a", "ada@localhost") is none,
    so the next path in the fallback order is tried instead."""
    text = value.strip().lower() if isinstance(value, str) else ""
    return text if len(text) <= 254 and EMAIL_RE.fullmatch(text) else None


def email_in(document: dict[str, Any], mapping: dict[str, Any] | None) -> str | None:
    """The first address Resend can send to along the email paths, in their fallback order."""
    paths = paths_for(mapping, "email")
    return next((found for found in (_valid_email(resolve_path(document, path)) for path in paths) if found), None)


ID_MAX = 200  # what an identity and an event row hold (PostHog's person ids are 36-character UUIDs)


def storable_id(value: Any) -> str | None:
    """A distinct id or person id as it is stored and matched: as text, whole. One too long to be stored
    whole is none: cut short, two ids could become one and merge two people."""
    text = _as_text(value)
    return text if text is None or len(text) <= ID_MAX else None


def person_id_in(document: dict[str, Any], mapping: dict[str, Any] | None) -> str | None:
    """The PostHog person id along the person-id paths."""
    return storable_id(first_value(document, paths_for(mapping, "person_id")))


def distinct_id_in(document: dict[str, Any], mapping: dict[str, Any] | None) -> str | None:
    """The distinct id along the user-id paths: what intake stores on the event row (partition passes route
    by it) and what processing links to the contact."""
    return storable_id(first_value(document, paths_for(mapping, "user_id")))


def owner_keys(document: dict[str, Any], mapping: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """The email and PostHog person id a payload names, as `apply_mapping` reads them. Intake stores them
    beside its distinct_id, so a partition pass finds in SQL another partition's event that would merge
    a contact of its own (services/processing.py)."""
    return email_in(document, mapping), person_id_in(document, mapping)


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def apply_mapping(document: dict[str, Any], mapping: dict[str, Any] | None) -> MappedEvent:
    event = document["event"] if isinstance(document.get("event"), dict) else {}
    person = document["person"] if isinstance(document.get("person"), dict) else {}
    event_properties = read_event_properties(document, mapping)
    person_properties = person["properties"] if isinstance(person.get("properties"), dict) else {}

    unmatched: list[str] = []
    values: dict[str, Any] = {}
    for key in FIELD_LABELS:
        paths = paths_for(mapping, key)
        if key in _OBJECT_FIELDS:
            if mapping and key in mapping and not any(isinstance(resolve_path(document, p), dict) for p in paths):
                unmatched.extend(paths)
            continue
        values[key] = first_value(document, paths)
        if values[key] is None and mapping and key in mapping:
            unmatched.extend(paths)

    variables: dict[str, Any] = {}
    if not event and not person:
        variables.update({k: v for k, v in document.items() if not isinstance(v, (dict, list)) or k == "properties"})
    variables.update(person_properties)
    variables.update({k: v for k, v in event_properties.items() if k not in ("$set", "$set_once")})
    for var, path in variables_for(mapping).items():
        value = resolve_path(document, path)
        if value is _MISSING:
            unmatched.append(path)
            variables[var] = None
        else:
            variables[var] = value

    email, user_id = email_in(document, mapping), storable_id(values["user_id"])  # as distinct_id_in reads it
    name = _as_text(values["name"])
    variables.update(
        {
            "email": email,
            "name": name or "",
            "distinct_id": user_id,
            "event": _as_text(values["event_name"]),
        }
    )
    return MappedEvent(
        event_name=_as_text(values["event_name"]),
        user_id=user_id,
        email=email,
        name=name,
        event_uuid=_as_text(values["event_uuid"]),
        person_id=storable_id(values["person_id"]),  # as person_id_in reads it
        timestamp=parse_timestamp(values["timestamp"]),
        event_properties=event_properties,
        person_properties=person_properties,
        variables=variables,
        unmatched_paths=unmatched,
    )
