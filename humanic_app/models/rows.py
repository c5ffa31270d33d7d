"""Typed access to what SQLModel leaves untyped: a table model's `Table`, and the primary key of a row
that is known to be stored (the field is `int | None` because a row has no id until it is flushed)."""

from __future__ import annotations

from typing import Protocol, cast

from sqlalchemy import Table
from sqlmodel import SQLModel


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a `table=True` model; SQLModel sets `__table__` without declaring it."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]  # set at class creation, not declared


def id_of(row: _HasId) -> int:
    """The id of a row already flushed or loaded; a row without one here is a programming error."""
    row_id = row.id
    if row_id is None:
        raise ValueError(f"{type(row).__name__} has no id: it was never flushed")
    return row_id
