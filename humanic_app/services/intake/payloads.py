"""Recognise what PostHog sent: the default `{event, person}` body, a REST hook, a legacy `{text}`
notification, a custom body, or a JSON array of any of these."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import Any

from humanic_app.services import mapping as mapping_service


class PayloadError(Exception):
    """The delivery cannot be accepted; `status` is the HTTP answer (400 or 422)."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []


@dataclasses.dataclass
class IncomingEvent:
    document: dict[str, Any] | None  # stored payload; None for a legacy notification
    event_name: str | None
    event_uuid: str | None
    distinct_id: str | None
    timestamp: Any
    legacy_text: str | None = None
    email: str | None = None  # mapping.owner_keys: what partition passes route by, beside distinct_id
    person_id: str | None = None


_REST_HOOK_EVENT = {
    "eventUuid": "uuid",
    "event": "event",
    "distinctId": "distinct_id",
    "properties": "properties",
    "timestamp": "timestamp",
}


def _from_rest_hook(item: dict[str, Any]) -> dict[str, Any]:
    """Into the default body's shape, so one mapping serves both; the hook's other fields (groups,
    elementsList, teamId, person.created_at…) are kept beside it, under the names PostHog gave them."""
    data = item["data"] if isinstance(item.get("data"), dict) else {}
    person = data.get("person") if isinstance(data.get("person"), dict) else None
    event = {ours: data.get(theirs) for theirs, ours in _REST_HOOK_EVENT.items()}
    event["properties"] = event["properties"] or {}
    event.update({key: value for key, value in data.items() if key not in _REST_HOOK_EVENT and key != "person"})
    return {
        "event": event,
        "person": {
            "id": person.get("uuid"),
            "properties": person.get("properties") or {},
            **{key: value for key, value in person.items() if key not in ("uuid", "properties")},
        }
        if person
        else None,
        "hook": item.get("hook"),
    }


MAX_NESTING = 100  # PostHog's bodies nest a few levels; far deeper input would only exhaust the stack later


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large a number")
    return value


def _nesting_over(value: Any, limit: int) -> bool:
    """Without recursion: the input is what may be deep."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


_UNSTORABLE_ESCAPE = re.compile(rb"\\u(0000|[dD][89a-fA-F])")  # \u0000, or a surrogate that may be unpaired


def storable_text(text: str) -> str:
    """U+0000 and unpaired surrogates cannot be stored (PostgreSQL refuses the first, UTF-8 the second):
    they become U+FFFD and ? rather than costing the event."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    return value


def _load_json(raw: bytes) -> Any:
    too_deep = PayloadError(400, f"The JSON nests more than {MAX_NESTING} levels deep.")
    try:
        body = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(400, f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise too_deep from None
    if raw.count(b"{") + raw.count(b"[") > MAX_NESTING and _nesting_over(body, MAX_NESTING):
        raise too_deep
    return _storable(body) if _UNSTORABLE_ESCAPE.search(raw) else body


def _is_legacy_notification(item: dict[str, Any]) -> bool:
    return "text" in item and set(item) <= {"text", "blocks"}


def parse_body(raw: bytes, source_mapping: dict[str, Any] | None) -> list[IncomingEvent]:
    """Parses the raw bytes as JSON whatever the Content-Type said. Raises PayloadError on bad input."""
    if not raw.strip():
        raise PayloadError(400, "The request body is empty; PostHog sends a JSON object.")
    body = _load_json(raw)
    items = body if isinstance(body, list) else [body]
    if not items:
        raise PayloadError(422, "The JSON array is empty; send at least one event.")

    def first(document: dict[str, Any], field: str) -> Any:
        return mapping_service.first_value(document, mapping_service.paths_for(source_mapping, field))

    events: list[IncomingEvent] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        where = f"[{index}]" if isinstance(body, list) else "body"
        if not isinstance(item, dict):
            errors.append({"loc": where, "msg": f"Expected a JSON object, got {type(item).__name__}."})
            continue
        if _is_legacy_notification(item):
            events.append(
                IncomingEvent(
                    document=None,
                    event_name=None,
                    event_uuid=None,
                    distinct_id=None,
                    timestamp=None,
                    legacy_text=str(item.get("text"))[:500],
                )
            )
            continue
        if isinstance(item.get("event"), dict):
            document = {"event": item["event"], "person": item.get("person")}
            for extra in set(item) - {"event", "person"}:
                document[extra] = item[extra]
        elif "hook" in item and "data" in item:
            document = _from_rest_hook(item)
        else:
            document = item
        event_name = first(document, "event_name")
        if not isinstance(event_name, str) or not event_name.strip():
            paths = " or ".join(mapping_service.paths_for(source_mapping, "event_name"))
            errors.append(
                {
                    "loc": where,
                    "msg": f"No event name found at {paths}. PostHog's default body has it "
                    f"at event.event; for a custom body set the event-name path in "
                    f"the source's field mapping.",
                }
            )
            continue
        uuid = first(document, "event_uuid")
        email, person_id = mapping_service.owner_keys(document, source_mapping)
        events.append(
            IncomingEvent(
                document=document,
                event_name=event_name.strip()[:200],
                event_uuid=str(uuid)[:200] if uuid is not None else None,
                distinct_id=mapping_service.distinct_id_in(document, source_mapping),
                timestamp=first(document, "timestamp"),
                email=email,
                person_id=person_id,
            )
        )
    if errors:
        raise PayloadError(422, "; ".join(f"{e['loc']}: {e['msg']}" for e in errors), errors)
    return events
