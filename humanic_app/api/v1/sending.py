"""/api/v1/settings/sending: the Resend connection (Settings → Sending). The key is write-only: no
answer ever carries it, only where the key in effect comes from and when it was set."""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import REQUEST_MODEL_CONFIG
from humanic_app.services.sending import connection

router = APIRouter(route_class=TransactionRoute, prefix="/settings/sending", tags=["settings"])

SourceName = Literal["environment", "stored", "none"]


class SendingStatusOut(BaseModel):
    mode: Literal["resend", "local_outbox"]
    api_key_source: SourceName
    api_key_set_at: datetime | None
    key_access: Literal["unknown", "full", "sending"]  # what the last test found the stored key may do
    key_tested_at: datetime | None
    webhook_secret_source: SourceName
    webhook_endpoint: str  # where Humanic registered its Resend webhook, or ""
    webhook_registered_at: datetime | None
    can_edit: bool  # False while RESEND_API_KEY is set, or when no secret key can encrypt a stored key
    notes: list[str]


class TestOut(BaseModel):
    outcome: Literal["full", "sending", "invalid", "unreachable"]
    message: str


class ConnectOut(BaseModel):
    status: SendingStatusOut
    test: TestOut
    webhook_problem: str | None  # why the webhook was not registered, with what to do; None when it was


class WebhookOut(BaseModel):
    status: SendingStatusOut
    webhook_problem: str | None


class SendingKeyIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    # Checked by the service (re_…), whose error never repeats the value.
    api_key: str = Field(description="A Resend API key (re_…): full access lets Humanic register its webhook.")


def _status(session) -> SendingStatusOut:
    return SendingStatusOut.model_validate(connection.status(session=session), from_attributes=True)


def _test(result: connection.TestResult) -> TestOut:
    return TestOut(outcome=result.outcome.value, message=result.message)


@router.get("", response_model=SendingStatusOut, summary="How email is sent: Resend (and whose key) or local outbox")
def read_status(session: SessionDep) -> SendingStatusOut:
    return _status(session)


@router.put(
    "",
    response_model=ConnectOut,
    summary="Test and store a Resend API key (encrypted), then register Humanic's webhook",
    responses=responses(400, 422),
)
def put_key(body: SendingKeyIn, session: SessionDep) -> ConnectOut:
    result, webhook_problem = connection.connect(session=session, api_key=body.api_key)
    return ConnectOut(status=_status(session), test=_test(result), webhook_problem=webhook_problem)


@router.post("/test", response_model=TestOut, summary="What the key in effect may do", responses=responses(422))
def test_key(session: SessionDep) -> TestOut:
    return _test(connection.test_connection(session=session))


@router.post(
    "/webhook",
    response_model=WebhookOut,
    summary="Register Humanic's webhook in Resend again (e.g. after setting the public URL)",
)
def register_webhook(session: SessionDep) -> WebhookOut:
    problem = connection.register_webhook(session=session)
    return WebhookOut(status=_status(session), webhook_problem=problem)


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove the stored key: email goes to the local outbox again",
    responses=responses(422),
)
def delete_key(session: SessionDep) -> None:
    connection.disconnect(session=session)
