"""Which Resend API key and webhook signing secret are in effect, and from where: the one answer every
part of Humanic asks ("is Resend configured?", "which key does the sender use?", "which secret verifies
Resend's webhook?").

The environment wins (RESEND_API_KEY, RESEND_WEBHOOK_SECRET); otherwise what was set in Settings →
Sending, stored encrypted with Fernet under a key derived from HUMANIC_SECRET_KEY. On the single-machine
SQLite default that secret may instead be generated once into the data directory (mode 0600); on
PostgreSQL, where workers may run on other machines, it must come from the environment, and nothing is
stored without it. A stored value that no longer decrypts (the secret changed) counts as not set."""

from __future__ import annotations

import dataclasses
import enum
import re

from sqlmodel import Session

from humanic_app import clock
from humanic_app.models import KeyAccess, SendingCredentials
from humanic_app.services.errors import ValidationFailed
from humanic_app.services.secret_key import decrypt, encrypt, secrets_storable
from humanic_app.settings import Settings, get_settings

ROW_ID = 1
_KEY_RE = re.compile(r"^re_[A-Za-z0-9_-]{6,200}$")


class Source(str, enum.Enum):
    environment = "environment"
    stored = "stored"
    none = "none"


@dataclasses.dataclass(frozen=True)
class InEffect:
    api_key: str | None = dataclasses.field(repr=False)
    api_key_source: Source
    api_url: str | None
    webhook_secret: str | None = dataclasses.field(repr=False)
    webhook_secret_source: Source

    @property
    def configured(self) -> bool:
        """Sending goes through Resend (otherwise: the local outbox)."""
        return self.api_key is not None


def in_effect(*, session: Session, settings: Settings | None = None) -> InEffect:
    settings = settings or get_settings()
    row = _stored_row(session=session)
    api_key, key_source = _pick(settings.resend_api_key, row.api_key_cipher if row else "", settings)
    secret, secret_source = _pick(settings.resend_webhook_secret, row.webhook_secret_cipher if row else "", settings)
    return InEffect(
        api_key=api_key,
        api_key_source=key_source,
        api_url=settings.resend_api_url,
        webhook_secret=secret,
        webhook_secret_source=secret_source,
    )


def _pick(from_env: str | None, cipher: str, settings: Settings) -> tuple[str | None, Source]:
    if from_env:
        return from_env, Source.environment
    plain = decrypt(cipher, settings) if cipher else None
    return (plain, Source.stored) if plain else (None, Source.none)


def stored(*, session: Session) -> SendingCredentials | None:
    """The row Settings → Sending wrote (its ciphertexts are never shown)."""
    return _stored_row(session=session)


def _stored_row(*, session: Session) -> SendingCredentials | None:
    return session.get(SendingCredentials, ROW_ID)


# --- storing -------------------------------------------------------------------------------------------


def storage_problem(*, settings: Settings | None = None) -> str | None:
    """Why a key cannot be stored here, with what to do; None when it can."""
    if secrets_storable(settings=settings):
        return None
    return (
        "Set HUMANIC_SECRET_KEY (a long random string, the same on every machine) in the environment of the "
        "web and worker processes and restart: on PostgreSQL the key that encrypts stored secrets must come "
        "from the environment. Or set RESEND_API_KEY there instead."
    )


def validate_api_key(api_key: str) -> str:
    key = (api_key or "").strip()
    if not _KEY_RE.match(key):
        raise ValidationFailed({"api_key": "Paste a Resend API key: it starts with re_ (Resend → API Keys)."})
    return key


def store_api_key(
    *, session: Session, api_key: str, access: KeyAccess, settings: Settings | None = None
) -> SendingCredentials:
    """Stores a new key (encrypted), forgetting the webhook registered with the previous one."""
    settings = settings or get_settings()
    _require_storable(settings)
    row = _stored_row(session=session) or SendingCredentials(id=ROW_ID)
    row.api_key_cipher = encrypt(validate_api_key(api_key), settings)
    row.api_key_set_at = clock.now()
    row.key_access = access
    row.key_tested_at = clock.now() if access != KeyAccess.unknown else None
    _forget_webhook(row)
    session.add(row)
    session.flush()
    return row


def record_access(*, session: Session, access: KeyAccess) -> None:
    """What the last Test connection found the stored key may do."""
    row = _stored_row(session=session)
    if row is not None and row.api_key_cipher:
        row.key_access = access
        row.key_tested_at = clock.now()
        session.add(row)


def store_webhook(
    *, session: Session, webhook_id: str, endpoint: str, signing_secret: str, settings: Settings | None = None
) -> SendingCredentials:
    settings = settings or get_settings()
    _require_storable(settings)
    row = _stored_row(session=session) or SendingCredentials(id=ROW_ID)
    row.webhook_id = webhook_id[:100]
    row.webhook_endpoint = endpoint[:600]
    row.webhook_secret_cipher = encrypt(signing_secret, settings)
    row.webhook_registered_at = clock.now()
    session.add(row)
    session.flush()
    return row


def remove(*, session: Session) -> None:
    """Forgets the stored key and webhook secret: sending returns to the local outbox (unless the
    environment sets a key)."""
    row = _stored_row(session=session)
    if row is not None:
        session.delete(row)
        session.flush()


def _forget_webhook(row: SendingCredentials) -> None:
    row.webhook_id = row.webhook_endpoint = row.webhook_secret_cipher = ""
    row.webhook_registered_at = None


def _require_storable(settings: Settings) -> None:
    problem = storage_problem(settings=settings)
    if problem:
        raise ValidationFailed({"api_key": problem})
