"""Leases: a named right, held by one process until it expires. Periodic jobs take the job's lease for
one period before running, so however many workers a deployment runs, each job runs once per period.

Acquiring is one conditional write (insert if absent, else update if expired or already ours), atomic on
SQLite and PostgreSQL alike; the caller commits it before doing the work. Expiry is judged on the app's
clock, so the hosts of one deployment need synchronised clocks (NTP), as the outbox's leases already do.

A process also reports a condition that lasts only as long as it does with a lease of its own name
(delivery/pacing.py: "this worker paces its sends locally"): renewed while it holds, released when it
ends, and gone by itself when the process dies.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Lease


def process_holder() -> str:
    """A name for this process that no other process, here or on another host, has."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def try_acquire(*, session: Session, name: str, holder: str, ttl: timedelta) -> bool:
    """Takes (or renews) the lease `name` until now + ttl when it is free, expired or already `holder`'s.
    Returns whether `holder` now has it."""
    now = clock.now()
    taken = cast(
        CursorResult[Any],
        session.execute(
            update(Lease)
            .where(  # an UPDATE's result is a CursorResult
                col(Lease.name) == name, or_(col(Lease.holder) == holder, col(Lease.expires_at) <= now)
            )
            .values(holder=holder, expires_at=now + ttl)
        ),
    )
    if taken.rowcount:
        return True
    if session.exec(select(Lease.name).where(Lease.name == name)).first() is not None:
        return False  # someone else holds it
    savepoint = session.begin_nested()
    try:
        session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        session.flush()
        savepoint.commit()
    except IntegrityError:  # another process created it first: it is theirs
        savepoint.rollback()
        return False
    return True


def release(*, session: Session, name: str, holder: str) -> None:
    """Gives the lease `name` up if `holder` has it."""
    session.execute(delete(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder))


def count_held(*, session: Session, prefix: str) -> int:
    """How many unexpired leases have a name starting with `prefix`."""
    return session.exec(
        select(func.count())
        .select_from(Lease)
        .where(col(Lease.name).startswith(prefix), Lease.expires_at > clock.now())
    ).one()
