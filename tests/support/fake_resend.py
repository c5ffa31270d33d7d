"""A local fake of Resend's HTTP API for sending tests: POST /emails with Idempotency-Key replay as
Resend documents it (same key + same body → the same id; same key + another body → 409), plus injected
rate limits, server errors and latency."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeResend:
    def __init__(self, api_key: str = "re_test_key"):
        self.api_key = api_key
        self.sent: list[dict] = []            # every email accepted (first time per key)
        self.requests: list[dict] = []        # every request seen
        self.by_key: dict[str, tuple[str, str]] = {}
        self.fail_next: list[tuple[int, str, dict]] = []  # (status, name, headers)
        self.domains: dict[str, dict] = {}
        self.dns_published: set[str] = set()  # domain names whose records "exist" (verify succeeds)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def inject(self, status: int, name: str, headers: dict | None = None, times: int = 1) -> None:
        self.fail_next.extend([(status, name, headers or {})] * times)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict, headers: dict | None = None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _domain_records(self, name: str) -> list[dict]:
                return [{"record": "SPF", "name": "send", "type": "MX", "ttl": "Auto", "status": "not_started",
                         "value": "feedback-smtp.us-east-1.amazonses.com", "priority": 10},
                        {"record": "SPF", "name": "send", "type": "TXT", "ttl": "Auto", "status": "not_started",
                         "value": "\"v=spf1 include:amazonses.com ~all\""},
                        {"record": "DKIM", "name": "abc._domainkey", "type": "CNAME", "ttl": "Auto",
                         "status": "not_started", "value": "abc.dkim.amazonses.com."}]

            def do_GET(self):
                with fake.lock:
                    if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                        return self._answer(401, {"statusCode": 401, "name": "invalid_api_key", "message": "bad key"})
                    domain_id = self.path.rsplit("/", 1)[-1]
                    if self.path.startswith("/domains/") and domain_id in fake.domains:
                        return self._answer(200, fake.domains[domain_id])
                    return self._answer(404, {"statusCode": 404, "name": "not_found", "message": "no such domain"})

            def _domains_post(self, body: dict):
                if self.path == "/domains":
                    domain_id = str(uuid.uuid4())
                    fake.domains[domain_id] = {"id": domain_id, "name": body["name"], "status": "not_started",
                                               "records": self._domain_records(body["name"])}
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

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key")
                with fake.lock:
                    fake.requests.append({"path": self.path, "key": key, "body": raw})
                    if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                        return self._answer(401, {"statusCode": 401, "name": "invalid_api_key",
                                                  "message": "API key is invalid"})
                    if fake.fail_next:
                        status, name, headers = fake.fail_next.pop(0)
                        return self._answer(status, {"statusCode": status, "name": name, "message": name}, headers)
                    if self.path.startswith("/domains"):
                        return self._domains_post(json.loads(raw or b"{}"))
                    if self.path != "/emails":
                        return self._answer(404, {"statusCode": 404, "name": "not_found", "message": "no route"})
                    body = json.loads(raw)
                    if key and key in fake.by_key:
                        email_id, seen_body = fake.by_key[key]
                        if seen_body != raw.decode():
                            return self._answer(409, {"statusCode": 409, "name": "invalid_idempotent_request",
                                                      "message": "Same idempotency key, different body"})
                        return self._answer(200, {"id": email_id})
                    if not body.get("to") or "@" not in str(body.get("from", "")):
                        return self._answer(422, {"statusCode": 422, "name": "validation_error",
                                                  "message": "Invalid `from` or `to`"})
                    email_id = str(uuid.uuid4())
                    if key:
                        fake.by_key[key] = (email_id, raw.decode())
                    fake.sent.append({"id": email_id, **body, "idempotency_key": key})
                    return self._answer(200, {"id": email_id})

        return Handler

    def __enter__(self) -> "FakeResend":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            self.server.shutdown()
            self.server.server_close()
