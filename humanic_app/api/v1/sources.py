"""/api/v1/sources: PostHog sources, their webhook URLs, status and field mapping."""

from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from humanic_app.api.deps import SessionDep, TransactionRoute, public_base_url
from humanic_app.api.errors import responses
from humanic_app.api.fields import NO_NUL, NOT_BLANK, REQUEST_MODEL_CONFIG, RowId
from humanic_app.models import SourceStatus, limits
from humanic_app.services import mapping as mapping_service, sources
from humanic_app.services.errors import ValidationFailed

router = APIRouter(route_class=TransactionRoute, prefix="/sources", tags=["sources"])


class SourceIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    name: str = Field(pattern=NOT_BLANK, max_length=limits.NAME, description="e.g. 'Production' or 'Staging'.")


class SourceOut(BaseModel):
    id: int
    name: str
    status: str
    webhook_url: str
    signing_enabled: bool
    required_header_name: str | None
    created_at: str
    last_event_at: str | None


class MappingOut(BaseModel):
    mapping: dict[str, Any]
    effective: dict[str, Any]


def _mapping_schema() -> dict[str, Any]:
    """What services.mapping.validate_mapping accepts: known fields, each a dot-path or a list of them tried in
    order, and variables naming a dot-path each."""
    path = {"type": "string", "pattern": mapping_service.PATH_PATTERN}
    fields = {
        name: {"anyOf": [path, {"type": "array", "items": path, "minItems": 1}]}
        for name in mapping_service.FIELD_LABELS
    }
    variables = {
        "type": "object",
        "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
        "additionalProperties": path,
    }
    mapping = {"type": "object", "properties": {**fields, "variables": variables}, "additionalProperties": False}
    # The mapping itself, or wrapped as {"mapping": ...} as GET answers it.
    return {
        "anyOf": [
            {
                "type": "object",
                "properties": {"mapping": mapping},
                "required": ["mapping"],
                "additionalProperties": False,
            },
            mapping,
        ]
    }


_MAPPING_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": _mapping_schema()}}}}


def _out(request: Request, session, source) -> dict:
    return sources.source_as_dict(source=source, base_url=public_base_url(request, session))


@router.post(
    "",
    response_model=SourceOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a source",
    responses=responses(400, 422),
)
def create_source(body: SourceIn, request: Request, session: SessionDep) -> dict:
    return _out(request, session, sources.create_source(session=session, name=body.name))


@router.get("", response_model=list[SourceOut], summary="List sources")
def list_sources(request: Request, session: SessionDep) -> list[dict]:
    return [_out(request, session, s) for s in sources.list_sources(session=session)]


@router.get("/{source_id}", response_model=SourceOut, summary="One source", responses=responses(404, 422))
def get_source(source_id: RowId, request: Request, session: SessionDep) -> dict:
    return _out(request, session, sources.get_source(session=session, source_id=source_id))


@router.post(
    "/{source_id}/rotate", response_model=SourceOut, summary="Regenerate the webhook URL", responses=responses(404, 422)
)
def rotate(source_id: RowId, request: Request, session: SessionDep) -> dict:
    return _out(request, session, sources.rotate_token(session=session, source_id=source_id))


@router.post(
    "/{source_id}/activate",
    response_model=SourceOut,
    summary="Activate: matching events fire campaigns",
    responses=responses(404, 422),
)
def activate(source_id: RowId, request: Request, session: SessionDep) -> dict:
    return _out(request, session, sources.set_status(session=session, source_id=source_id, status=SourceStatus.active))


@router.post(
    "/{source_id}/pause",
    response_model=SourceOut,
    summary="Pause: events are stored, nothing fires",
    responses=responses(404, 422),
)
def pause(source_id: RowId, request: Request, session: SessionDep) -> dict:
    return _out(request, session, sources.set_status(session=session, source_id=source_id, status=SourceStatus.paused))


@router.get(
    "/{source_id}/mapping",
    response_model=MappingOut,
    summary="The source's field mapping",
    responses=responses(404, 422),
)
def get_mapping(source_id: RowId, session: SessionDep) -> dict:
    source = sources.get_source(session=session, source_id=source_id)
    return {"mapping": source.mapping, "effective": mapping_service.effective_mapping(source.mapping)}


@router.put(
    "/{source_id}/mapping",
    response_model=MappingOut,
    summary="Replace the source's field mapping",
    openapi_extra=_MAPPING_BODY,
    responses=responses(400, 404, 422),
)
def put_mapping(source_id: RowId, body: dict[str, Any], session: SessionDep) -> dict:
    mapping = body.get("mapping", body)
    if not isinstance(mapping, dict) or ("mapping" in body and len(body) > 1):
        raise ValidationFailed({"mapping": 'Send the mapping object, or {"mapping": {...}} and nothing else.'})
    source = sources.update_mapping(session=session, source_id=source_id, mapping=mapping)
    return {"mapping": source.mapping, "effective": mapping_service.effective_mapping(source.mapping)}


class SourcePatch(BaseModel):
    model_config = REQUEST_MODEL_CONFIG
    name: str = Field(pattern=NOT_BLANK, max_length=limits.NAME, description="The source's new name.")


@router.patch(
    "/{source_id}", response_model=SourceOut, summary="Rename a source", responses=responses(400, 404, 409, 422)
)
def rename(source_id: RowId, body: SourcePatch, request: Request, session: SessionDep) -> dict:
    return _out(request, session, sources.rename_source(session=session, source_id=source_id, name=body.name))


@router.delete(
    "/{source_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a source: its URL answers 404, its events stay in the Event Log",
    responses=responses(404, 422),
)
def delete(source_id: RowId, session: SessionDep) -> None:
    sources.delete_source(session=session, source_id=source_id)


class SecurityIn(BaseModel):
    """A blank required_header_value with the same header name keeps the stored value."""

    model_config = REQUEST_MODEL_CONFIG
    signing_enabled: bool
    required_header_name: str = Field(default="", pattern=NO_NUL, max_length=200)
    required_header_value: str = Field(default="", pattern=NO_NUL, max_length=500)


class SecurityOut(SourceOut):
    signing_secret: str | None = None  # only in the answer that turned signing on: it is never shown again


@router.put(
    "/{source_id}/security",
    response_model=SecurityOut,
    summary="Standard Webhooks signing and/or a required header on the webhook URL",
    responses=responses(400, 404, 422),
)
def put_security(source_id: RowId, body: SecurityIn, request: Request, session: SessionDep) -> dict:
    before = sources.get_source(session=session, source_id=source_id).signing_secret
    source = sources.update_security(
        session=session,
        source_id=source_id,
        signing_enabled=body.signing_enabled,
        header_name=body.required_header_name,
        header_value=body.required_header_value,
    )
    new_secret = source.signing_secret if source.signing_secret and source.signing_secret != before else None
    return {**_out(request, session, source), "signing_secret": new_secret}


@router.post(
    "/{source_id}/mapping/preview",
    summary="A mapping (the body's, else the saved one) applied to the source's latest event; saves nothing",
    responses=responses(400, 404, 422),
)
def preview_mapping(source_id: RowId, session: SessionDep, body: dict[str, Any] | None = None) -> dict:
    from humanic_app.services.mapping_preview import preview_mapping as preview

    mapping = None if not body else body.get("mapping", body)
    return preview(session=session, source_id=source_id, mapping=mapping)


@router.post(
    "/{source_id}/send-sample",
    summary="Post PostHog-shaped sample events to the source's own webhook URL (signed, with its header)",
    responses=responses(404, 422),
)
def send_sample(source_id: RowId, session: SessionDep) -> dict:
    from humanic_app.services import sample_sender

    source = sources.get_source(session=session, source_id=source_id)
    header = sources.required_header(source)
    url, secret = _local_webhook_url(source), source.signing_secret
    session.commit()  # the samples come back to this server's webhook, which must not wait for this transaction
    results = sample_sender.send_samples(webhook_url=url, signing_secret=secret, extra_headers=header)
    return {"sent": [{"event": name, "status": code} for name, code in results]}


def _local_webhook_url(source) -> str:
    """The source's URL on this very server (the public URL may be unreachable from here)."""
    import reflex as rx

    from humanic_app.settings import get_settings

    port = rx.config.get_config().backend_port or get_settings().port  # no backend port outside `reflex run`
    return sources.local_webhook_url(port=port, source=source)
