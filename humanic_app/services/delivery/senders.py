"""Senders: one interface, `send(batch) -> results`. The local outbox keeps mail on this machine (the
embedded default); Resend sends through the marketer's own account."""

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


class Sender(Protocol):
    name: str

    def send(self, emails: list[OutgoingEmail]) -> list[SendResult]: ...


class LocalOutboxSender:
    """Delivers into the app's own Messages page: the rendered email is stored on the message row."""

    name = "local"

    def send(self, emails: list[OutgoingEmail]) -> list[SendResult]:
        return [SendResult(message_id=e.message_id, ok=True, provider_message_id=f"local-{e.message_id}")
                for e in emails]
