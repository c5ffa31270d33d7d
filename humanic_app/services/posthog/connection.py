"""Settings → PostHog: where engagement is written back (US cloud, EU cloud or a self-hosted URL), the
project API key (write-only: stored encrypted like the Resend key, secret_key.py, and
never shown back) and the kinds written. Off until a host and key are set."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import PosthogCapture, PosthogConnection
from humanic_app.services import secret_key
from humanic_app.services.errors import ValidationFailed
from humanic_app.services.posthog.capture import CONNECTION_ROW, EVENTS, KINDS
from humanic_app.settings import Settings, get_settings

CLOUD_HOSTS = {"us": "https://us.i.posthog.com", "eu": "https://eu.i.posthog.com"}
_KEY_RE = re.compile(r"^phc_[A-Za-z0-9_-]{10,200}$")
_PERSONAL_KEY_RE = re.compile(r"^phx_[A-Za-z0-9_-]{10,200}$")
_PROJECT_ID_RE = re.compile(r"^[0-9]{1,20}$")
PULL_DEFAULT_S, PULL_MIN_S, PULL_MAX_S = 30, 10, 3600  # pull-only mode's poll interval
# PostHog's app hosts, which do not take events: the ingestion host has an `.i.` in it
_APP_HOSTS = {"us.posthog.com": "us", "app.posthog.com": "us", "eu.posthog.com": "eu"}


@dataclasses.dataclass(frozen=True)
class Status:
    enabled: bool
    host: str
    region: str  # "us", "eu", "custom", or "" before a host is set
    api_key_set: bool
    api_key_set_at: datetime | None
    kinds: list[str]
    can_edit: bool
    notes: list[str]
    backlog: int  # captures waiting to be written
    last_sent_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    next_attempt_at: datetime | None  # while backing off after a failure
    personal_api_key_set: bool  # backfill's key (query read scope); never shown back
    personal_api_key_set_at: datetime | None
    project_id: str
    pull_enabled: bool  # pull-only mode: events polled from the query API (services/posthog_pull.py)
    pull_interval_seconds: int
    pull_cursor: datetime | None  # events up to here (less the overlap) were read
    pull_last_at: datetime | None
    pull_last_pulled: int
    pull_failures: int  # failed polls in a row
    pull_last_error: str
    pull_last_error_at: datetime | None


def row(*, session: Session) -> PosthogConnection | None:
    return session.get(PosthogConnection, CONNECTION_ROW)


def api_key(found: PosthogConnection, settings: Settings | None = None) -> str | None:
    """The stored key, decrypted; None when it no longer decrypts (HUMANIC_SECRET_KEY changed)."""
    if not found.api_key_cipher:
        return None
    return secret_key.decrypt(found.api_key_cipher, settings or get_settings())


def personal_api_key(found: PosthogConnection, settings: Settings | None = None) -> str | None:
    """Backfill's key, decrypted; None when unset or no longer readable."""
    if not found.personal_api_key_cipher:
        return None
    return secret_key.decrypt(found.personal_api_key_cipher, settings or get_settings())


def app_host(host: str) -> str:
    """Where PostHog's query API answers: the cloud's app host (us.posthog.com), not its ingestion host
    (us.i.posthog.com); a self-hosted instance serves both on one address."""
    for region, url in CLOUD_HOSTS.items():
        if url == host:
            return f"https://{region}.posthog.com"
    return host


def backlog(*, session: Session) -> tuple[int, datetime | None]:
    """Captures not written yet, and the oldest one's time."""
    count, oldest = session.exec(
        select(func.count(), func.min(PosthogCapture.created_at)).where(col(PosthogCapture.sent_at).is_(None))
    ).one()
    return int(count), oldest


def status(*, session: Session, settings: Settings | None = None) -> Status:
    settings = settings or get_settings()
    found = row(session=session)
    key_ok = found is not None and api_key(found, settings) is not None
    notes = []
    if not secret_key.secrets_storable(settings=settings):
        notes.append(_storage_problem())
    elif found is not None and found.api_key_cipher and not key_ok:
        notes.append("The stored project API key cannot be read (HUMANIC_SECRET_KEY changed): paste it again.")
    personal_ok = found is not None and personal_api_key(found, settings) is not None
    if found is not None and found.personal_api_key_cipher and not personal_ok:
        notes.append("The stored personal API key cannot be read (HUMANIC_SECRET_KEY changed): paste it again.")
    host = found.host if found else ""
    return Status(
        enabled=bool(host and key_ok),
        host=host,
        region=region_of(host),
        api_key_set=key_ok,
        api_key_set_at=found.api_key_set_at if found else None,
        kinds=[k for k in KINDS if k in found.kinds] if found else list(KINDS),
        can_edit=secret_key.secrets_storable(settings=settings),
        notes=notes,
        backlog=backlog(session=session)[0],
        last_sent_at=found.last_sent_at if found else None,
        last_error=found.last_error if found else "",
        last_error_at=found.last_error_at if found else None,
        next_attempt_at=found.next_attempt_at if found else None,
        personal_api_key_set=personal_ok,
        personal_api_key_set_at=found.personal_api_key_set_at if found else None,
        project_id=found.project_id if found else "",
        **_pull_status(found),
    )


def _pull_status(found: PosthogConnection | None) -> dict[str, Any]:
    return {
        "pull_enabled": bool(found and found.pull_enabled),
        "pull_interval_seconds": found.pull_interval_s if found else PULL_DEFAULT_S,
        "pull_cursor": found.pull_cursor if found else None,
        "pull_last_at": found.pull_last_at if found else None,
        "pull_last_pulled": found.pull_last_pulled if found else 0,
        "pull_failures": found.pull_failures if found else 0,
        "pull_last_error": found.pull_last_error if found else "",
        "pull_last_error_at": found.pull_last_error_at if found else None,
    }


def region_of(host: str) -> str:
    if not host:
        return ""
    return next((name for name, url in CLOUD_HOSTS.items() if url == host), "custom")


def _storage_problem() -> str:
    return (
        "Set HUMANIC_SECRET_KEY (a long random string, the same on every machine) in the environment of the "
        "web and worker processes and restart: on PostgreSQL the key that encrypts stored secrets must come "
        "from the environment."
    )


def validate_host(host: str) -> str:
    """'us', 'eu' or an http(s) URL (a self-hosted instance) → the base URL events are posted under."""
    text = (host or "").strip()
    if text.lower() in CLOUD_HOSTS:
        return CLOUD_HOSTS[text.lower()]
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValidationFailed(
            {
                "host": "Choose US or EU cloud, or paste your self-hosted PostHog's address, like https://posthog.example.com."
            }
        )
    cloud = _APP_HOSTS.get(parts.hostname.lower())
    if cloud:
        raise ValidationFailed(
            {
                "host": f"{parts.hostname} is PostHog's app, which takes no events: choose {cloud.upper()} cloud "
                f"({CLOUD_HOSTS[cloud]})."
            }
        )
    return text.rstrip("/")


def validate_api_key(key: str) -> str:
    text = (key or "").strip()
    if text.startswith("phx_"):
        raise ValidationFailed(
            {
                "api_key": "That is a personal API key (phx_…): paste the project API key instead (phc_…, PostHog → "
                "Project settings → Project API key)."
            }
        )
    if not _KEY_RE.match(text):
        raise ValidationFailed(
            {"api_key": "Paste the project API key: it starts with phc_ (PostHog → Project settings)."}
        )
    return text


def validate_personal_api_key(key: str) -> str:
    text = (key or "").strip()
    if text.startswith("phc_"):
        raise ValidationFailed(
            {
                "personal_api_key": "That is the project API key (phc_…): paste a personal API key (phx_…, PostHog "
                "→ Settings → Personal API keys) with the Query Read scope."
            }
        )
    if not _PERSONAL_KEY_RE.match(text):
        raise ValidationFailed(
            {
                "personal_api_key": "Paste a personal API key: it starts with phx_ (PostHog → Settings → Personal "
                "API keys)."
            }
        )
    return text


def validate_project_id(project_id: str) -> str:
    text = (project_id or "").strip()
    if not _PROJECT_ID_RE.match(text):
        raise ValidationFailed(
            {"project_id": "The project id is a number (PostHog → Project settings → Project ID), like 12345."}
        )
    return text


def validate_pull_interval(seconds: Any) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not PULL_MIN_S <= seconds <= PULL_MAX_S:
        raise ValidationFailed(
            {"pull_interval_seconds": f"Poll every {PULL_MIN_S} to {PULL_MAX_S} seconds (whole seconds)."}
        )
    return seconds


def _pull_errors(found: PosthogConnection | None, checked: dict[str, Any]) -> dict[str, str]:
    """Pulling needs the query API: a personal API key and a project id, given now or stored."""
    if not checked.get("pull_enabled"):
        return {}
    errors = {}
    if "personal_api_key" not in checked and not (found and found.personal_api_key_cipher):
        errors["personal_api_key"] = "Pulling events needs a personal API key with the Query Read scope (phx_…)."
    if "project_id" not in checked and not (found and found.project_id):
        errors["project_id"] = "Pulling events needs the PostHog project id."
    return errors


def _queries_only(found: PosthogConnection | None, checked: dict[str, Any]) -> bool:
    """A connection with a personal API key serves the query API (backfill, pull-only mode): it needs no
    project key, and write-back stays off without one. Turning pulling on asks for that key itself."""
    return (
        "personal_api_key" in checked
        or bool(checked.get("pull_enabled"))
        or bool(found and found.personal_api_key_cipher)
    )


def _access_only(given: dict[str, Any]) -> bool:
    """Only the API access (personal key, project id) given: it may be set before the host and without a
    project key, since what reads PostHog with it (backfill, pulling, cohorts) asks for the host when it runs."""
    named = {field for field, value in given.items() if value is not None}
    return bool(named) and named <= {"personal_api_key", "project_id"}


def _apply_pull(found: PosthogConnection, checked: dict[str, Any]) -> None:
    if "pull_interval_s" in checked:
        found.pull_interval_s = checked["pull_interval_s"]
    if "pull_enabled" in checked and checked["pull_enabled"] != found.pull_enabled:
        found.pull_enabled = checked["pull_enabled"]
        found.pull_failures, found.pull_last_error = 0, ""
        if not found.pull_enabled:
            found.pull_cursor = None  # turned on again later, it starts from then, not from a stale cursor


def _required(found: PosthogConnection | None, checked: dict[str, Any], *, access_only: bool) -> dict[str, str]:
    """A host, and a project key unless the connection serves queries only, given now or stored; the API
    access saved on its own needs neither."""
    if access_only:
        return {}
    errors = {}
    if "host" not in checked and not (found and found.host):
        errors["host"] = "Choose where your PostHog is."
    if "api_key" not in checked and not (found and found.api_key_cipher) and not _queries_only(found, checked):
        errors["api_key"] = "Paste the project API key (phc_…)."
    return errors


def validate_kinds(kinds: Any) -> list[str]:
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise ValidationFailed({"kinds": "A list of kinds: " + ", ".join(KINDS) + "."})
    unknown = [k for k in kinds if k not in EVENTS]
    if unknown:
        raise ValidationFailed({"kinds": f"No kind {unknown[0]!r}; the kinds are " + ", ".join(KINDS) + "."})
    return [k for k in KINDS if k in kinds]


def save(
    *,
    session: Session,
    host: str | None = None,
    api_key: str | None = None,
    kinds: list[str] | None = None,
    personal_api_key: str | None = None,
    project_id: str | None = None,
    pull_enabled: bool | None = None,
    pull_interval_seconds: int | None = None,
    settings: Settings | None = None,
) -> PosthogConnection:
    """Changes what is given; an omitted or blank key keeps the stored one. Every refusal at once, per field.
    A new host or key clears the backoff, so the next run tries at once."""
    settings = settings or get_settings()
    found = row(session=session)
    errors: dict[str, str] = {}
    checked: dict[str, Any] = {}
    for field, value, check in (
        ("host", host, validate_host),
        ("api_key", api_key, validate_api_key),
        ("personal_api_key", personal_api_key, validate_personal_api_key),
        ("project_id", project_id, validate_project_id),
    ):
        if value is not None and (field in ("host", "project_id") or value.strip()):
            try:
                checked[field] = check(value)
            except ValidationFailed as exc:
                errors.update(exc.field_errors)
    if kinds is not None:
        try:
            checked["kinds"] = validate_kinds(kinds)
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
    if pull_interval_seconds is not None:
        try:
            checked["pull_interval_s"] = validate_pull_interval(pull_interval_seconds)
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
    if pull_enabled is not None:
        checked["pull_enabled"] = bool(pull_enabled)
    errors.update({k: v for k, v in _pull_errors(found, checked).items() if k not in errors})
    for secret in ("api_key", "personal_api_key"):
        if secret in checked and not secret_key.secrets_storable(settings=settings):
            errors[secret] = _storage_problem()
    given = dict(host=host, api_key=api_key, kinds=kinds, personal_api_key=personal_api_key, project_id=project_id)
    access_only = _access_only({**given, "pull_enabled": pull_enabled, "pull_interval_s": pull_interval_seconds})
    errors.update({k: v for k, v in _required(found, checked, access_only=access_only).items() if k not in errors})
    if errors:
        raise ValidationFailed(errors)
    found = found or PosthogConnection(id=CONNECTION_ROW, kinds=list(KINDS))
    if "host" in checked:
        found.host = checked["host"]
    if "api_key" in checked:
        found.api_key_cipher = secret_key.encrypt(checked["api_key"], settings)
        found.api_key_set_at = clock.now()
    if "kinds" in checked:
        found.kinds = checked["kinds"]
    if "personal_api_key" in checked:
        found.personal_api_key_cipher = secret_key.encrypt(checked["personal_api_key"], settings)
        found.personal_api_key_set_at = clock.now()
    if "project_id" in checked:
        found.project_id = checked["project_id"]
    if "host" in checked or "api_key" in checked:
        found.failures, found.next_attempt_at = 0, None
    _apply_pull(found, checked)
    session.add(found)
    session.flush()
    return found


def remove(*, session: Session) -> None:
    """Stops writing back: forgets the host and key, and the captures still waiting."""
    found = row(session=session)
    if found is not None:
        session.delete(found)
    session.execute(delete(PosthogCapture).where(col(PosthogCapture.sent_at).is_(None)))
    session.flush()


def status_as_dict(found: Status) -> dict[str, Any]:
    return dataclasses.asdict(found)


def retry_after_seconds(value: str | None) -> float | None:
    """PostHog's Retry-After as seconds (never negative), or None when absent or not a number (an HTTP
    date): what each caller then assumes is its own."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
