"""Typed access to what SQLModel leaves untyped: a table model's `Table`, and the primary key of a row
that is known to be stored (the field is `int | None` because a row has no id until it is flushed)."""

from __future__ import annotations

from typing import Any, Protocol, cast

from sqlalchemy import Boolean, String, Table, any_, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.sql.visitors import InternalTraversal
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


class AnyOf(ColumnElement[bool]):
    """`column` equal to any value of the list bound at execution as `name` (`any_of`)."""

    inherit_cache = True
    _is_implicitly_boolean = True  # a condition as it stands: not compared with true, as SQLite would
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("name", InternalTraversal.dp_string)]
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], name: str):
        self.column = column
        self.name = name


def any_of(column: Any, name: str) -> AnyOf:
    """`column IN (…)` for a list bound at execution as `name`. PostgreSQL gets `column = ANY(:name)`: one
    array parameter, so the statement's text stays the same whatever the list's length. Expanded into one
    parameter per value (SQLite's only way), a list of hundreds made a text too long for psycopg's cache of
    parsed statements, parsed again at every execution, and SQLAlchemy rewrote it every time too."""
    return AnyOf(column, name)


@compiles(AnyOf)
def _expanded(element: AnyOf, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(AnyOf, "postgresql")
def _as_array(element: AnyOf, compiler: Any, **kw: Any) -> str:
    item = element.column.type if not isinstance(element.column.type, NullType) else String()  # lower(…)
    array = bindparam(element.name, type_=postgresql.ARRAY(item))
    return compiler.process(element.column == any_(array), **kw)
