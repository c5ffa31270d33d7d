"""Email design: GET/PUT /api/v1/settings/brand (the layout every block email is sent in: logo, colours,
font, footer), POST /api/v1/email-preview (any step of any document, rendered with the design checks) and
GET /api/v1/email-designs (the gallery of ready-made designs)."""

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import NO_NUL, REQUEST_MODEL_CONFIG, WholeNumber, omitted_or
from humanic_app.services import workspace
from humanic_app.services.campaigns import designs
from humanic_app.services.campaigns.preview import render_preview
from humanic_app.services.campaigns.schema import validate_document
from humanic_app.services.design import brand as brands, partials
from humanic_app.services.errors import ValidationFailed

router = APIRouter(route_class=TransactionRoute, tags=["settings"])

_COLOUR = r"^#(?:[0-9a-fA-F]{3}){1,2}$"
Colour = Annotated[str, Field(pattern=_COLOUR)]


class BrandOut(BaseModel):
    logo_url: str
    logo_width: int
    primary_colour: str
    text_colour: str
    background_colour: str
    content_colour: str
    font_stack: str
    footer_text: str


class BrandUpdate(BaseModel):
    """Any of the fields; those left out stay. The service checks what the schema cannot (absolute logo URL)."""

    model_config = REQUEST_MODEL_CONFIG

    logo_url: str = omitted_or(pattern=NO_NUL, max_length=2000, description="An absolute https:// image URL, or empty.")
    logo_width: WholeNumber = omitted_or(ge=20, le=600, description="The logo's width in px.")
    primary_colour: str = omitted_or(pattern=_COLOUR, description="Buttons and links, like #1a5fd0.")
    text_colour: str = omitted_or(pattern=_COLOUR)
    background_colour: str = omitted_or(pattern=_COLOUR, description="Around the 600 px body.")
    content_colour: str = omitted_or(pattern=_COLOUR, description="Behind the content.")
    font_stack: str = omitted_or(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9 ,'\"-]+$")
    footer_text: str = omitted_or(pattern=NO_NUL, max_length=1000, description="Above the address in every footer.")


@router.get("/settings/brand", response_model=BrandOut, summary="Read the brand every block email is sent in")
def read_brand(session: SessionDep) -> dict:
    return brands.read(session=session).model_dump()


@router.put(
    "/settings/brand",
    response_model=BrandOut,
    summary="Change some or all of the brand (reaches emails already scheduled: they render at send time)",
    responses=responses(400, 422),
)
def update_brand(body: BrandUpdate, session: SessionDep) -> dict:
    return brands.update(session=session, changes=body.model_dump(exclude_unset=True)).model_dump()


class EmailPreviewIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    document: dict[str, Any] = Field(description="A campaign document, saved or not (the campaign schema).")
    step: WholeNumber = Field(default=0, ge=0, le=10_000, description="The step's index in `steps`, from 0.")
    variables: dict[str, Any] = Field(default_factory=dict, description="What the template sees, as on an event.")
    brand: dict[str, Any] | None = Field(
        default=None, description="Brand fields being edited (the others as saved); left out: the saved brand."
    )


@router.post(
    "/email-preview",
    summary="Render one email step of a document as it would be sent, with the design checks (nothing is saved)",
    responses=responses(400, 422),
)
def email_preview(body: EmailPreviewIn, session: SessionDep) -> dict[str, Any]:
    ws = workspace.get_workspace(session=session)
    brand = brands.edited(ws, body.brand) if body.brand is not None else None
    try:
        document = validate_document(body.document)
    except ValidationFailed as exc:  # named inside the body's `document`, as the builder's fields are
        raise ValidationFailed({f"document.{field}": message for field, message in exc.field_errors.items()}) from None
    return render_preview(ws=ws, document=document, step=body.step, variables=body.variables, brand=brand)


class EmailDesignOut(BaseModel):
    slug: str
    name: str
    purpose: str
    campaign: str = Field(description="The ready-made campaign (its slug) this design suits.")
    subject: str
    blocks: list[dict[str, Any]] = Field(description="Put them in an email step's `blocks` to use the design.")


@router.get(
    "/email-designs",
    response_model=list[EmailDesignOut],
    summary="The gallery of ready-made email designs: a subject and blocks each, in the workspace's name",
)
def list_email_designs(session: SessionDep) -> list[designs.Design]:
    return designs.designs(workspace_name=workspace.read_workspace(session=session).name)


class PartialIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    blocks: list[dict[str, Any]] = Field(
        description="The shared block's blocks (any kind but another shared block)", max_length=200
    )


class PartialOut(BaseModel):
    name: str
    blocks: list[dict[str, Any]]
    used_by: list[str] = Field(description="Campaigns (not archived) whose emails put it in.")


def _partial_out(session, name: str, blocks: list[dict[str, Any]]) -> PartialOut:
    return PartialOut(name=name, blocks=blocks, used_by=partials.users(session=session, name=name))


@router.get("/partials", response_model=list[PartialOut], summary="The shared blocks emails put in by name")
def list_partials(session: SessionDep) -> list[PartialOut]:
    return [_partial_out(session, name, blocks) for name, blocks in partials.listed(session=session).items()]


@router.put(
    "/partials/{name}",
    response_model=PartialOut,
    summary="Create or replace a shared block (reaches every email not sent yet: they render at send time)",
    responses=responses(400, 422),
)
def save_partial(name: str, body: PartialIn, session: SessionDep) -> PartialOut:
    return _partial_out(session, name, partials.save(session=session, name=name, blocks=body.blocks))


@router.delete(
    "/partials/{name}",
    status_code=204,
    summary="Delete a shared block no campaign uses (409 names the campaigns that do)",
    responses=responses(404, 409),
)
def delete_partial(name: str, session: SessionDep) -> None:
    partials.delete(session=session, name=name)
