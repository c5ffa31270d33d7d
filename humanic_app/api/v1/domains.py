"""/api/v1/domains: sending domains, through Resend's Domains API."""

from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field
from sqlmodel import Session

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import REQUEST_MODEL_CONFIG, WS, RowId
from humanic_app.models import Domain
from humanic_app.services import domains, warmup
from humanic_app.services.errors import ValidationFailed

router = APIRouter(route_class=TransactionRoute, prefix="/domains", tags=["domains"])


class DomainIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    # services.domains' rule for a name after it strips, lower-cases and drops a trailing dot.
    name: str = Field(
        pattern=rf"^[{WS}]*([a-zA-Z0-9](-?[a-zA-Z0-9])*\.)+[a-zA-Z]{{2,63}}\.?[{WS}]*$",
        max_length=253,
        description="A domain you own, like mail.yourcompany.com.",
    )


class WarmupIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    warmup_enabled: bool | None = Field(default=None, strict=True, description="Warm-up on or off.")
    warmup_ladder: (
        Annotated[
            list[Annotated[int, Field(strict=True, ge=1, le=warmup.MAX_CAP)]],
            Field(min_length=1, max_length=warmup.MAX_STEPS),
        ]
        | None
    ) = Field(default=None, description="Daily caps, one per UTC day from day 1, each at least the one before.")


def _out(session: Session, domain: Domain) -> dict[str, Any]:
    state = warmup.status(session=session, domain=domain)
    return domains.domain_as_dict(domain) | {
        "warmup_enabled": state.enabled,
        "warmup_ladder": state.ladder,
        "warmup": warmup.status_as_dict(state),
    }


def _require_resend(session: Session) -> None:
    if not domains.configure_in_effect(session=session):
        raise ValidationFailed(
            {
                "domain": "Local outbox mode: no sending domain is needed. Connect Resend in Settings → Sending "
                "(or set RESEND_API_KEY) to send from your own domain."
            }
        )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a sending domain (created in Resend)",
    responses=responses(400, 422),
)
def create(body: DomainIn, session: SessionDep) -> dict[str, Any]:
    _require_resend(session)
    return _out(session, domains.create_domain(session=session, name=body.name))


@router.get("", summary="List sending domains with their DNS records and status")
def list_all(session: SessionDep) -> list[dict[str, Any]]:
    return [_out(session, d) for d in domains.list_domains(session=session)]


@router.get("/{domain_id}", summary="One domain", responses=responses(404, 422))
def get(domain_id: RowId, session: SessionDep) -> dict[str, Any]:
    return _out(session, domains.get_domain(session=session, domain_id=domain_id))


@router.post("/{domain_id}/verify", summary="Ask Resend to verify the DNS records now", responses=responses(404, 422))
def verify(domain_id: RowId, session: SessionDep) -> dict[str, Any]:
    _require_resend(session)
    domain = domains.get_domain(session=session, domain_id=domain_id)
    return _out(session, domains.refresh(session=session, domain=domain, start_verification=True))


@router.patch(
    "/{domain_id}/warmup",
    summary="Switch the domain's warm-up on or off, or change its ladder of daily caps",
    responses=responses(400, 404, 422),
)
def update_warmup(domain_id: RowId, body: WarmupIn, session: SessionDep) -> dict[str, Any]:
    domain = domains.get_domain(session=session, domain_id=domain_id)
    return _out(
        session, warmup.update(session=session, domain=domain, enabled=body.warmup_enabled, ladder=body.warmup_ladder)
    )
