"""The operator's secret: HUMANIC_SECRET_KEY, or on the single-machine SQLite default one generated once into
the data directory (mode 0600). It keys what must not be readable from the database alone: the stored Resend
secrets (sending/credentials.py) and the salted hashes of erased contacts' addresses (suppression.py)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

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
