"""A local fake of Resend's HTTP API for sending tests: POST /emails and POST /emails/batch with
Idempotency-Key replay as Resend documents it (same key + same body → the same response; same key +
another body → 409), permissive batch validation, a real per-second rate limit with draft-06 headers
(`rate_limit_per_second`), injected errors and latency.

Provider faults: answers lost after the call was accepted (`lose_answers`: "500" answers 500, "drop"
closes the connection unanswered), 429 to replays of a known key (`limit_replays`), another client of the
same team spending the per-second budget (`share_budget`), latency drawn from a range, and a record of
every 429's retry-after (`retry_afters`) so a test can check no call was made inside one.

Account: GET /domains lists domains (what Humanic's Test connection calls); sending-only keys
(`sending_keys`) may call POST /emails and /emails/batch only, and get 401 restricted_api_key anywhere
else, as Resend answers; GET/POST /webhooks and DELETE /webhooks/{id} keep registered webhooks
(`webhooks`), each with its whsec_ signing secret, which `signed_event` uses to sign a delivery event."""

from __future__ import annotations

import base64
import contextlib
import json
import random
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeResend:
    def __init__(self, api_key: str = "re_test_key"):
        self.api_key = api_key
        self.sending_keys: set[str] = set()  # keys with "sending access" only
        self.webhooks: dict[str, dict] = {}
        self.sent: list[dict] = []  # every email accepted (first time per key)
        self.requests: list[dict] = []  # every request seen
        self.by_key: dict[str, tuple[str, str]] = {}
        self.fail_next: list[tuple[int, str, dict]] = []  # (status, name, headers)
        self.domains: dict[str, dict] = {}
        self.dns_published: set[str] = set()  # domain names whose records "exist" (verify succeeds)
        self.rate_limit_per_second: int | None = None
        self.rate_limited: int = 0  # 429s answered because of the rate limit
        self.latency_s: float | tuple[float, float] = 0.0
        self.lose_answers: list[str] = []  # per accepted send, in order: "500" or "drop" (else answered)
        self.limit_replays: int = 0  # this many replays of a known key get a 429 first
        self.retry_afters: list[tuple[float, float]] = []  # (monotonic time answered, seconds) per 429
        self._other_client: threading.Event | None = None
        self.answer_delay_s: float = 0.0  # after accepting, before answering: "accepted, reply lost" windows
        self._recent: list[float] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def inject(self, status: int, name: str, headers: dict | None = None, times: int = 1) -> None:
        self.fail_next.extend([(status, name, headers or {})] * times)

    def share_budget(self, requests_per_second: float) -> None:
        """Another client of the same Resend team: it takes that many of the per-second slots."""
        self._other_client = stop = threading.Event()

        def spend():
            while not stop.wait(1 / requests_per_second):
                with self.lock:
                    self._recent.append(time.monotonic())

        threading.Thread(target=spend, daemon=True).start()

    def delivered(self) -> dict[str, int]:
        """How many emails each recipient got."""
        counts: dict[str, int] = {}
        for email in self.sent:
            for to in email["to"]:
                counts[to] = counts.get(to, 0) + 1
        return counts

    def signed_event(self, payload: dict, webhook_id: str | None = None) -> tuple[bytes, dict[str, str]]:
        """A delivery event as Resend (through Svix) would post it to a registered webhook: body and headers."""
        from humanic_app.services import signing

        hook = self.webhooks[webhook_id] if webhook_id else next(iter(self.webhooks.values()))
        body, msg_id, stamp = json.dumps(payload).encode(), f"msg_{uuid.uuid4().hex}", int(time.time())
        signature = signing.sign(secret=hook["signing_secret"], msg_id=msg_id, timestamp=stamp, body=body)
        return body, {"svix-id": msg_id, "svix-timestamp": str(stamp), "svix-signature": signature}

    def calls_inside_a_retry_after(self) -> list[dict]:
        """Requests that arrived while an earlier 429's retry-after was still running."""
        return [
            r
            for r in self.requests
            for answered, seconds in self.retry_afters
            if answered < r["arrived"] < answered + seconds
        ]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict, headers: dict | None = None):
                if fake.answer_delay_s and self.command == "POST":
                    time.sleep(fake.answer_delay_s)
                if status == 200 and self.path.startswith("/emails") and fake.lose_answers:
                    lost = fake.lose_answers.pop(0)
                    if lost == "drop":
                        self.close_connection = True  # accepted, and the answer never arrives
                        return
                    status, body = (
                        500,
                        {
                            "statusCode": 500,
                            "name": "internal_server_error",
                            "message": "accepted, then the answer was lost",
                        },
                    )
                lowered = {k.lower(): v for k, v in (headers or {}).items()}
                if status == 429 and "retry-after" in lowered:
                    seconds = float(lowered["retry-after"])
                    fake.retry_afters.append((time.monotonic(), seconds))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _domain_records(self, name: str) -> list[dict]:
                return [
                    {
                        "record": "SPF",
                        "name": "send",
                        "type": "MX",
                        "ttl": "Auto",
                        "status": "not_started",
                        "value": "feedback-smtp.us-east-1.amazonses.com",
                        "priority": 10,
                    },
                    {
                        "record": "SPF",
                        "name": "send",
                        "type": "TXT",
                        "ttl": "Auto",
                        "status": "not_started",
                        "value": '"v=spf1 include:amazonses.com ~all"',
                    },
                    {
                        "record": "DKIM",
                        "name": "abc._domainkey",
                        "type": "CNAME",
                        "ttl": "Auto",
                        "status": "not_started",
                        "value": "abc.dkim.amazonses.com.",
                    },
                ]

            def _refused(self) -> bool:
                """Answers 401 (and returns True) unless the key may call this endpoint."""
                key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if key == fake.api_key:
                    return False
                if key in fake.sending_keys:
                    if self.command == "POST" and self.path in ("/emails", "/emails/batch"):
                        return False
                    self._answer(
                        401,
                        {
                            "statusCode": 401,
                            "name": "restricted_api_key",
                            "message": "This API key is restricted to only send emails",
                        },
                    )
                    return True
                self._answer(401, {"statusCode": 401, "name": "invalid_api_key", "message": "API key is invalid"})
                return True

            def do_GET(self):
                with fake.lock:
                    if self._refused():
                        return None
                    if self.path.split("?")[0] == "/domains":
                        listed = [{k: v for k, v in d.items() if k != "records"} for d in fake.domains.values()]
                        return self._answer(200, {"object": "list", "has_more": False, "data": listed})
                    if self.path.split("?")[0] == "/webhooks":
                        listed = [{k: v for k, v in w.items() if k != "signing_secret"} for w in fake.webhooks.values()]
                        return self._answer(200, {"object": "list", "has_more": False, "data": listed})
                    domain_id = self.path.rsplit("/", 1)[-1]
                    if self.path.startswith("/domains/") and domain_id in fake.domains:
                        return self._answer(200, fake.domains[domain_id])
                    return self._answer(404, {"statusCode": 404, "name": "not_found", "message": "no such domain"})

            def _webhooks_post(self, body: dict):
                endpoint, events = body.get("endpoint"), body.get("events")
                if not str(endpoint or "").startswith("https://") or not isinstance(events, list) or not events:
                    return self._answer(
                        422,
                        {"statusCode": 422, "name": "validation_error", "message": "endpoint (https) and events"},
                    )
                webhook_id = str(uuid.uuid4())
                fake.webhooks[webhook_id] = {
                    "object": "webhook",
                    "id": webhook_id,
                    "endpoint": endpoint,
                    "events": events,
                    "status": "enabled",
                    "created_at": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "signing_secret": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
                }
                hook = fake.webhooks[webhook_id]
                return self._answer(
                    201, {"object": "webhook", "id": webhook_id, "signing_secret": hook["signing_secret"]}
                )

            def do_DELETE(self):
                with fake.lock:
                    fake.requests.append({"path": self.path, "method": "DELETE", "at": time.monotonic()})
                    if self._refused():
                        return None
                    webhook_id = self.path.rsplit("/", 1)[-1]
                    if self.path.startswith("/webhooks/") and fake.webhooks.pop(webhook_id, None) is not None:
                        return self._answer(200, {"object": "webhook", "id": webhook_id, "deleted": True})
                    return self._answer(404, {"statusCode": 404, "name": "not_found", "message": "no such webhook"})

            def _domains_post(self, body: dict):
                if self.path == "/domains":
                    domain_id = str(uuid.uuid4())
                    fake.domains[domain_id] = {
                        "id": domain_id,
                        "name": body["name"],
                        "status": "not_started",
                        "records": self._domain_records(body["name"]),
                    }
                    return self._answer(200, fake.domains[domain_id])
                domain_id = self.path.split("/")[2]
                domain = fake.domains.get(domain_id)
                if domain is None:
                    return self._answer(404, {"statusCode": 404, "name": "not_found", "message": "no such domain"})
                ok = domain["name"] in fake.dns_published
                domain["status"] = "verified" if ok else "pending"
                for record in domain["records"]:
                    record["status"] = "verified" if ok else "pending"
                return self._answer(200, {"object": "domain", "id": domain_id})

            def _rate_headers(self) -> dict | None:
                """None when over the limit; otherwise the draft-06 headers Resend sends."""
                limit = fake.rate_limit_per_second
                if limit is None:
                    return {}
                now = time.monotonic()
                fake._recent = [t for t in fake._recent if now - t < 1.0]
                if len(fake._recent) >= limit:
                    return None
                fake._recent.append(now)
                return {
                    "ratelimit-limit": str(limit),
                    "ratelimit-remaining": str(limit - len(fake._recent)),
                    "ratelimit-reset": "1",
                }

            @staticmethod
            def _invalid(email: dict) -> bool:
                return not email.get("to") or "@" not in str(email.get("from", ""))

            def _send(self, email: dict, key: str | None, batch_key: str | None = None) -> str:
                email_id = str(uuid.uuid4())
                fake.sent.append(
                    {
                        "id": email_id,
                        **email,
                        "idempotency_key": key,
                        "batch_key": batch_key,
                        "received_at": time.time(),
                    }
                )
                return email_id

            def _emails(self, raw: bytes, key: str | None, rate: dict):
                body = json.loads(raw)
                if self._invalid(body):
                    return self._answer(
                        422, {"statusCode": 422, "name": "validation_error", "message": "Invalid `from` or `to`"}, rate
                    )
                answer = {"id": self._send(body, key)}
                if key:
                    fake.by_key[key] = (json.dumps(answer), raw.decode())
                return self._answer(200, answer, rate)

            def _batch(self, raw: bytes, key: str | None, rate: dict):
                emails = json.loads(raw)
                if not isinstance(emails, list) or not 1 <= len(emails) <= 100:
                    return self._answer(
                        422,
                        {"statusCode": 422, "name": "validation_error", "message": "A batch holds 1 to 100 emails"},
                        rate,
                    )
                data, errors = [], []
                for index, email in enumerate(emails):
                    if self._invalid(email):
                        errors.append({"index": index, "message": "Invalid `from` or `to`"})
                    else:
                        data.append({"id": self._send(email, None, batch_key=key)})
                answer = {"data": data, "errors": errors}
                if key:
                    fake.by_key[key] = (json.dumps(answer), raw.decode())
                return self._answer(200, answer, rate)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key")
                arrived = time.monotonic()
                if fake.latency_s:
                    low, high = fake.latency_s if isinstance(fake.latency_s, tuple) else (fake.latency_s,) * 2
                    time.sleep(random.uniform(low, high))
                with fake.lock:
                    fake.requests.append(
                        {"path": self.path, "key": key, "body": raw, "at": time.monotonic(), "arrived": arrived}
                    )
                    if self._refused():
                        return None
                    if fake.fail_next:
                        status, name, headers = fake.fail_next.pop(0)
                        return self._answer(status, {"statusCode": status, "name": name, "message": name}, headers)
                    if self.path.startswith("/domains"):
                        return self._domains_post(json.loads(raw or b"{}"))
                    if self.path == "/webhooks":
                        return self._webhooks_post(json.loads(raw or b"{}"))
                    if self.path not in ("/emails", "/emails/batch"):
                        return self._answer(404, {"statusCode": 404, "name": "not_found", "message": "no route"})
                    rate = self._rate_headers()
                    if rate is None:
                        fake.rate_limited += 1
                        return self._answer(
                            429,
                            {"statusCode": 429, "name": "rate_limit_exceeded", "message": "Too many requests"},
                            {
                                "retry-after": "1",
                                "ratelimit-limit": str(fake.rate_limit_per_second),
                                "ratelimit-remaining": "0",
                                "ratelimit-reset": "1",
                            },
                        )
                    if key and key in fake.by_key and fake.limit_replays > 0:
                        fake.limit_replays -= 1
                        fake.rate_limited += 1
                        return self._answer(
                            429,
                            {"statusCode": 429, "name": "rate_limit_exceeded", "message": "Too many requests"},
                            {"retry-after": "1"},
                        )
                    if key and key in fake.by_key:
                        answer, seen_body = fake.by_key[key]
                        if seen_body != raw.decode():
                            return self._answer(
                                409,
                                {
                                    "statusCode": 409,
                                    "name": "invalid_idempotent_request",
                                    "message": "Same idempotency key, different body",
                                },
                            )
                        return self._answer(200, json.loads(answer), rate)
                    if self.path == "/emails/batch":
                        return self._batch(raw, key, rate)
                    return self._emails(raw, key, rate)

        return Handler

    def __enter__(self) -> FakeResend:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._other_client is not None:
            self._other_client.set()
        with contextlib.suppress(Exception):
            self.server.shutdown()
            self.server.server_close()
