"""/api/v1/domains: sending domains, through Resend's Domains API."""

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field
from sqlmodel import Session

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import REQUEST_MODEL_CONFIG, WS, RowId
from humanic_app.services import domains
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
    return domains.domain_as_dict(domains.create_domain(session=session, name=body.name))


@router.get("", summary="List sending domains with their DNS records and status")
def list_all(session: SessionDep) -> list[dict[str, Any]]:
    return [domains.domain_as_dict(d) for d in domains.list_domains(session=session)]


@router.get("/{domain_id}", summary="One domain", responses=responses(404, 422))
def get(domain_id: RowId, session: SessionDep) -> dict[str, Any]:
    return domains.domain_as_dict(domains.get_domain(session=session, domain_id=domain_id))


@router.post("/{domain_id}/verify", summary="Ask Resend to verify the DNS records now", responses=responses(404, 422))
def verify(domain_id: RowId, session: SessionDep) -> dict[str, Any]:
    _require_resend(session)
    domain = domains.get_domain(session=session, domain_id=domain_id)
    return domains.domain_as_dict(domains.refresh(session=session, domain=domain, start_verification=True))
