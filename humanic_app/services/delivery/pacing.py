"""Which worker processes pace their sends locally because Redis is unreachable (rate_limit.py's fallback),
for Pipeline health. Each says so with a lease of its own, `local-pacing/<holder>`, renewed while the
fallback lasts and given up when Redis answers again; a worker that dies stops saying it within TTL."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from humanic_app.services import leases

PREFIX = "local-pacing/"
TTL = timedelta(minutes=2)
RENEW_EVERY = timedelta(seconds=30)


def report(*, session: Session, holder: str, local: bool) -> None:
    name = f"{PREFIX}{holder}"[:100]
    if local:
        leases.try_acquire(session=session, name=name, holder=holder, ttl=TTL)
    else:
        leases.release(session=session, name=name, holder=holder)


def workers_pacing_locally(*, session: Session) -> int:
    return leases.count_held(session=session, prefix=PREFIX)
