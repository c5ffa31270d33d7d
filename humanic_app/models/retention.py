"""Where pruning got to and what its last run did (services/retention.py): one row."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

RETENTION_STATE_ID = 1


class RetentionState(SQLModel, table=True):
    __tablename__ = "retention_state"

    id: int | None = Field(default=None, primary_key=True)
    # every event up to this id is either pruned or was kept on purpose (not old enough when checked is
    # never recorded here): each run starts after it instead of walking the pruned rows again
    events_pruned_upto: int = Field(default=0)
    last_run_at: datetime | None = None
    last_run_events: int = Field(default=0)
    last_run_delivery_events: int = Field(default=0)
