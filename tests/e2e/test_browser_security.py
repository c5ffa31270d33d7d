"""Browser security on the real app: CORS only for the app's own origins, the event websocket refuses other
origins, every page carries the security headers and runs under its content security policy without a
violation, and sign-in attempts get growing delays per client address (X-Forwarded-For from a trusted proxy)."""

import re
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from humanic_app.db import make_engine
from humanic_app.models import SignInAttempt
from humanic_app.services import sign_in_throttle
from tests.e2e.helpers import sign_in
from tests.support.server import create_owner, run_dir, running_app

EVIL = "https://evil.example"
OWNER = ("owner@security.test", "owner password 123")
PAGES = [
    ("/", "Dashboard"),
    ("/integrations", "Integrations"),
    ("/events", "Event Log"),
    ("/campaigns", "Campaigns"),
    ("/contacts", "Contacts"),
    ("/messages", "Messages"),
    ("/domains", "Domains"),
    ("/settings", "Settings"),
]


@pytest.fixture(scope="module")
def app():
    # the test client reaches the app from 127.0.0.1, which plays the trusted reverse proxy here
    with running_app("security", {"HUMANIC_TRUSTED_PROXIES": "127.0.0.1"}) as running:
        create_owner("security", OWNER)
        yield running


def _preflight(url: str, origin: str) -> dict[str, str]:
    request = urllib.request.Request(
        url + "/api/v1/settings", method="OPTIONS", headers={"Origin": origin, "Access-Control-Request-Method": "PUT"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as refused:
        return {k.lower(): v for k, v in refused.headers.items()}


def test_credentialed_cors_only_for_the_apps_own_origin(app):
    assert "access-control-allow-origin" not in _preflight(app.url, EVIL)
    own = _preflight(app.url, app.url)
    assert own["access-control-allow-origin"] == app.url
    assert own["access-control-allow-credentials"] == "true"


def _websocket_handshake_status(url: str, origin: str) -> int:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            (
                f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: {origin}\r\n\r\n"
            ).encode()
        )
        status_line = sock.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def test_the_event_websocket_refuses_other_origins(app):
    assert _websocket_handshake_status(app.url, app.url) == 101
    assert _websocket_handshake_status(app.url, EVIL) != 101


def test_pages_and_api_answers_carry_the_security_headers(app):
    for path in ["/signin/", "/api/v1/settings", "/healthz"]:
        try:
            answer = urllib.request.urlopen(app.url + path, timeout=10)
        except urllib.error.HTTPError as refused:
            answer = refused
        headers = {k.lower(): v for k, v in answer.headers.items()}
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # served over http here


def test_every_page_runs_under_the_policy_without_a_violation(browser, app):
    context = browser.new_context(base_url=app.url)
    context.set_default_timeout(20_000)
    context.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push("
        "e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));"
    )
    page = context.new_page()
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if "Content Security Policy" in m.text else None)
    seen = []
    page.goto("/signin")
    expect(page.get_by_role("heading", name="Sign in to Humanic")).to_be_visible()
    seen += page.evaluate("window.__cspViolations")
    sign_in(page, *OWNER)
    for path, heading in PAGES:
        page.goto(path)
        expect(page.get_by_role("heading", level=1, name=re.compile(f"^{re.escape(heading)}")).first).to_be_visible()
        expect(page.locator("#signed-in-as")).to_have_text(OWNER[0])
        seen += page.evaluate("window.__cspViolations")
    page.goto("/integrations")  # a client-side action that runs JavaScript: copying the webhook URL
    page.get_by_role("button", name="Connect").click()
    page.locator("#copy-webhook-url").click()
    expect(page.locator("#integrations-message")).to_contain_text("Webhook URL copied")
    seen += page.evaluate("window.__cspViolations")
    page.goto("/unsubscribe/not-a-valid-token")
    seen += page.evaluate("window.__cspViolations")
    context.close()
    assert seen == [] and console_errors == []


def _failures_counted(address: str) -> int:
    with Session(_app_database()) as session:
        row = session.get(SignInAttempt, sign_in_throttle.address_key(address))
        return row.failures if row else 0


def _app_database():
    return make_engine(f"sqlite:///{run_dir('security') / 'data' / 'humanic.db'}")


def _wait_for(condition, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_sign_in_attempts_are_delayed_per_client_address_named_by_the_trusted_proxy(browser, app):
    """127.0.0.1 is the trusted proxy here, so each X-Forwarded-For address is counted on its own."""

    def page_from(address: str):
        context = browser.new_context(base_url=app.url, extra_http_headers={"X-Forwarded-For": address})
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.goto("/signin")
        expect(page.get_by_role("heading", name="Sign in to Humanic")).to_be_visible()
        page.fill("#email", OWNER[0])
        return page

    neighbour = page_from("198.51.100.8")
    neighbour.fill("#password", "not the password")
    neighbour.get_by_role("button", name="Sign in").click()
    expect(neighbour.locator("#auth-error")).to_contain_text("do not match")
    _wait_for(lambda: _failures_counted("198.51.100.8") == 1)
    assert _failures_counted("127.0.0.1") == 0

    with Session(_app_database()) as session:  # a script's earlier guesses from 198.51.100.7
        for _ in range(sign_in_throttle.FREE_FAILURES + 4):
            sign_in_throttle.record_failure(session=session, keys=[sign_in_throttle.address_key("198.51.100.7")])
        session.commit()
    guesser = page_from("198.51.100.7")
    guesser.fill("#password", OWNER[1])
    guesser.get_by_role("button", name="Sign in").click()
    expect(guesser.locator("#auth-error")).to_contain_text(re.compile(r"Too many attempts; try again in \d+ seconds"))
    expect(guesser.locator("#signed-in-as")).to_have_count(0)

    sign_in(neighbour, *OWNER)  # the account itself was never delayed: only the guessing address is
