"""The typed helpers over SQLModel rows: a stored row's id, and a table model's Core table."""

from __future__ import annotations

import pytest
from sqlalchemy import Table

from humanic_app.models import Campaign, Event
from humanic_app.models.rows import id_of, table_of


def test_id_of_returns_the_id_of_a_stored_row():
    assert id_of(Campaign(id=7, name="Welcome", trigger_event="signed_up")) == 7


def test_id_of_refuses_a_row_never_flushed():
    with pytest.raises(ValueError, match="Campaign has no id"):
        id_of(Campaign(name="Welcome", trigger_event="signed_up"))


def test_table_of_is_the_models_core_table():
    table = table_of(Event)
    assert isinstance(table, Table) and table.name == "event" and "payload" in table.c
