"""Standard Webhooks signatures: PostHog's webhook destination signs this way, and Resend's (Svix) too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

TOLERANCE_SECONDS = 5 * 60


class SignatureError(Exception):
    pass


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(*, secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> str:
    """Returns the webhook-id on success; raises SignatureError saying what is wrong."""
    msg_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        raise SignatureError(
            "Missing webhook-id, webhook-timestamp or webhook-signature header; "
            "paste the signing secret into the PostHog destination's 'Signing secret' field."
        )
    current = time.time() if now is None else now
    try:
        timestamp = int(stamp)
        skew = abs(current - timestamp)
    except (ValueError, OverflowError):
        raise SignatureError("webhook-timestamp is not a unix time in seconds.") from None
    if skew > TOLERANCE_SECONDS:
        raise SignatureError("webhook-timestamp is more than 5 minutes from now (replay or clock skew).")
    expected = sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body).split(",", 1)[1]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return msg_id
    raise SignatureError("The webhook signature does not match; check the signing secret in PostHog.")
