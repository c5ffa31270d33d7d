"""GET/PUT /api/v1/settings: the workspace settings."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from fastapi import APIRouter

from humanic_app.api.deps import SessionDep
from humanic_app.services import workspace as workspace_service

router = APIRouter(tags=["settings"])


class SettingsOut(BaseModel):
    name: str
    from_name: str
    from_email: str
    physical_address: str
    status: Literal["active", "paused"]
    public_url: str
    frequency_cap: int
    sending_blocked: str  # why the provider refuses email right now (quota), or ""


class SettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    from_name: str | None = None
    from_email: str | None = None
    physical_address: str | None = None
    status: Literal["active", "paused"] | None = None
    public_url: str | None = None
    frequency_cap: int | None = None


@router.get("/settings", response_model=SettingsOut, summary="Read the workspace settings")
def read_settings(session: SessionDep) -> dict:
    return workspace_service.workspace_as_dict(workspace_service.get_workspace(session=session))


@router.put("/settings", response_model=SettingsOut, summary="Change some or all workspace settings")
def update_settings(body: SettingsUpdate, session: SessionDep) -> dict:
    workspace = workspace_service.update_workspace(session=session, changes=body.model_dump(exclude_unset=True))
    return workspace_service.workspace_as_dict(workspace)


@router.post("/settings/resume-sending", response_model=SettingsOut,
             summary="Send again after the provider's quota ran out (e.g. the plan was upgraded)")
def resume_sending(session: SessionDep) -> dict:
    return workspace_service.workspace_as_dict(workspace_service.resume_sending(session=session))
