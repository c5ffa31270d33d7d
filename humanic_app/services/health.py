"""What /healthz reports."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine


def check_database(*, engine: Engine) -> tuple[bool, str]:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "unreachable" to an operator
        return False, type(exc).__name__
    return True, "ok"
