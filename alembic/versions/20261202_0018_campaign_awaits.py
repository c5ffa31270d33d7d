"""campaign.awaits

Every (event, match) a campaign's wait_for nodes have awaited in any saved version, so an event still finds
contacts waiting under a version an edit has since replaced. Filled from each campaign's current document.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("awaits", sa.JSON(), nullable=False, server_default="[]"))
    campaign = sa.table(
        "campaign", sa.column("id", sa.Integer), sa.column("definition", sa.JSON), sa.column("awaits", sa.JSON)
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(campaign.c.id, campaign.c.definition)).all():
        awaits = []
        for step in (row.definition or {}).get("steps") or []:
            entry = {"event": step.get("event"), "match": list(step.get("match") or [])}
            if step.get("type") == "wait_for" and entry not in awaits:
                awaits.append(entry)
        if awaits:
            connection.execute(sa.update(campaign).where(campaign.c.id == row.id).values(awaits=awaits))


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("awaits")
