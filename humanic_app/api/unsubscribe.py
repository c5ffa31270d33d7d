"""Public unsubscribe links: the preference page. GET shows the recipient's choices (per-topic checkboxes,
unsubscribe from all, resubscribe) and never changes anything by itself (mail scanners follow links); POST —
the page's buttons, or a mail client's RFC 8058 one-click — acts at once, without cookies. No redirects.

The page is the one piece of Humanic a recipient sees, so it speaks in the sender's name (the workspace's
name from Settings), reads well on a phone and in dark mode, and meets WCAG 2.2 AA on its own: plain HTML
with its styles inline (the content security policy allows inline styles, no scripts are needed)."""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from humanic_app.db import get_engine, session_scope
from humanic_app.services import topics, unsubscribe, workspace

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
.notice { padding: 10px 12px; border-radius: 8px; border: 1px solid var(--border); font-weight: 600; }
fieldset { border: 0; margin: 0 0 16px; padding: 0; }
legend { font-weight: 600; margin-bottom: 8px; padding: 0; }
.topic { display: flex; gap: 10px; align-items: center; min-height: 44px; }
.topic input { width: 22px; height: 22px; margin: 0; accent-color: var(--accent); }
.topic input:focus-visible { outline: 3px solid var(--text); outline-offset: 2px; }
form + form { margin-top: 12px; }
button.secondary { background: transparent; color: var(--text); border: 2px solid var(--border); }
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
class _View:
    sender: str  # the workspace's name: who the recipient is hearing from
    email: str | None  # the recipient, or None when the link is not recognised
    unsubscribed: bool = False
    topics: tuple[tuple[str, str, bool], ...] = ()  # (key, name, subscribed)
    notice: str = ""  # what the last action did, announced to screen readers
    heading: str = ""  # the page's heading when an action calls for its own


def _page(view: _View, heading: str, body: str, status: int = 200) -> HTMLResponse:
    title = heading if view.sender in heading else f"{heading} · {view.sender}"
    text = _PAGE.format(title=html.escape(title), style=_STYLE, heading=html.escape(heading), body=body)
    return HTMLResponse(text, status_code=status)


def _view(session: Session, recipient: unsubscribe.Recipient | None, notice: str = "", heading: str = "") -> _View:
    sender = workspace.get_workspace(session=session).name
    if recipient is None:
        return _View(sender, None)
    prefs = topics.preferences(session=session, contact=recipient.contact)
    return _View(
        sender,
        recipient.email,
        prefs["unsubscribed_from_all"],
        tuple((t["key"], t["name"], t["subscribed"]) for t in prefs["topics"]),
        notice,
        heading,
    )


def _lookup(token: str) -> _View:
    with session_scope(get_engine()) as session:
        return _view(session, unsubscribe.recipient_for(session=session, token=token))


def _one_click(token: str) -> _View:
    with session_scope(get_engine()) as session:
        recipient = unsubscribe.unsubscribe(session=session, token=token)
        if recipient is None:
            return _view(session, None)
        if recipient.topic and not recipient.transactional:
            heading = f"You are unsubscribed from {recipient.topic_name}"
            notice = f"{recipient.email} will receive no more {recipient.topic_name} emails."
        else:
            heading = "You are unsubscribed"
            notice = f"{recipient.email} will receive no more marketing emails."
        return _view(session, recipient, notice, heading)


def _choose(token: str, action: str, subscribed: set[str]) -> _View:
    """The page's own buttons: save the topics, unsubscribe from all, or resubscribe."""
    with session_scope(get_engine()) as session:
        recipient = unsubscribe.recipient_for(session=session, token=token)
        if recipient is None:
            return _view(session, None)
        contact = recipient.contact
        if action == "all":
            topics.unsubscribe_from_all(session=session, contact=contact, note="preference page")
            notice = "You are unsubscribed from all marketing emails."
        elif action == "resubscribe":
            topics.resubscribe(session=session, contact=contact)
            notice = "You are subscribed again."
        else:
            for topic in topics.list_topics(session=session):
                topics.set_topic(session=session, contact=contact, key=topic.key, subscribed=topic.key in subscribed)
            notice = "Your choices are saved."
        return _view(session, recipient, notice)


def _not_recognised(view: _View) -> HTMLResponse:
    body = (
        "<p>This unsubscribe link is not valid: it may have been cut short when it was copied. "
        "Open the link from the email again, or reply to the email to ask to be removed.</p>"
    )
    return _page(view, "Link not recognised", body, 404)


_TRANSACTIONAL_NOTE = (
    '<p class="note">Emails about your account and billing (receipts, password resets) still arrive: '
    "they are not marketing.</p>"
)


def _topic_boxes(view: _View) -> str:
    boxes = "".join(
        f'<label class="topic"><input type="checkbox" name="topic" value="{html.escape(key)}"'
        f"{' checked' if subscribed else ''}> {html.escape(name)}</label>"
        for key, name, subscribed in view.topics
    )
    return (
        '<form method="post"><fieldset><legend>Emails you receive</legend>'
        f'{boxes}</fieldset><button type="submit" name="action" value="save">Save choices</button></form>'
    )


def _preferences(view: _View) -> HTMLResponse:
    email = html.escape(view.email or "")
    sender = html.escape(view.sender)
    notice = f'<p class="notice" role="status">{html.escape(view.notice)}</p>' if view.notice else ""
    if view.unsubscribed:
        body = (
            f"{notice}<p>You are unsubscribed from all marketing emails from {sender} to <strong>{email}</strong>.</p>"
            '<form method="post"><button type="submit" name="action" value="resubscribe">Resubscribe</button></form>'
        )
    else:
        body = (
            f"{notice}<p>Choose what {sender} sends to <strong>{email}</strong>.</p>"
            + (_topic_boxes(view) if view.topics else "")
            + '<form method="post"><button type="submit" name="action" value="all" class="secondary">'
            "Unsubscribe from all</button></form>"
        )
    return _page(view, view.heading or f"Your emails from {view.sender}", body + _TRANSACTIONAL_NOTE)


async def unsubscribe_page(request: Request) -> HTMLResponse:
    """GET shows the preferences; POST with the page's `action` applies a choice; any other POST (a mail
    client's RFC 8058 one-click, body List-Unsubscribe=One-Click) unsubscribes from the email's topic."""
    token = request.path_params["token"]
    if request.method == "POST":
        form = await request.form()
        action = str(form.get("action") or "")
        if action in ("save", "all", "resubscribe"):
            chosen = {str(v) for v in form.getlist("topic")}
            view = await asyncio.to_thread(_choose, token, action, chosen)
        else:
            view = await asyncio.to_thread(_one_click, token)
    else:
        view = await asyncio.to_thread(_lookup, token)
    if view.email is None:
        return _not_recognised(view)
    return _preferences(view)


routes = [Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET", "POST"])]
