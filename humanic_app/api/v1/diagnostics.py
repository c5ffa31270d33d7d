"""/api/v1/diagnostics: the automatic troubleshooting findings, with their fixes."""

from fastapi import APIRouter

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.services import diagnostics
from humanic_app.services.sending import credentials

router = APIRouter(route_class=TransactionRoute, prefix="/diagnostics", tags=["diagnostics"])


@router.get("", summary="What is wrong, in plain language, and how to fix it")
def get_diagnostics(session: SessionDep) -> dict:
    findings = diagnostics.run_checks(
        session=session, resend_configured=credentials.in_effect(session=session).configured
    )
    return {"findings": [diagnostics.finding_as_dict(f) for f in findings]}
