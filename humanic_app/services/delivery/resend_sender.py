"""Resend through the official SDK (RESEND_API_URL points it elsewhere for tests).

Each message goes with its outbox idempotency key as `Idempotency-Key`, so a resend after a crash or a
retry after a timeout cannot deliver twice. 429 rate limits, 5xx, timeouts and network errors are
retryable (same key, `retry-after` honoured); validation errors, 409 invalid_idempotent_request and
quota errors are not.
"""

from __future__ import annotations

import resend
from resend.exceptions import ResendError

from humanic_app.services.delivery.senders import OutgoingEmail, SendResult

PERMANENT_TYPES = {"validation_error", "invalid_idempotent_request", "invalid_idempotency_key",
                   "daily_quota_exceeded", "monthly_quota_exceeded", "invalid_from_address",
                   "missing_required_field", "invalid_api_key", "restricted_api_key", "not_found"}


def _retry_after(headers: dict[str, str]) -> float | None:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    for name in ("retry-after", "ratelimit-reset"):
        try:
            return max(float(lowered[name]), 0.5)
        except (KeyError, ValueError):
            continue
    return None


class ResendSender:
    name = "resend"

    def __init__(self, *, api_key: str, api_url: str | None = None):
        resend.api_key = api_key
        if api_url:
            resend.api_url = api_url.rstrip("/")

    def _one(self, email: OutgoingEmail) -> SendResult:
        params = {"from": email.from_address, "to": [email.to], "subject": email.subject, "html": email.html,
                  "text": email.text, "headers": email.headers, "tags": email.tags}
        try:
            response = resend.Emails.send(params, {"idempotency_key": email.idempotency_key})
        except ResendError as exc:
            code = int(exc.code) if str(exc.code).isdigit() else 500
            kind = (exc.error_type or "").lower()
            retryable = kind not in PERMANENT_TYPES and (code == 429 or code >= 500)
            return SendResult(message_id=email.message_id, ok=False, error=f"{code} {kind}: {exc.message}"[:1000],
                              retryable=retryable, retry_after_s=_retry_after(exc.headers))
        except Exception as exc:  # timeouts, connection resets: the key makes the retry safe
            return SendResult(message_id=email.message_id, ok=False, error=f"network: {type(exc).__name__}",
                              retryable=True)
        return SendResult(message_id=email.message_id, ok=True, provider_message_id=response["id"])

    def send(self, emails: list[OutgoingEmail]) -> list[SendResult]:
        return [self._one(email) for email in emails]
