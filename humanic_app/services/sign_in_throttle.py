"""Growing delays between failed sign-in attempts, per account and per client address.

A guess costs an Argon2 hash, so unlimited attempts let a script both guess passwords and load the CPU.
After `FREE_FAILURES` failures on a key, the next attempt on it must wait 1 s, then 2 s, 4 s … up to
`MAX_DELAY`: a delay, never a lock-out, so nobody can lock a real user out by failing on their behalf.
Counts live in the database, so every web worker shares them; a key is forgotten `FORGET_AFTER` its last
failure. Keys are stored as SHA-256 hashes: the table never holds the emails or addresses themselves.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from humanic_app import clock
from humanic_app.models import SignInAttempt

FREE_FAILURES = 5
MAX_DELAY = timedelta(seconds=60)
FORGET_AFTER = timedelta(minutes=15)


def account_key(email: str) -> str:
    return hashlib.sha256(f"account:{(email or '').strip().lower()}".encode()).hexdigest()


def address_key(address: str) -> str:
    return hashlib.sha256(f"address:{address}".encode()).hexdigest()


def delay_after(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_DELAY, timedelta(seconds=2 ** (failures - FREE_FAILURES)))


def wait_seconds(*, session: Session, keys: Sequence[str]) -> int:
    """Whole seconds before any of `keys` may try again; 0 when all may now. One indexed read, no hashing."""
    latest = session.exec(select(SignInAttempt.next_allowed_at).where(col(SignInAttempt.key).in_(keys))).all()
    remaining = max([(at - clock.now()).total_seconds() for at in latest] + [0.0])
    return math.ceil(remaining)


def record_failure(*, session: Session, keys: Iterable[str]) -> None:
    """Counts one failure on each key and pushes its next allowed attempt back. Concurrent failures from
    other workers are all counted: the database does the increment."""
    now = clock.now()
    for key in keys:
        session.execute(
            update(SignInAttempt)
            .where(col(SignInAttempt.key) == key, col(SignInAttempt.last_failure_at) <= now - FORGET_AFTER)
            .values(failures=0)
        )
        if not _increment(session=session, key=key, now=now) and not _insert_first_failure(
            session=session, key=key, now=now
        ):
            _increment(session=session, key=key, now=now)  # another worker inserted the key meanwhile
        failures = session.exec(select(SignInAttempt.failures).where(SignInAttempt.key == key)).one()
        session.execute(
            update(SignInAttempt)
            .where(col(SignInAttempt.key) == key)
            .values(next_allowed_at=now + delay_after(failures))
        )


def _increment(*, session: Session, key: str, now: datetime) -> bool:
    """False when the key has no row yet."""
    counted: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # an UPDATE's result has rowcount
        update(SignInAttempt)
        .where(col(SignInAttempt.key) == key)
        .values(failures=SignInAttempt.failures + 1, last_failure_at=now)
    )
    return bool(counted.rowcount)


def _insert_first_failure(*, session: Session, key: str, now: datetime) -> bool:
    """False when another worker inserted the key first (the caller then counts on its row)."""
    savepoint = session.begin_nested()
    try:
        session.add(SignInAttempt(key=key, failures=1, last_failure_at=now, next_allowed_at=now))
        session.flush()
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        return False
    return True


def forget(*, session: Session, keys: Iterable[str]) -> None:
    """A successful sign-in clears its account's count: the password was known."""
    session.execute(delete(SignInAttempt).where(col(SignInAttempt.key).in_(list(keys))))


def purge_forgotten(*, session: Session) -> int:
    """Deletes keys whose last failure is older than FORGET_AFTER: they delay nothing any more."""
    gone: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # a DELETE's result has rowcount
        delete(SignInAttempt).where(col(SignInAttempt.last_failure_at) <= clock.now() - FORGET_AFTER)
    )
    return gone.rowcount or 0


def client_address(*, peer: str, forwarded_for: str, trusted_proxies: Sequence[str]) -> str:
    """The address a request came from. `X-Forwarded-For` is believed only when the direct peer is a trusted
    proxy; then its entries are read from the right (those nearest to us), skipping trusted proxies, and the
    first other one is the client. Anyone can write that header, so without a trusted peer it is ignored."""
    networks = [ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies]
    if not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


def _is_trusted(address: str, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
