"""Resend through the official SDK (RESEND_API_URL points it elsewhere for tests).

Several due messages go in one `POST /emails/batch` (≤ 100, permissive validation, so one bad address
fails only itself) under the batch key the dispatcher recorded; a single message goes to `POST /emails`
under its own key. Either way a replay after a crash or timeout cannot deliver twice. Every call waits
for a slot from the shared rate limiter and feeds the response's rate-limit headers back to it. The
limiter never decides what became of a call: one failing before the call leaves the emails known-unsent,
one failing after it is logged and the provider's answer recorded as it is.
429 rate limits, 5xx, timeouts and network errors are retryable; validation errors, 409
invalid_idempotent_request and quota errors are not (quota stops sending altogether).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import resend
from resend.exceptions import ResendError

from humanic_app.services import rate_limit
from humanic_app.services.delivery.senders import OutgoingEmail, SendResult

PERMANENT_TYPES = {
    "validation_error",
    "invalid_idempotent_request",
    "invalid_idempotency_key",
    "daily_quota_exceeded",
    "monthly_quota_exceeded",
    "invalid_from_address",
    "missing_required_field",
    "invalid_api_key",
    "restricted_api_key",
    "not_found",
}
QUOTA_TYPES = {"daily_quota_exceeded": "daily", "monthly_quota_exceeded": "monthly"}

logger = logging.getLogger(__name__)


def _retry_after(headers: dict[str, str] | None) -> float | None:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    for name in ("retry-after", "ratelimit-reset"):
        try:
            return max(float(lowered[name]), 0.5)
        except (KeyError, ValueError):
            continue
    return None


def _params(email: OutgoingEmail) -> resend.Emails.SendParams:
    return {
        "from": email.from_address,
        "to": [email.to],
        "subject": email.subject,
        "html": email.html,
        "text": email.text,
        "headers": email.headers,
        "tags": [{"name": tag["name"], "value": tag["value"]} for tag in email.tags],
    }


class ResendSender:
    name = "resend"
    max_batch = 100

    def __init__(self, *, api_key: str, api_url: str | None = None, limiter: rate_limit.RateLimiter | None = None):
        resend.api_key = api_key
        if api_url:
            resend.api_url = api_url.rstrip("/")
        self._limiter = limiter or rate_limit.LocalRateLimiter()

    def wait_turn(self) -> None:
        """Wait until a slot is free before the dispatcher claims, so what it claims leaves at once:
        claiming first and waiting after would add a whole slot to the latency of every message that just
        missed a claim. The slot itself is taken by `send`, right before the call."""
        try:
            wait = self._limiter.time_to_next()
        except Exception:
            return  # the limiter is unreachable: `send` reports that for the rows, unsent
        if wait > 0:
            time.sleep(wait)

    @staticmethod
    def _tell_limiter(call: Callable[..., object], *args: object) -> None:
        """After a call the provider answered, the limiter only learns from it: a limiter failing then must
        not turn an answer into "no answer", which would leave the emails `sending` until their lease ran out."""
        try:
            call(*args)
        except Exception:
            logger.exception("the rate limiter could not take the provider's answer into account")

    def _failure(self, emails: list[OutgoingEmail], exc: Exception) -> list[SendResult]:
        if isinstance(exc, ResendError):
            code = int(exc.code) if str(exc.code).isdigit() else 500
            kind = (exc.error_type or "").lower()
            retry_after = _retry_after(exc.headers)
            if kind == "rate_limit_exceeded" or (code == 429 and kind not in QUOTA_TYPES):
                self._tell_limiter(self._limiter.push_back, retry_after or 1.0)
            concurrent = kind == "concurrent_idempotent_requests"
            retryable = concurrent or (kind not in PERMANENT_TYPES and (code == 429 or code >= 500))
            error = f"{code} {kind}: {exc.message}"[:1000]
            return [
                SendResult(
                    message_id=e.message_id,
                    ok=False,
                    error=error,
                    retryable=retryable,
                    retry_after_s=retry_after,
                    maybe_sent=code >= 500 or concurrent,
                    quota_exceeded=QUOTA_TYPES.get(kind, ""),
                )
                for e in emails
            ]
        # timeouts, connection resets: the provider may have the request; the same key makes the replay safe
        return [
            SendResult(
                message_id=e.message_id,
                ok=False,
                error=f"network: {type(exc).__name__}",
                retryable=True,
                maybe_sent=True,
            )
            for e in emails
        ]

    def send(self, emails: list[OutgoingEmail], *, batch_key: str | None = None) -> list[SendResult]:
        try:
            rate_limit.wait_for_slot(self._limiter)
        except Exception as exc:
            # the provider was not called: known-unsent, waited out like a rate limit (never `sending`)
            return [
                SendResult(
                    message_id=e.message_id,
                    ok=False,
                    retryable=True,
                    retry_after_s=5.0,
                    error=f"rate limiter unreachable: {type(exc).__name__}: {exc}"[:1000],
                )
                for e in emails
            ]
        try:
            if batch_key is None:
                (email,) = emails
                sent = resend.Emails.send(_params(email), {"idempotency_key": email.idempotency_key})
                self._tell_limiter(rate_limit.observe, self._limiter, sent.get("http_headers"))
                return [SendResult(message_id=email.message_id, ok=True, provider_message_id=sent["id"])]
            response = resend.Batch.send(
                [_params(e) for e in emails], {"idempotency_key": batch_key, "batch_validation": "permissive"}
            )
        except Exception as exc:
            return self._failure(emails, exc)
        self._tell_limiter(rate_limit.observe, self._limiter, response.get("http_headers"))
        rejected = {int(e["index"]): str(e.get("message", "invalid")) for e in response.get("errors") or []}
        ids = iter(item["id"] for item in response.get("data") or [])
        results = []
        for index, email in enumerate(emails):
            if index in rejected:
                results.append(
                    SendResult(
                        message_id=email.message_id, ok=False, error=f"422 validation_error: {rejected[index]}"[:1000]
                    )
                )
            else:
                results.append(SendResult(message_id=email.message_id, ok=True, provider_message_id=next(ids)))
        return results
