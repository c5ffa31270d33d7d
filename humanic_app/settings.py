"""One Settings object, read from the environment, shared by the app, the CLI and the tests."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from functools import lru_cache
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

# How long the webhook and /healthz wait for the database before answering 503. PostHog gives up on a
# webhook after 3 s and disables destinations that keep timing out, so an answer must leave well before.
DEFAULT_DB_TIMEOUT_SECONDS = 1.5


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    public_url: str | None
    resend_api_key: str | None
    resend_api_url: str | None
    port: int
    session_ttl_hours: int
    metrics_token: str | None
    workers: str = "embedded"  # embedded: each web process runs its own background worker; external: none
    trusted_proxies: tuple[str, ...] = ()  # addresses/CIDRs whose X-Forwarded-For names the client
    db_timeout_seconds: float = DEFAULT_DB_TIMEOUT_SECONDS
    resend_webhook_secret: str | None = None
    secret_key: str | None = None  # encrypts secrets stored in the database (services/sending/credentials.py)
    dns_nameservers: tuple[str, ...] = ()  # the DMARC check's resolvers (ip or ip:port); () = the system's

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _normalise_database_url(url: str) -> str:
    """Accept the URLs operators paste (postgres://, postgresql://) and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


WORKER_MODES = ("embedded", "external")


def _workers_mode(value: str | None) -> str:
    mode = (value or "embedded").strip().lower()
    if mode not in WORKER_MODES:
        raise ValueError(f"HUMANIC_WORKERS must be one of {', '.join(WORKER_MODES)}, not {value!r}")
    return mode


def _trusted_proxies(value: str | None) -> tuple[str, ...]:
    proxies = tuple(p.strip() for p in (value or "").split(",") if p.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ValueError(f"HUMANIC_TRUSTED_PROXIES: {proxy!r} is not an address or CIDR range") from None
    return proxies


def _positive_seconds(name: str, value: str | None, default: float) -> float:
    seconds = float(value) if value else default
    if not seconds > 0:
        raise ValueError(f"{name} must be a number of seconds above 0, not {value!r}")
    return seconds


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("HUMANIC_DATA_DIR") or PROJECT_DIR / "data").resolve()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'humanic.db'}"
    return Settings(
        data_dir=data_dir,
        database_url=_normalise_database_url(database_url),
        redis_url=env.get("REFLEX_REDIS_URL") or None,
        public_url=(env.get("HUMANIC_PUBLIC_URL") or "").rstrip("/") or None,
        resend_api_key=env.get("RESEND_API_KEY") or None,
        resend_api_url=env.get("RESEND_API_URL") or None,
        resend_webhook_secret=env.get("RESEND_WEBHOOK_SECRET") or None,
        secret_key=env.get("HUMANIC_SECRET_KEY") or None,
        port=int(env.get("PORT") or 3000),
        session_ttl_hours=int(env.get("HUMANIC_SESSION_TTL_HOURS") or 24 * 14),
        metrics_token=env.get("HUMANIC_METRICS_TOKEN") or None,
        workers=_workers_mode(env.get("HUMANIC_WORKERS")),
        trusted_proxies=_trusted_proxies(env.get("HUMANIC_TRUSTED_PROXIES")),
        db_timeout_seconds=_positive_seconds(
            "HUMANIC_DB_TIMEOUT_SECONDS", env.get("HUMANIC_DB_TIMEOUT_SECONDS"), DEFAULT_DB_TIMEOUT_SECONDS
        ),
        dns_nameservers=tuple(s.strip() for s in (env.get("HUMANIC_DNS_NAMESERVERS") or "").split(",") if s.strip()),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
