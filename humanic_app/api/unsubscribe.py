"""Public unsubscribe links. GET shows a confirmation page and never unsubscribes by itself (mail
scanners follow links); POST — the button, or a mail client's RFC 8058 one-click — unsubscribes at once,
without cookies. No redirects.

The page is the one piece of Humanic a recipient sees, so it speaks in the sender's name (the workspace's
name from Settings), reads well on a phone and in dark mode, and meets WCAG 2.2 AA on its own: plain HTML
with its styles inline (the content security policy allows inline styles, no scripts are needed)."""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from humanic_app.db import get_engine, session_scope
from humanic_app.services import unsubscribe, workspace

# Colours chosen for at least 4.5:1 against their background in both schemes (muted text ≈ 6.7:1 light,
# 8:1 dark; the button's label ≈ 6.6:1 light, 8:1 dark).
_STYLE = """
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #ffffff; --text: #1c2024; --muted: #555b63;
  --border: #dcdfe4; --accent: #2f4bd6; --on-accent: #ffffff; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #111113; --card: #1c1d21; --text: #edeef0; --muted: #b0b4ba; --border: #363a40;
    --accent: #8da4ff; --on-accent: #0b0d12; }
}
body { margin: 0; background: var(--bg); color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 440px; margin: 12vh auto 32px; padding: 28px 24px; box-sizing: border-box;
  background: var(--card); border: 1px solid var(--border); border-radius: 12px; }
@media (max-width: 480px) { main { margin: 24px 12px; padding: 24px 18px; } }
.sender { margin: 0 0 4px; color: var(--muted); font-size: 14px; }
h1 { margin: 0 0 12px; font-size: 22px; line-height: 1.3; overflow-wrap: anywhere; }
p { margin: 0 0 16px; }
strong { overflow-wrap: anywhere; }
button { font: inherit; font-weight: 600; min-height: 44px; padding: 10px 20px; border: 0; border-radius: 8px;
  background: var(--accent); color: var(--on-accent); cursor: pointer; }
button:focus-visible { outline: 3px solid var(--text); outline-offset: 2px; }
.note { margin: 16px 0 0; color: var(--muted); font-size: 14px; }
"""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>{style}</style></head>
<body><main>
<p class="sender">Email preferences</p>
<h1>{heading}</h1>
{body}
</main></body></html>"""


@dataclass(frozen=True)
class _Found:
    sender: str  # the workspace's name: who the recipient is hearing from
    email: str | None  # the recipient, or None when the link is not recognised


def _page(found: _Found, heading: str, body: str, status: int = 200) -> HTMLResponse:
    title = heading if found.sender in heading else f"{heading} · {found.sender}"
    text = _PAGE.format(title=html.escape(title), style=_STYLE, heading=html.escape(heading), body=body)
    return HTMLResponse(text, status_code=status)


def _lookup(token: str) -> _Found:
    with session_scope(get_engine()) as session:
        message = unsubscribe.message_for_token(session=session, token=token)
        return _Found(workspace.get_workspace(session=session).name, message.to_email if message else None)


def _unsubscribe(token: str) -> _Found:
    with session_scope(get_engine()) as session:
        contact = unsubscribe.unsubscribe(session=session, token=token)
        return _Found(workspace.get_workspace(session=session).name, contact.email if contact else None)


def _not_recognised(found: _Found) -> HTMLResponse:
    body = (
        "<p>This unsubscribe link is not valid: it may have been cut short when it was copied. "
        "Open the link from the email again, or reply to the email to ask to be removed.</p>"
    )
    return _page(found, "Link not recognised", body, 404)


async def unsubscribe_page(request: Request) -> HTMLResponse:
    token = request.path_params["token"]
    if request.method == "POST":
        found = await asyncio.to_thread(_unsubscribe, token)
        if found.email is None:
            return _not_recognised(found)
        body = (
            f"<p><strong>{html.escape(found.email)}</strong> will receive no more emails from "
            f'{html.escape(found.sender)}.</p><p class="note">You can close this page.</p>'
        )
        return _page(found, "You are unsubscribed", body)
    found = await asyncio.to_thread(_lookup, token)
    if found.email is None:
        return _not_recognised(found)
    body = (
        f"<p>Stop all emails from {html.escape(found.sender)} to <strong>{html.escape(found.email)}</strong>?</p>"
        '<form method="post"><button type="submit">Unsubscribe</button></form>'
    )
    return _page(found, f"Unsubscribe from {found.sender}", body)


routes = [Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET", "POST"])]
