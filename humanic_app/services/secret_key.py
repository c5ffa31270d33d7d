"""The operator's secret: HUMANIC_SECRET_KEY, or on the single-machine SQLite default one generated once into
the data directory (mode 0600). It keys what must not be readable from the database alone: the stored Resend
secrets (sending/credentials.py), the PostHog project key (posthog/connection.py) and the salted hashes of
erased contacts' addresses (suppression.py)."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from humanic_app.settings import Settings, get_settings

SECRET_FILE = "secret_key"


def operator_secret(settings: Settings | None = None, *, create: bool) -> str | None:
    """None on PostgreSQL without HUMANIC_SECRET_KEY, or on SQLite before anything needed one (`create`)."""
    settings = settings or get_settings()
    if settings.secret_key:
        return settings.secret_key
    if not settings.is_sqlite:
        return None
    path = settings.data_dir / SECRET_FILE
    if not path.exists() and create:
        _write_secret_once(path)
    return path.read_text().strip() if path.exists() else None


def _write_secret_once(path: Path) -> None:
    """Written whole under a temporary name, then linked into place: two processes racing here both end up
    reading the one that won, never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def secrets_storable(*, settings: Settings | None = None) -> bool:
    """Whether a secret set in the UI can be stored encrypted here (PostgreSQL needs HUMANIC_SECRET_KEY)."""
    settings = settings or get_settings()
    return bool(settings.secret_key or settings.is_sqlite)


# --- sealing stored secrets (the Resend key and webhook secret, the PostHog project key) ------------------


def encrypt(plain: str, settings: Settings) -> str:
    return _fernet(operator_secret(settings, create=True)).encrypt(plain.encode()).decode()


def decrypt(cipher: str, settings: Settings) -> str | None:
    secret = operator_secret(settings, create=False)
    return _decrypt_with(cipher, secret) if secret else None


@functools.lru_cache(maxsize=32)
def _decrypt_with(cipher: str, secret: str) -> str | None:
    """Cached: the dispatcher asks for the key in effect on every pass."""
    try:
        return _fernet(secret).decrypt(cipher.encode()).decode()
    except InvalidToken:
        return None


@functools.lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    # Any string the operator chose becomes a 32-byte Fernet key; the label keeps it for this use only.
    digest = hashlib.sha256(b"humanic/sending-credentials\0" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))
