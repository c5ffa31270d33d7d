"""What a Resend API key may do, and Humanic's own webhook registered in the account, over Resend's HTTP API.

Called with the key explicitly (httpx, not the SDK, whose key is process-wide: testing a key that is
pasted must not change the key the sender is using). Every failure becomes an outcome or a message fit
to show: nothing here raises on what Resend or the network answers."""

from __future__ import annotations

import dataclasses
import enum

import httpx

from humanic_app.services.suppression import RESEND_EVENTS

DEFAULT_API_URL = "https://api.resend.com"
TIMEOUT_SECONDS = 10.0
WEBHOOK_PATH = "/api/webhooks/resend"


class KeyCheck(str, enum.Enum):
    full = "full"
    sending = "sending"
    invalid = "invalid"
    unreachable = "unreachable"


CHECK_MESSAGES = {
    KeyCheck.full: "Connected: this key has full access (sending, domains and webhooks).",
    KeyCheck.sending: (
        "Connected with a sending-only key: emails can go out, but Humanic cannot manage domains or register "
        "its webhook. Use a full-access key for those, or add them in Resend yourself."
    ),
    KeyCheck.invalid: "Resend refused this key: it is wrong, revoked or deleted. Create one in Resend → API Keys.",
    KeyCheck.unreachable: "Resend could not be reached: check the network and try again.",
}


@dataclasses.dataclass(frozen=True)
class Registered:
    webhook_id: str
    endpoint: str
    signing_secret: str = dataclasses.field(repr=False)


class RegistrationFailed(Exception):
    """A message fit to show, saying what to do instead."""


def _client(api_key: str, api_url: str | None) -> httpx.Client:
    return httpx.Client(
        base_url=(api_url or DEFAULT_API_URL).rstrip("/"),
        headers={"Authorization": f"Bearer {api_key}", "User-Agent": "humanic"},
        timeout=TIMEOUT_SECONDS,
    )


def _error_name(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("name", "")) if isinstance(body, dict) else ""


def check_key(*, api_key: str, api_url: str | None) -> KeyCheck:
    """Full access lists domains; a sending-only key gets 401 restricted_api_key there."""
    try:
        with _client(api_key, api_url) as client:
            response = client.get("/domains")
    except httpx.HTTPError:
        return KeyCheck.unreachable
    if response.status_code == 200:
        return KeyCheck.full
    if _error_name(response) == "restricted_api_key":
        return KeyCheck.sending
    if response.status_code in (401, 403):
        return KeyCheck.invalid
    return KeyCheck.unreachable


def webhook_endpoint(public_url: str) -> str:
    return public_url.rstrip("/") + WEBHOOK_PATH


def register_webhook(*, api_key: str, api_url: str | None, public_url: str) -> Registered:
    """Creates Humanic's webhook (replacing one it registered earlier at the same address, whose signing
    secret it no longer has) for the events the webhook handler acts on."""
    if not public_url.lower().startswith("https://"):
        raise RegistrationFailed(
            "Resend delivers webhooks only to a public https address: set Public URL (Settings → Workspace) "
            "or HUMANIC_PUBLIC_URL to this app's https address, then click Register webhook. "
            + _by_hand(webhook_endpoint("https://<this app's public address>"))
        )
    endpoint = webhook_endpoint(public_url)
    try:
        with _client(api_key, api_url) as client:
            _drop_earlier(client, endpoint)
            response = client.post("/webhooks", json={"endpoint": endpoint, "events": list(RESEND_EVENTS)})
    except httpx.HTTPError:
        raise RegistrationFailed(CHECK_MESSAGES[KeyCheck.unreachable]) from None
    body = _json(response)
    if response.status_code in (200, 201) and body.get("id") and body.get("signing_secret"):
        return Registered(webhook_id=str(body["id"]), endpoint=endpoint, signing_secret=str(body["signing_secret"]))
    raise RegistrationFailed(_refusal(response, endpoint))


def _drop_earlier(client: httpx.Client, endpoint: str) -> None:
    listed = client.get("/webhooks")
    if listed.status_code != 200:
        return  # the create below answers with the reason
    for webhook in _json(listed).get("data") or []:
        if isinstance(webhook, dict) and webhook.get("endpoint") == endpoint and webhook.get("id"):
            client.delete(f"/webhooks/{webhook['id']}")


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _by_hand(endpoint: str) -> str:
    return (
        f"Instead, in Resend → Webhooks add the endpoint {endpoint} for the events {', '.join(RESEND_EVENTS)}, and set "
        "its signing secret as RESEND_WEBHOOK_SECRET."
    )


def _refusal(response: httpx.Response, endpoint: str) -> str:
    by_hand = _by_hand(endpoint)
    if _error_name(response) == "restricted_api_key":
        return "This key may only send, so Humanic cannot register its webhook. " + by_hand
    message = str(_json(response).get("message") or f"HTTP {response.status_code}")
    return f"Resend refused to register the webhook ({message[:200]}). " + by_hand


def unregister_webhook(*, api_key: str, api_url: str | None, webhook_id: str) -> bool:
    """Best effort, when the key is removed: True when Resend deleted it (or it was already gone)."""
    try:
        with _client(api_key, api_url) as client:
            response = client.delete(f"/webhooks/{webhook_id}")
    except httpx.HTTPError:
        return False
    return response.status_code in (200, 204, 404)
