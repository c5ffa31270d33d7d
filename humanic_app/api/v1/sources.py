"""/api/v1/sources: PostHog sources, their webhook URLs, status and field mapping."""

from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict

from humanic_app.api.deps import SessionDep, public_base_url
from humanic_app.models import SourceStatus
from humanic_app.services import mapping as mapping_service
from humanic_app.services import sources

router = APIRouter(prefix="/sources", tags=["sources"])


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


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


def _out(request: Request, session, source) -> dict:
    return sources.source_as_dict(source=source, base_url=public_base_url(request, session))


@router.post("", response_model=SourceOut, status_code=status.HTTP_201_CREATED, summary="Create a source")
def create_source(body: SourceIn, request: Request, session: SessionDep) -> dict:
    return _out(request, session, sources.create_source(session=session, name=body.name))


@router.get("", response_model=list[SourceOut], summary="List sources")
def list_sources(request: Request, session: SessionDep) -> list[dict]:
    return [_out(request, session, s) for s in sources.list_sources(session=session)]


@router.get("/{source_id}", response_model=SourceOut, summary="One source")
def get_source(source_id: int, request: Request, session: SessionDep) -> dict:
    return _out(request, session, sources.get_source(session=session, source_id=source_id))


@router.post("/{source_id}/rotate", response_model=SourceOut, summary="Regenerate the webhook URL")
def rotate(source_id: int, request: Request, session: SessionDep) -> dict:
    return _out(request, session, sources.rotate_token(session=session, source_id=source_id))


@router.post("/{source_id}/activate", response_model=SourceOut, summary="Activate: matching events fire campaigns")
def activate(source_id: int, request: Request, session: SessionDep) -> dict:
    return _out(request, session, sources.set_status(session=session, source_id=source_id,
                                                     status=SourceStatus.active))


@router.post("/{source_id}/pause", response_model=SourceOut, summary="Pause: events are stored, nothing fires")
def pause(source_id: int, request: Request, session: SessionDep) -> dict:
    return _out(request, session, sources.set_status(session=session, source_id=source_id,
                                                     status=SourceStatus.paused))


@router.get("/{source_id}/mapping", response_model=MappingOut, summary="The source's field mapping")
def get_mapping(source_id: int, session: SessionDep) -> dict:
    source = sources.get_source(session=session, source_id=source_id)
    return {"mapping": source.mapping, "effective": mapping_service.effective_mapping(source.mapping)}


@router.put("/{source_id}/mapping", response_model=MappingOut, summary="Replace the source's field mapping")
def put_mapping(source_id: int, body: dict[str, Any], session: SessionDep) -> dict:
    source = sources.update_mapping(session=session, source_id=source_id, mapping=body.get("mapping", body))
    return {"mapping": source.mapping, "effective": mapping_service.effective_mapping(source.mapping)}
