"""The origins allowed to make credentialed requests and open the event websocket, and the headers added."""

import base64
import gzip
import hashlib

from humanic_app import browser_security
from humanic_app.settings import load_settings
from tests.support import aio


def test_allowed_origins_are_the_apps_own():
    local = load_settings({"PORT": "4100"})
    assert browser_security.allowed_origins(settings=local, dev_mode=False) == [
        "http://localhost:4100",
        "http://127.0.0.1:4100",
    ]
    public = load_settings({"PORT": "4100", "HUMANIC_PUBLIC_URL": "https://Humanic.Example.com/"})
    assert browser_security.allowed_origins(settings=public, dev_mode=False)[0] == "https://humanic.example.com"
    dev = browser_security.allowed_origins(settings=load_settings({}), dev_mode=True)
    assert {"http://localhost:3000", "http://localhost:8000", "http://127.0.0.1:8000"} <= set(dev)
    assert not any("evil" in origin for origin in dev)


def test_the_socket_accepts_listed_origins_and_its_own_host_only():
    check = browser_security.socket_origin_check(["https://humanic.example.com"])
    behind_proxy = {"HTTP_HOST": "mail.acme.io"}
    assert check("https://humanic.example.com", behind_proxy)
    assert check("https://mail.acme.io", behind_proxy)  # the host the page and the socket were served from
    assert not check("https://evil.example", behind_proxy)
    assert not check("https://mail.acme.io.evil.example", behind_proxy)
    assert not check("https://evil.example", {})


def _serve(body: bytes, headers: list, *, scheme: str = "http", public_url: str | None = None, status: int = 200):
    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body[:10], "more_body": True})
        await send({"type": "http.response.body", "body": body[10:]})

    sent = []

    async def send(message):
        sent.append(message)

    middleware = browser_security.SecurityHeaders(inner, public_url=public_url)
    aio.run(middleware({"type": "http", "scheme": scheme}, None, send))
    return dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_a_page_gets_the_policy_with_its_own_inline_scripts_hashes_and_is_unchanged():
    page = b"<html><script>window.boot = 1;</script><script src='/a.js'></script></html>"
    digest = base64.b64encode(hashlib.sha256(b"window.boot = 1;").digest()).decode()
    for body, extra in [(page, []), (gzip.compress(page), [(b"content-encoding", b"gzip")])]:
        headers, sent_body = _serve(body, [(b"Content-Type", b"text/html; charset=utf-8")] + extra)
        policy = headers[b"content-security-policy"].decode()
        assert f"'sha256-{digest}'" in policy and "frame-ancestors 'none'" in policy
        assert policy.count("'sha256-") == 1
        assert sent_body == body
        assert headers[b"x-content-type-options"] == b"nosniff" and headers[b"referrer-policy"] == b"same-origin"
        assert b"strict-transport-security" not in headers


def test_hsts_over_https_and_no_policy_on_a_304():
    headers, _ = _serve(b"{}", [(b"content-type", b"application/json")], scheme="https")
    assert headers[b"strict-transport-security"].startswith(b"max-age=")
    headers, _ = _serve(b"{}", [(b"content-type", b"application/json")], public_url="https://humanic.example.com")
    assert b"strict-transport-security" in headers
    headers, _ = _serve(b"", [(b"etag", b'"x"')], status=304)
    assert b"content-security-policy" not in headers
