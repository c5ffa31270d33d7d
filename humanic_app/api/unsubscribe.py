"""Public unsubscribe links. GET shows a confirmation page and never unsubscribes by itself (mail
scanners follow links); POST — the button, or a mail client's RFC 8058 one-click — unsubscribes at once,
without cookies. No redirects."""

from __future__ import annotations

import asyncio
import html

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from humanic_app.db import get_engine, session_scope
from humanic_app.services import unsubscribe

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:480px;margin:80px auto;padding:0 16px">
<h1 style="font-size:22px">{title}</h1><p>{body}</p></body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status)


def _lookup(token: str):
    with session_scope(get_engine()) as session:
        message = unsubscribe.message_for_token(session=session, token=token)
        return message.to_email if message else None


def _unsubscribe(token: str):
    with session_scope(get_engine()) as session:
        contact = unsubscribe.unsubscribe(session=session, token=token)
        return contact.email if contact else None


async def unsubscribe_page(request: Request) -> HTMLResponse:
    token = request.path_params["token"]
    if request.method == "POST":
        email = await asyncio.to_thread(_unsubscribe, token)
        if email is None:
            return _page("Link not recognised", "This unsubscribe link is not valid.", 404)
        return _page("You are unsubscribed", f"{html.escape(email)} will receive no more emails from us.")
    email = await asyncio.to_thread(_lookup, token)
    if email is None:
        return _page("Link not recognised", "This unsubscribe link is not valid.", 404)
    form = (
        f'<form method="post"><p>Stop all emails to <strong>{html.escape(email)}</strong>?</p>'
        '<button type="submit" style="padding:8px 16px">Unsubscribe</button></form>'
    )
    return _page("Unsubscribe", form)


routes = [Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET", "POST"])]
