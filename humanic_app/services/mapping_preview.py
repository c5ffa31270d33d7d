"""A source's field mapping tried on its latest accepted event, saved or not: what the Integrations page
previews while the mapping is edited, and `POST /api/v1/sources/{id}/mapping/preview` returns."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from humanic_app.services import contacts, event_log, mapping as mapping_service, sources


def preview_mapping(*, session: Session, source_id: int, mapping: dict[str, Any] | None = None) -> dict[str, Any]:
    """`mapping` (validated; None: the saved one) applied to the source's latest accepted event."""
    source = sources.get_source(session=session, source_id=source_id)
    tried = source.mapping if mapping is None else mapping_service.validate_mapping(mapping)
    latest = event_log.latest_accepted_event(session=session, source_id=source_id)
    if latest is None or not latest.payload:
        return {"event_id": None, "mapped": None, "match": None, "warnings": ["No event received yet."]}
    mapped = mapping_service.apply_mapping(latest.payload, tried)
    warnings = [f"{path} matches nothing in the latest event" for path in mapped.unmatched_paths]
    if not mapped.email:
        warnings.append("No email found: this event cannot be emailed.")
    return {
        "event_id": latest.id,
        "mapped": mapped.as_dict(),
        "match": contacts.describe_match(session=session, mapped=mapped),
        "warnings": warnings,
    }
