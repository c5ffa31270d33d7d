"""What browsers may do with Humanic: which origins may make credentialed requests and open the event
websocket, and the security headers every answer carries. No Reflex imports: rxconfig.py reads
`allowed_origins` before Reflex builds its app, and the app wraps its ASGI stack in `SecurityHeaders`."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

from humanic_app.settings import Settings

# `make dev` serves the UI on :3000 and the backend on :8000: the UI's pages call the backend cross-origin.
DEV_PORTS = (3000, 8000)
LOCAL_HOSTS = ("localhost", "127.0.0.1")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(*, settings: Settings, dev_mode: bool) -> list[str]:
    """The app's own origins: the public URL when set, the local address it serves on, and in dev mode both
    dev ports. Nothing else gets `access-control-allow-origin` (Reflex's CORS middleware reads this list)."""
    ports = {settings.port, *(DEV_PORTS if dev_mode else ())}
    origins = [f"http://{host}:{port}" for port in sorted(ports) for host in LOCAL_HOSTS]
    if settings.public_url:
        origins.insert(0, origin_of(settings.public_url))
    return origins


def socket_origin_check(origins: list[str]):
    """The event websocket's origin check (engine.io calls it with the handshake's Origin and environ): one
    of `origins`, or the very host the handshake was sent to, which is how the app is reached behind a proxy
    without a public URL. A page elsewhere cannot open it and act with the visitor's sign-in cookie."""
    allowed = set(origins)

    def check(origin: str | None, environ: dict) -> bool:
        if not origin:
            return True  # not a browser page: cookies are not sent on the page's behalf
        host = environ.get("HTTP_HOST", "").lower()
        return origin.lower() in allowed or (bool(host) and urlsplit(origin.lower()).netloc == host)

    return check


def content_security_policy(script_hashes: list[str]) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            # The pages are static build output in which React Router writes its bootstrap and Reflex its
            # colour-mode script inline: those exact scripts (by hash) and the app's own files run, nothing else.
            "script-src 'self'" + "".join(f" 'sha256-{h}'" for h in script_hashes),
            # Radix Themes and emotion write style attributes and <style> elements at run time.
            "style-src 'self' 'unsafe-inline'",
            # email previews (sandboxed srcdoc frames inherit this policy) show the senders' images
            "img-src 'self' data: https: http:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "frame-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def inline_script_hashes(html: bytes) -> list[str]:
    return sorted(
        {base64.b64encode(hashlib.sha256(body).digest()).decode() for body in _INLINE_SCRIPT.findall(html) if body}
    )


def security_headers(*, https: bool, script_hashes: list[str]) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", content_security_policy(script_hashes).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


class SecurityHeaders:
    """ASGI middleware adding `security_headers` to every HTTP answer that does not set them itself. An HTML
    answer is held until complete so its policy can name its inline scripts' hashes (pages are a few KB).
    HSTS is sent when the public URL is https or the request itself came over https."""

    def __init__(self, app, *, public_url: str | None):
        self.app = app
        self.public_https = (public_url or "").lower().startswith("https://")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        https = self.public_https or scope.get("scheme") == "https"
        held: list[dict] = []

        async def send_with_headers(message):
            if message["type"] == "http.response.start" and message["status"] == 304:
                pass  # a browser merges a 304's headers into its cached page's: a policy here would replace its hashes
            elif message["type"] == "http.response.start" and not _is_html(message):
                message["headers"] = _with(message, security_headers(https=https, script_hashes=[]))
            elif message["type"] == "http.response.start" or held:
                held.append(message)
                if message["type"] == "http.response.start" or message.get("more_body"):
                    return
                return await _release(held, send, https)
            await send(message)

        return await self.app(scope, receive, send_with_headers)


async def _release(held: list[dict], send, https: bool) -> None:
    start, bodies = held[0], held[1:]
    html = b"".join(_body_of(m) for m in bodies)
    if html and _header(start, b"content-encoding") == b"gzip":
        html = gzip.decompress(html)
    start["headers"] = _with(start, security_headers(https=https, script_hashes=inline_script_hashes(html)))
    for message in held:
        await send(message)


def _body_of(message: dict) -> bytes:
    """A body message's bytes; the server sends static pages as a file path when it supports pathsend."""
    if message["type"] == "http.response.pathsend":
        return Path(message["path"]).read_bytes()
    return message.get("body", b"")


def _header(start: dict, name: bytes) -> bytes:
    return next((value.lower() for key, value in start.get("headers", []) if key.lower() == name), b"")


def _is_html(start: dict) -> bool:
    return _header(start, b"content-type").startswith(b"text/html")


def _with(start: dict, extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in start.get("headers", [])}
    return list(start.get("headers", [])) + [h for h in extra if h[0] not in present]
