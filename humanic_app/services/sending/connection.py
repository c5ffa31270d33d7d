"""Settings → Sending: connect a Resend API key, test it, register Humanic's webhook, remove the key.
The same functions serve the page and /api/v1/settings/sending."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from sqlmodel import Session

from humanic_app.models import KeyAccess
from humanic_app.services import workspace
from humanic_app.services.errors import ValidationFailed
from humanic_app.services.sending import credentials, resend_account
from humanic_app.services.sending.credentials import Source
from humanic_app.services.sending.resend_account import CHECK_MESSAGES, KeyCheck
from humanic_app.settings import Settings, get_settings

logger = logging.getLogger(__name__)

ACCESS_OF = {KeyCheck.full: KeyAccess.full, KeyCheck.sending: KeyAccess.sending}
ENV_KEY_NOTE = (
    "RESEND_API_KEY is set in the server's environment and wins over a key set here; "
    "unset it to manage the key on this page."
)
ENV_SECRET_NOTE = "RESEND_WEBHOOK_SECRET is set in the server's environment and verifies Resend's webhook."


@dataclasses.dataclass(frozen=True)
class SendingStatus:
    mode: str  # "resend" or "local_outbox"
    api_key_source: Source
    api_key_set_at: datetime | None
    key_access: KeyAccess
    key_tested_at: datetime | None
    webhook_secret_source: Source
    webhook_endpoint: str
    webhook_registered_at: datetime | None
    can_edit: bool  # False while the environment sets the key
    notes: list[str]  # what the page says about where things come from and what to do


@dataclasses.dataclass(frozen=True)
class TestResult:
    outcome: KeyCheck
    message: str


def status(*, session: Session, settings: Settings | None = None) -> SendingStatus:
    settings = settings or get_settings()
    now_in_effect = credentials.in_effect(session=session, settings=settings)
    row = credentials.stored(session=session)
    stored_key = now_in_effect.api_key_source == Source.stored
    return SendingStatus(
        mode="resend" if now_in_effect.configured else "local_outbox",
        api_key_source=now_in_effect.api_key_source,
        api_key_set_at=row.api_key_set_at if row and stored_key else None,
        key_access=row.key_access if row and stored_key else KeyAccess.unknown,
        key_tested_at=row.key_tested_at if row and stored_key else None,
        webhook_secret_source=now_in_effect.webhook_secret_source,
        webhook_endpoint=row.webhook_endpoint if row and now_in_effect.webhook_secret_source == Source.stored else "",
        webhook_registered_at=(
            row.webhook_registered_at if row and now_in_effect.webhook_secret_source == Source.stored else None
        ),
        can_edit=now_in_effect.api_key_source != Source.environment
        and credentials.storage_problem(settings=settings) is None,
        notes=_notes(session, now_in_effect, row is not None and bool(row.api_key_cipher) and not stored_key, settings),
    )


def _notes(session: Session, now_in_effect: credentials.InEffect, unreadable: bool, settings: Settings) -> list[str]:
    notes = []
    if now_in_effect.api_key_source == Source.environment:
        notes.append(ENV_KEY_NOTE)
    elif problem := credentials.storage_problem(settings=settings):
        notes.append(problem)
    if unreadable and now_in_effect.api_key_source == Source.none:
        notes.append(
            "A key was stored but cannot be read with the current secret key (HUMANIC_SECRET_KEY changed?): "
            "paste it again."
        )
    if now_in_effect.webhook_secret_source == Source.environment:
        notes.append(ENV_SECRET_NOTE)
    elif now_in_effect.configured and now_in_effect.webhook_secret_source == Source.none:
        endpoint = resend_account.webhook_endpoint(_public_url(session, settings) or "https://<your-humanic>")
        notes.append(
            "Resend's delivery events (bounces, complaints) are not received yet: click Register webhook, or add "
            f"the endpoint {endpoint} "
            "in Resend → Webhooks and set its signing secret as RESEND_WEBHOOK_SECRET."
        )
    return notes


def connect(*, session: Session, api_key: str, settings: Settings | None = None) -> tuple[TestResult, str | None]:
    """Tests and stores a pasted key, then registers the webhook when it can. Returns the test result and
    why the webhook was not registered (None when it was). A key Resend refuses is not stored. Resend is
    called before anything is written: no database lock waits on the network."""
    settings = settings or get_settings()
    _require_editable(settings)
    key = credentials.validate_api_key(api_key)
    outcome = resend_account.check_key(api_key=key, api_url=settings.resend_api_url)
    if outcome in (KeyCheck.invalid, KeyCheck.unreachable):
        raise ValidationFailed({"api_key": CHECK_MESSAGES[outcome] + " The key was not saved."})
    registered, problem = _register(session, key, settings)
    credentials.store_api_key(session=session, api_key=key, access=ACCESS_OF[outcome], settings=settings)
    _keep(session, registered, settings)
    logger.info("resend api key stored (%s access)", outcome.value)
    return TestResult(outcome, CHECK_MESSAGES[outcome]), problem


def test_connection(*, session: Session, settings: Settings | None = None) -> TestResult:
    settings = settings or get_settings()
    now_in_effect = credentials.in_effect(session=session, settings=settings)
    if now_in_effect.api_key is None:
        raise ValidationFailed({"api_key": "No Resend key is set: paste one first (sending uses the local outbox)."})
    outcome = resend_account.check_key(api_key=now_in_effect.api_key, api_url=settings.resend_api_url)
    if now_in_effect.api_key_source == Source.stored and outcome in ACCESS_OF:
        credentials.record_access(session=session, access=ACCESS_OF[outcome])
    return TestResult(outcome, CHECK_MESSAGES[outcome])


def register_webhook(*, session: Session, settings: Settings | None = None) -> str | None:
    """Registers Humanic's webhook with the key in effect and stores its signing secret; returns why it
    could not (with what to do instead), or None."""
    settings = settings or get_settings()
    now_in_effect = credentials.in_effect(session=session, settings=settings)
    if now_in_effect.api_key is None:
        return "No Resend key is set: there is no account to register the webhook in."
    registered, problem = _register(session, now_in_effect.api_key, settings)
    _keep(session, registered, settings)
    return problem


def _register(
    session: Session, api_key: str, settings: Settings
) -> tuple[resend_account.Registered | None, str | None]:
    if settings.resend_webhook_secret:
        return None, ENV_SECRET_NOTE + " Humanic did not register another webhook."
    if problem := credentials.storage_problem(settings=settings):
        return None, problem
    try:
        registered = resend_account.register_webhook(
            api_key=api_key, api_url=settings.resend_api_url, public_url=_public_url(session, settings)
        )
    except resend_account.RegistrationFailed as exc:
        return None, str(exc)
    return registered, None


def _keep(session: Session, registered: resend_account.Registered | None, settings: Settings) -> None:
    if registered is None:
        return
    credentials.store_webhook(
        session=session,
        webhook_id=registered.webhook_id,
        endpoint=registered.endpoint,
        signing_secret=registered.signing_secret,
        settings=settings,
    )
    logger.info("resend webhook registered at %s", registered.endpoint)


def disconnect(*, session: Session, settings: Settings | None = None) -> None:
    """Removes the stored key (and unregisters the webhook it registered): back to the local outbox."""
    settings = settings or get_settings()
    if settings.resend_api_key:
        raise ValidationFailed({"api_key": ENV_KEY_NOTE})
    key = credentials.in_effect(session=session, settings=settings).api_key
    row = credentials.stored(session=session)
    if key and row is not None and row.webhook_id:
        resend_account.unregister_webhook(api_key=key, api_url=settings.resend_api_url, webhook_id=row.webhook_id)
    credentials.remove(session=session)
    logger.info("resend api key removed: sending uses the local outbox")


def _require_editable(settings: Settings) -> None:
    if settings.resend_api_key:
        raise ValidationFailed({"api_key": ENV_KEY_NOTE})
    if problem := credentials.storage_problem(settings=settings):
        raise ValidationFailed({"api_key": problem})


def _public_url(session: Session, settings: Settings) -> str:
    return workspace.effective_public_url(
        workspace=workspace.read_workspace(session=session), env_public_url=settings.public_url, served_at=""
    )
