"""The bounds the HTTP API states in its OpenAPI document and enforces before a service or the database sees a
value: ids, cursors and request fields. A value outside them is a 422 naming the field, never a 500."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BeforeValidator, ConfigDict, Field

# Every id column is `sa.Integer` (alembic/versions): PostgreSQL stores it as int4, so no row's id exceeds
# 2**31 - 1, and a larger value would fail inside the database (SQLite: past 2**63 - 1) instead of being a 404.
MAX_ROW_ID = 2**31 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description=f"A row id, 1 to {MAX_ROW_ID}.")]
OptionalRowId = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description=f"A row id, 1 to {MAX_ROW_ID}.")]
Cursor = Annotated[
    int | None, Query(ge=1, le=MAX_ROW_ID, description="The previous page's next_cursor: items with a smaller id.")
]

# Patterns are checked with Python's `re`, as the services that strip and then match these values are. Each
# admits only values its service accepts. Whitespace is spelled out rather than `\s`, which means other
# characters to a JSON Schema (ECMA-262) reader: these are exactly what `str.strip()` and Python's `\s` take.
REQUEST_MODEL_CONFIG = ConfigDict(extra="forbid", regex_engine="python-re")
WS = r"\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

# PostgreSQL refuses a NUL character in text (SQLite stores it), so no text field or filter admits one: the
# answer is the same 422 on both databases.
NO_NUL = r"^[^\x00]*$"

# services.auth.EMAIL_RE after the surrounding whitespace `normalise_email` strips; 320 is the column's size.
EMAIL_PATTERN = rf"^[{WS}]*[^@{WS}\x00]+@[^@{WS}\x00]+\.[^@{WS}\x00]+[{WS}]*$"
EMAIL_MAX_LENGTH = 320
Email = Annotated[
    str,
    Field(pattern=EMAIL_PATTERN, max_length=EMAIL_MAX_LENGTH, description="An email address, like you@example.com."),
]

NOT_BLANK = rf"^[^\x00]*[^{WS}\x00][^\x00]*$"
TextFilter = Annotated[str | None, Query(pattern=NO_NUL, description="Text without NUL characters.")]


def _json_integer(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        raise ValueError("Input should be a whole number")
    return value


# A JSON integer: pydantic on its own would also take true and "4", which the document does not allow.
WholeNumber = Annotated[int, BeforeValidator(_json_integer)]


def omitted_or(**kwargs: Any) -> Any:
    """A field that may be left out but not sent as null: the services refuse null for these."""
    return Field(default=None, json_schema_extra=_drop_default, **kwargs)


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
