"""PostHog sources: create, find by webhook token, rotate the URL, activate and pause, edit the mapping."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Any, Protocol

from sqlmodel import Session, col, select

from humanic_app.models import Source, SourceStatus, limits
from humanic_app.services import mapping as mapping_service, signing
from humanic_app.services.errors import ValidationFailed, require

WEBHOOK_PATH = "/api/webhooks/posthog/"

ALLOWED_TRANSITIONS = {
    SourceStatus.waiting_for_test_event: {SourceStatus.test_event_received, SourceStatus.active},
    SourceStatus.test_event_received: {SourceStatus.active, SourceStatus.paused},
    SourceStatus.active: {SourceStatus.paused},
    SourceStatus.paused: {SourceStatus.active},
    SourceStatus.deleted: set(),
}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits


def webhook_url(*, base_url: str, source: Source) -> str:
    return base_url.rstrip("/") + WEBHOOK_PATH + source.token


def local_webhook_url(*, port: int, source: Source) -> str:
    """The source's URL on this very server, for samples posted to it (the public URL may not reach it)."""
    return webhook_url(base_url=f"http://127.0.0.1:{port}", source=source)


def required_header(source: Source) -> dict[str, str]:
    """The header the source requires on its webhook, as a sender of samples must send it."""
    return {source.required_header_name: source.required_header_value or ""} if source.required_header_name else {}


def _valid_name(session: Session, name: str, *, renaming: Source | None = None) -> str:
    """A source's name: given, within its limit, and not another live source's (case aside), since two
    sources of one name cannot be told apart in the Event Log, the Dashboard or PostHog."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": "Name the source, e.g. 'Production' or 'Staging'."})
    if len(name) > limits.NAME:
        raise ValidationFailed({"name": limits.too_long(limits.NAME)})
    for other in list_sources(session=session):
        if other.name.casefold() == name.casefold() and other is not renaming:
            raise ValidationFailed(
                {"name": f"A source named “{other.name}” already exists. Pick another name, or rename that one."}
            )
    return name


def create_source(*, session: Session, name: str) -> Source:
    name = _valid_name(session, name)
    token = _new_token()
    source = Source(name=name, token=token, token_hash=hash_token(token), mapping={})
    session.add(source)
    session.flush()
    return source


def list_sources(*, session: Session, include_deleted: bool = False) -> list[Source]:
    stmt = select(Source).order_by(col(Source.id))
    if not include_deleted:
        stmt = stmt.where(col(Source.status) != SourceStatus.deleted)
    return list(session.exec(stmt))


def label(source: Source) -> str:
    """The name the Event Log shows, saying when the source has been deleted."""
    return f"{source.name} (deleted)" if source.status == SourceStatus.deleted else source.name


def rename_source(*, session: Session, source_id: int, name: str) -> Source:
    source = _live(session, source_id)
    source.name = _valid_name(session, name, renaming=source)
    session.add(source)
    session.flush()
    return source


def delete_source(*, session: Session, source_id: int) -> Source:
    """A soft delete: the events it delivered stay in the Event Log under its name; its webhook URL answers 404
    ("source deleted") and no check or list counts it any more. Its name becomes free for a new source."""
    source = _live(session, source_id)
    source.status = SourceStatus.deleted
    session.add(source)
    session.flush()
    return source


def _live(session: Session, source_id: int) -> Source:
    source = get_source(session=session, source_id=source_id)
    if source.status == SourceStatus.deleted:
        raise ValidationFailed({"source": f"The source “{source.name}” has been deleted."})
    return source


def get_source(*, session: Session, source_id: int) -> Source:
    return require(session.get(Source, source_id), noun="source", row_id=source_id)


def find_by_token(*, session: Session, token: str) -> Source | None:
    token_hash = hash_token(token)
    source = session.exec(select(Source).where(Source.token_hash == token_hash)).first()
    if source is None or not hmac.compare_digest(source.token_hash, token_hash):
        return None
    return source


def find_by_previous_token(*, session: Session, token: str) -> Source | None:
    return session.exec(select(Source).where(Source.previous_token_hash == hash_token(token))).first()


def rotate_token(*, session: Session, source_id: int) -> Source:
    """The old URL stops working at once; its hash is kept to recognise PostHog still using it."""
    source = _live(session, source_id)
    token = _new_token()
    source.previous_token_hash = source.token_hash
    source.token = token
    source.token_hash = hash_token(token)
    session.add(source)
    session.flush()
    return source


def set_status(*, session: Session, source_id: int, status: SourceStatus) -> Source:
    source = get_source(session=session, source_id=source_id)
    if status != source.status:
        if status not in ALLOWED_TRANSITIONS[source.status]:
            raise ValidationFailed({"status": f"A source that is {source.status.value} cannot become {status.value}."})
        source.status = status
        session.add(source)
    return source


def update_mapping(*, session: Session, source_id: int, mapping: dict[str, Any]) -> Source:
    source = get_source(session=session, source_id=source_id)
    source.mapping = mapping_service.validate_mapping(mapping)
    session.add(source)
    session.flush()
    return source


def update_security(
    *, session: Session, source_id: int, signing_enabled: bool, header_name: str = "", header_value: str = ""
) -> Source:
    source = get_source(session=session, source_id=source_id)
    if signing_enabled and not source.signing_secret:
        source.signing_secret = signing.new_secret()
    elif not signing_enabled:
        source.signing_secret = None
    header_name, header_value = (header_name or "").strip(), (header_value or "").strip()
    if header_name.lower() == source.required_header_name and not header_value:
        header_value = source.required_header_value or ""  # the value is never shown back: blank keeps it
    if bool(header_name) != bool(header_value):
        raise ValidationFailed({"required_header": "Give both the header name and its value, or neither."})
    source.required_header_name = header_name.lower() or None
    source.required_header_value = header_value or None
    session.add(source)
    return source


class HeaderRule(Protocol):
    """What the header check and masking read of a source: a `Source` row, or intake's `SourceView`."""

    @property
    def required_header_name(self) -> str | None: ...
    @property
    def required_header_value(self) -> str | None: ...


def check_required_header(*, source: HeaderRule, headers: dict[str, str]) -> bool:
    if not source.required_header_name:
        return True
    given = headers.get(source.required_header_name, "")
    return hmac.compare_digest(given.encode(), (source.required_header_value or "").encode())


def mask_headers(
    *, source: HeaderRule | None, headers: dict[str, str], also_secret: Iterable[str] = ()
) -> dict[str, str]:
    """Headers as stored for the Event Log: secrets never kept. `also_secret`: more header names to mask
    (a request to an unknown or rotated URL may carry any source's required header)."""
    secret_names = {"authorization", "cookie", "webhook-signature", "x-api-key", *also_secret}
    if source is not None and source.required_header_name:
        secret_names.add(source.required_header_name)
    return {k: ("•••" if k.lower() in secret_names else v[:500]) for k, v in headers.items()}


def source_as_dict(*, source: Source, base_url: str) -> dict[str, Any]:
    return {
        "id": source.id,
        "name": source.name,
        "status": source.status.value,
        "webhook_url": webhook_url(base_url=base_url, source=source),
        "signing_enabled": bool(source.signing_secret),
        "required_header_name": source.required_header_name,
        "created_at": source.created_at.isoformat(),
        "last_event_at": source.last_event_at.isoformat() if source.last_event_at else None,
    }
