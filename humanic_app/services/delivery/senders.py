"""Senders: one interface, `send(emails, batch_key=...) -> results`, one provider call per invocation.
The local outbox keeps mail on this machine (the embedded default); Resend sends through the marketer's
own account. The dispatcher decides what goes in a call and records it first (see dispatcher.py)."""

from __future__ import annotations

import dataclasses
from typing import Protocol


@dataclasses.dataclass
class OutgoingEmail:
    message_id: int
    idempotency_key: str
    from_address: str
    to: str
    subject: str
    html: str
    text: str
    headers: dict[str, str]
    tags: list[dict[str, str]]


@dataclasses.dataclass
class SendResult:
    message_id: int
    ok: bool
    provider_message_id: str | None = None
    error: str = ""
    retryable: bool = False
    retry_after_s: float | None = None
    maybe_sent: bool = False  # the provider may have accepted it (5xx, timeout): replay exactly, same key
    quota_exceeded: str = ""  # "daily" or "monthly": stop sending, do not retry on a short backoff


class Sender(Protocol):
    name: str
    max_batch: int

    def wait_turn(self) -> None:
        """Block until the provider may be called (rate limit); the next `send` uses that turn."""

    def send(self, emails: list[OutgoingEmail], *, batch_key: str | None = None) -> list[SendResult]:
        """One provider call: several emails under `batch_key`, or one email under its own key."""


class LocalOutboxSender:
    """Delivers into the app's own Messages page: the rendered email is stored on the message row."""

    name = "local"
    max_batch = 100

    def wait_turn(self) -> None:
        pass

    def send(self, emails: list[OutgoingEmail], *, batch_key: str | None = None) -> list[SendResult]:
        return [
            SendResult(message_id=e.message_id, ok=True, provider_message_id=f"local-{e.message_id}") for e in emails
        ]
