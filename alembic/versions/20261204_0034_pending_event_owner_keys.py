"""the email and person id of events pending at the upgrade

Intake stores each event's email and PostHog person id (0032) so that a PostgreSQL partition pass can see
in SQL that another partition's pending event would merge a contact of its own. Events still pending when
0032 was applied have none: this reads them from the payload, with the source's mapping, by the rule intake
and processing use (`mapping.owner_keys`), so nothing has to drain before an upgrade. Only pending events
are read (processed ones are never routed again), and only on PostgreSQL (SQLite has no partition passes:
its intake leaves both empty). They are read a thousand at a time, skipping the rows a running pass has
claimed: that pass is processing them, and waiting for it could deadlock with the locks the upgrade holds.
The rule is the app's own, imported, not a copy: were it to change, an upgrade from before 0032 follows it.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from humanic_app.services.mapping import owner_keys


revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENT = sa.table(
    "event",
    sa.column("id", sa.Integer),
    sa.column("source_id", sa.Integer),
    sa.column("outcome", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("email", sa.String),
    sa.column("person_id", sa.String),
)
_SOURCE = sa.table("source", sa.column("id", sa.Integer), sa.column("mapping", sa.JSON))
_UNKEYED = (
    sa.select(_EVENT.c.id, _EVENT.c.payload, _SOURCE.c.mapping)
    .outerjoin(_SOURCE, _SOURCE.c.id == _EVENT.c.source_id)
    .where(
        _EVENT.c.outcome == "pending",
        _EVENT.c.email.is_(None),
        _EVENT.c.person_id.is_(None),
        _EVENT.c.payload.is_not(None),
    )
)
_SET_KEYS = (
    sa.update(_EVENT)
    .where(_EVENT.c.id == sa.bindparam("_id"))
    .values(email=sa.bindparam("_email"), person_id=sa.bindparam("_person_id"))
)


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    claimable = _UNKEYED.with_for_update(of=_EVENT, skip_locked=True)
    for chunk in connection.execute(claimable.execution_options(yield_per=1000)).partitions():
        rows = []
        for event_id, payload, mapping in chunk:
            email, person_id = owner_keys(payload if isinstance(payload, dict) else {}, mapping or None)
            if email or person_id:
                rows.append({"_id": event_id, "_email": email, "_person_id": person_id})
        if rows:
            connection.execute(_SET_KEYS, rows)


def downgrade() -> None:
    """Nothing to undo: the keys are what intake would have stored."""
