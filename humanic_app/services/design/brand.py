"""The workspace's brand (Settings → Brand): logo, colours, font stack and footer text. Stored on the
workspace and read when an email is rendered, at send time: a change reaches every email not sent yet,
those already scheduled included."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import Session

from humanic_app.models import Workspace
from humanic_app.services import wording, workspace
from humanic_app.services.design.blocks import RELATIVE_LINK, Colour, is_absolute
from humanic_app.services.errors import ValidationFailed

_FONT_STACK = r"^[A-Za-z0-9 ,'\"-]+$"


class Brand(BaseModel):
    """Defaults read well in light and dark mode: dark text on white, a blue with 4.5:1 contrast on both."""

    model_config = ConfigDict(extra="forbid")

    logo_url: Annotated[str, Field(max_length=2000)] = ""
    logo_width: int = Field(default=120, ge=20, le=600, strict=True)
    primary_colour: Colour = "#1a5fd0"  # buttons and links
    text_colour: Colour = "#1f2328"
    background_colour: Colour = "#f3f4f6"  # around the 600 px body
    content_colour: Colour = "#ffffff"  # behind the content
    font_stack: Annotated[str, Field(min_length=1, max_length=300)] = (
        "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
    )
    footer_text: Annotated[str, Field(max_length=1000, pattern=r"^[^\x00]*$")] = ""

    @field_validator("font_stack")
    @classmethod
    def _font_names(cls, value: str) -> str:
        if not re.match(_FONT_STACK, value):
            raise ValueError("list font names separated by commas: letters, digits, spaces, quotes and hyphens")
        return value

    @field_validator("logo_url")
    @classmethod
    def _absolute_logo(cls, value: str) -> str:
        value = value.strip()
        if value and not (is_absolute(value) and value.lower().startswith(("https://", "http://"))):
            raise ValueError(RELATIVE_LINK)
        return value


FIELDS = tuple(Brand.model_fields)


def of(ws: Workspace) -> Brand:
    """The workspace's brand; a stored value this version no longer accepts falls back to the defaults
    rather than stopping every email."""
    try:
        return Brand.model_validate(ws.brand or {})
    except ValidationError:
        return Brand()


def check(values: Any) -> Brand:
    """A whole brand, or ValidationFailed with one message per field ('primary_colour', …)."""
    if not isinstance(values, dict):
        raise ValidationFailed({"brand": "A brand is an object of logo_url, colours, font_stack and footer_text."})
    try:
        return Brand.model_validate(values)
    except ValidationError as exc:
        errors = {
            ".".join(str(p) for p in e["loc"]) or "brand": wording.message(e["msg"].removeprefix("Value error, "))
            for e in exc.errors()
        }
        raise ValidationFailed(errors) from None


def edited(ws: Workspace, changes: dict[str, Any]) -> Brand:
    """The workspace's brand with some fields changed (not stored): what a preview of an edit shows.
    Refusals are named under `brand.` ('brand.primary_colour')."""
    try:
        return check({**of(ws).model_dump(), **changes})
    except ValidationFailed as exc:
        raise ValidationFailed({f"brand.{field}": message for field, message in exc.field_errors.items()}) from None


def read(*, session: Session) -> Brand:
    return of(workspace.get_workspace(session=session))


def update(*, session: Session, changes: dict[str, Any]) -> Brand:
    """Changes some fields (the others stay); the caller commits."""
    ws = workspace.get_workspace(session=session)
    brand = check({**of(ws).model_dump(), **changes})
    ws.brand = brand.model_dump()
    session.add(ws)
    return brand
