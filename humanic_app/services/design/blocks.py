"""The blocks of an email, as a campaign step holds them (`steps.N.blocks`): one schema for the builder, the
API and YAML files. Texts may hold Jinja (`{{ name | default('there') }}`), rendered per recipient by the
sandbox after the structure is compiled (services/design/render.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from humanic_app.services.design import markdown
from humanic_app.services.design.masking import Masker

# A link is absolute, or it breaks in every mail client: there is no page it could be relative to. Jinja may
# follow the scheme (https://acme.io/{{ path }}), never stand for it: a variable could make it javascript:.
_ABSOLUTE = re.compile(r"^(https?://[^\s/?#]+[^\s]*|mailto:[^\s]+)$", re.IGNORECASE)
RELATIVE_LINK = "a link is absolute, like https://acme.io/pricing: a relative one leads nowhere from an inbox"
_COLOUR = r"^#(?:[0-9a-fA-F]{3}){1,2}$"
MAX_WIDTH = 600  # px: the body's width, which every mail client shows without sideways scrolling

Colour = Annotated[str, Field(pattern=_COLOUR, description="A colour like #1a73e8")]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]


def is_absolute(url: str) -> bool:
    return bool(_ABSOLUTE.match(Masker().mask(url.strip())))


def _absolute(value: str | None) -> str | None:
    if value is not None and not is_absolute(value):
        raise ValueError(RELATIVE_LINK)
    return value


Url = Annotated[
    str, Field(min_length=1, max_length=2000, description="An absolute link: https://…, http://… or mailto:…")
]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Heading(_Block):
    type: Literal["heading"]
    text: Text
    level: Literal[1, 2, 3] = 1
    align: Literal["left", "center", "right"] = "left"


class Paragraph(_Block):
    """Markdown: **bold**, *italic*, [links](https://…), lists. HTML in it is shown as text."""

    type: Literal["paragraph"]
    markdown: Text
    align: Literal["left", "center", "right"] = "left"

    @field_validator("markdown")
    @classmethod
    def _absolute_links(cls, value: str) -> str:
        for link in markdown.links(value):
            if not is_absolute(link):
                raise ValueError(f"{RELATIVE_LINK} ('{link}')")
        return value


class Button(_Block):
    type: Literal["button"]
    label: Annotated[str, Field(min_length=1, max_length=200)]
    url: Url
    colour: Colour | None = None  # None: the brand's primary colour

    _v_url = field_validator("url")(lambda cls, v: _absolute(v))


class Image(_Block):
    type: Literal["image"]
    url: Url
    alt: Annotated[
        str,
        Field(min_length=1, max_length=500, description="What the image shows, for screen readers and blocked images"),
    ]
    width: int = Field(default=MAX_WIDTH, ge=1, le=MAX_WIDTH, strict=True)
    link: Url | None = None

    _v_url = field_validator("url", "link")(lambda cls, v: _absolute(v))


class Divider(_Block):
    type: Literal["divider"]


class Spacer(_Block):
    type: Literal["spacer"]
    height: int = Field(default=24, ge=1, le=200, strict=True)


PARTIAL_NAME = r"^[a-z0-9][a-z0-9-]{0,39}$"
PartialName = Annotated[
    str, Field(pattern=PARTIAL_NAME, description="A shared block's name: lowercase letters, digits and dashes")
]


class Partial(_Block):
    """A shared block (Settings → Brand → Shared blocks) put in by name when the email is rendered."""

    type: Literal["partial"]
    name: PartialName


class Html(_Block):
    """Raw HTML for experts; a step's `html` (an email written before blocks) is one such block."""

    type: Literal["html"]
    html: Annotated[str, Field(min_length=1)]


def _kind(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return f"block-{kind}" if isinstance(kind, str) else None


_BLOCK_ERROR = dict(
    custom_error_type="block_type",
    custom_error_message="a block's type is heading, paragraph, button, image, divider, spacer, columns, partial "
    "or html",
)
ColumnBlock = Annotated[
    Annotated[Heading, Tag("block-heading")]
    | Annotated[Paragraph, Tag("block-paragraph")]
    | Annotated[Button, Tag("block-button")]
    | Annotated[Image, Tag("block-image")]
    | Annotated[Divider, Tag("block-divider")]
    | Annotated[Spacer, Tag("block-spacer")]
    | Annotated[Html, Tag("block-html")],
    Discriminator(_kind, **_BLOCK_ERROR),
]


class Columns(_Block):
    """Two columns side by side (stacked on a phone), each a list of blocks (no columns inside columns)."""

    type: Literal["columns"]
    columns: list[list[ColumnBlock]] = Field(min_length=2, max_length=2)


Block = Annotated[
    Annotated[Heading, Tag("block-heading")]
    | Annotated[Paragraph, Tag("block-paragraph")]
    | Annotated[Button, Tag("block-button")]
    | Annotated[Image, Tag("block-image")]
    | Annotated[Divider, Tag("block-divider")]
    | Annotated[Spacer, Tag("block-spacer")]
    | Annotated[Columns, Tag("block-columns")]
    | Annotated[Partial, Tag("block-partial")]
    | Annotated[Html, Tag("block-html")],
    Discriminator(_kind, **_BLOCK_ERROR),
]
BLOCK_KINDS = ("heading", "paragraph", "button", "image", "divider", "spacer", "columns", "partial", "html")
COLUMN_KINDS = tuple(kind for kind in BLOCK_KINDS if kind not in ("columns", "partial"))  # what ColumnBlock takes
TAGS = {f"block-{kind}" for kind in BLOCK_KINDS}

# The fields whose text is a template, per kind: each is checked (syntax, unknown filters) on its own.
TEMPLATE_FIELDS = {
    "heading": ("text",),
    "paragraph": ("markdown",),
    "button": ("label", "url"),
    "image": ("url", "alt", "link"),
    "html": ("html",),
}


def template_fields(blocks: list[Any], prefix: str = "blocks") -> Iterator[tuple[str, str]]:
    """(location, template source) of every text in the blocks, columns' included: 'blocks.2.columns.0.1.label'."""
    for index, block in enumerate(blocks):
        if isinstance(block, Columns):
            for side, column in enumerate(block.columns):
                yield from template_fields(column, f"{prefix}.{index}.columns.{side}")
            continue
        for field in TEMPLATE_FIELDS.get(block.type, ()):
            if source := getattr(block, field):
                yield f"{prefix}.{index}.{field}", source
