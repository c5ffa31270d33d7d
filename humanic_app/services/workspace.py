"""Workspace settings: sender identity, footer address, public URL, Active/Paused."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from humanic_app import clock
from humanic_app.models import WORKSPACE_SCOPE, limits
from humanic_app.models.workspace import WORKSPACE_ID, Workspace, WorkspaceStatus
from humanic_app.services import outbox, quiet_hours, reputation, timewindow
from humanic_app.services.auth import EMAIL_RE
from humanic_app.services.errors import ValidationFailed

EDITABLE_FIELDS = (
    "name",
    "from_name",
    "from_email",
    "physical_address",
    "status",
    "public_url",
    "frequency_cap",
    "timezone",
    "retention_days",
    "quiet_hours",
)

RETENTION_DAYS = (1, 3650)  # the bounds of retention_days: a day to ten years


def get_workspace(*, session: Session) -> Workspace:
    """The single workspace row, created with defaults on first use."""
    workspace = session.get(Workspace, WORKSPACE_ID)
    if workspace is None:
        workspace = Workspace(id=WORKSPACE_ID)
        session.add(workspace)
        session.flush()
    return workspace


def from_address(workspace: Workspace) -> str:
    """The From header every email carries ("" until a From address is set)."""
    if not workspace.from_email:
        return ""
    return f"{workspace.from_name} <{workspace.from_email}>" if workspace.from_name else workspace.from_email


def read_workspace(*, session: Session) -> Workspace:
    """The workspace row without writing anything (read-only sessions): defaults until it is first saved."""
    return session.get(Workspace, WORKSPACE_ID) or Workspace(id=WORKSPACE_ID)


_LIMITS = {
    "name": limits.NAME,
    "from_name": limits.NAME,
    "from_email": limits.EMAIL,
    "physical_address": limits.ADDRESS,
    "public_url": limits.URL,
}


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in EDITABLE_FIELDS:
            errors[key] = f"Unknown setting. Editable settings: {', '.join(EDITABLE_FIELDS)}."
            continue
        if key == "frequency_cap":
            try:
                cap = int(value)
            except (TypeError, ValueError):
                cap = -1
            if cap < 0 or cap > 1000 or isinstance(value, bool):
                errors[key] = "A whole number of emails per contact per 24 hours (0 turns the cap off)."
            else:
                cleaned[key] = cap
            continue
        if key == "retention_days":
            low, high = RETENTION_DAYS
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors[key] = f"A whole number of days from {low} to {high}."
            else:
                cleaned[key] = value
            continue
        if key == "quiet_hours":
            try:
                cleaned[key] = quiet_hours.workspace_default(value)
            except ValidationFailed as exc:
                errors.update(exc.field_errors)
            continue
        if key == "timezone":
            if timewindow.zone(value) is None:
                errors[key] = "An IANA timezone name, like Europe/Paris or America/New_York."
            else:
                cleaned[key] = value
            continue
        if key == "status":
            try:
                cleaned[key] = WorkspaceStatus(value)
            except ValueError:
                errors[key] = "Must be 'active' or 'paused'."
            continue
        if not isinstance(value, str):
            errors[key] = "Must be a string."
            continue
        value = value.strip()
        if len(value) > _LIMITS[key]:
            errors[key] = limits.too_long(_LIMITS[key])
        elif key == "name" and not value:
            errors[key] = "The workspace needs a name."
        elif key == "from_email" and value and not EMAIL_RE.match(value):
            errors[key] = "Enter a valid email address, like hello@yourdomain.com."
        elif key == "public_url" and value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                errors[key] = "Enter the full address, like https://humanic.example.com."
            value = value.rstrip("/")
        cleaned[key] = value
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def update_workspace(*, session: Session, changes: dict[str, Any]) -> Workspace:
    cleaned = _clean(changes)
    workspace = get_workspace(session=session)
    for key, value in cleaned.items():
        setattr(workspace, key, value)
    workspace.updated_at = clock.now()
    session.add(workspace)
    session.flush()
    return workspace


def sending_block(*, workspace: Workspace) -> str:
    """Why the provider will not take email right now (its quota ran out), or "" when it will."""
    until = workspace.sending_blocked_until
    return workspace.sending_blocked_reason if until is not None and until > clock.now() else ""


def resume_sending(*, session: Session) -> Workspace:
    """After the Resend plan was upgraded, or the cause of a reputation pause was dealt with: try sending
    again now (a new quota error blocks again; the guardrail counts only events from now on)."""
    workspace = get_workspace(session=session)
    reputation.restart_after_resume(session=session, scope=WORKSPACE_SCOPE)
    if (until := workspace.sending_blocked_until) is not None:  # what the block postponed is due again now
        outbox.release_held(session=session, held_until=until)
    workspace.sending_blocked_until, workspace.sending_blocked_reason = None, ""
    session.add(workspace)
    session.flush()
    return workspace


def workspace_as_dict(workspace: Workspace) -> dict[str, Any]:
    return {
        "name": workspace.name,
        "from_name": workspace.from_name,
        "from_email": workspace.from_email,
        "physical_address": workspace.physical_address,
        "status": workspace.status.value,
        "public_url": workspace.public_url,
        "frequency_cap": workspace.frequency_cap,
        "timezone": workspace.timezone,
        "retention_days": workspace.retention_days,
        "quiet_hours": workspace.quiet_hours,
        "sending_blocked": sending_block(workspace=workspace),
    }


def effective_public_url(*, workspace: Workspace, env_public_url: str | None, served_at: str) -> str:
    """Settings first, then HUMANIC_PUBLIC_URL, then the address the app is being served on."""
    return (workspace.public_url or env_public_url or served_at).rstrip("/")


def links_base_url(*, workspace: Workspace) -> str:
    """The address emails' links (unsubscribe) start with: what the dispatcher sends and activation checks.
    Without a public URL set anywhere it is this machine's, which only the local outbox can live with."""
    from humanic_app.settings import get_settings

    settings = get_settings()
    return effective_public_url(
        workspace=workspace, env_public_url=settings.public_url, served_at=f"http://localhost:{settings.port}"
    )


def served_base_url(*, page_host: str, prod: bool, backend_port: int) -> str:
    """The address webhooks reach this app on, from the page's: the same in production (one port), the
    backend's port in dev mode (`make dev` serves the UI on 3000 and the API and webhooks on 8000)."""
    if prod:
        return page_host
    parts = urlsplit(page_host)
    return parts._replace(netloc=f"{parts.hostname}:{backend_port}").geturl()


def is_private_url(url: str) -> bool:
    """True when PostHog Cloud could not reach this address (localhost, private or link-local IPs)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("", "localhost") or host.endswith(".localhost") or host.endswith(".local"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified
