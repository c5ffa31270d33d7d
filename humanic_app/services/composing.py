"""The email as it leaves: the step rendered with its variables, the footer every email carries (postal
address and unsubscribe link) and the RFC 8058 one-click headers. One builder for the dispatcher (what is
sent), the campaign preview (what is shown) and the activation guardrails (what is checked), so the three
can never disagree."""

from __future__ import annotations

import dataclasses
from typing import Any

from humanic_app.models import Workspace
from humanic_app.services import templates, workspace
from humanic_app.services.design import brand as brands, render
from humanic_app.services.design.brand import Brand

ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclasses.dataclass(frozen=True)
class Composed:
    from_address: str
    subject: str
    html: str
    text: str
    headers: dict[str, str]
    missing: list[str]


def unsubscribe_headers(unsubscribe_url: str) -> dict[str, str]:
    """RFC 8058: the link in List-Unsubscribe, and List-Unsubscribe-Post saying a POST to it unsubscribes."""
    return {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": ONE_CLICK}


def layout(ws: Workspace, brand: Brand | None = None) -> render.Layout:
    """The brand layout as the workspace has it now (or with `brand`, one being edited)."""
    return render.Layout(
        brand=brand or brands.of(ws), address=ws.physical_address or "", name=ws.name or "", partials=ws.partials or {}
    )


def compose(
    *,
    subject: str,
    html: str | None,
    text: str | None,
    variables: dict[str, Any],
    ws: Workspace,
    unsubscribe_url: str,
    blocks: list[dict[str, Any]] | None = None,
    brand: Brand | None = None,
) -> Composed:
    """An email of `blocks` goes out in the brand layout, read from the workspace now (at send time, so a
    brand change reaches emails already scheduled); an `html` one as written, followed by the footer.
    Raises whatever the template raises: the caller decides what a render failure costs."""
    variables = {**variables, "unsubscribe_url": unsubscribe_url}
    if blocks is not None:
        shape = layout(ws, brand)
        design = render.compiled(blocks, shape)
        # Never empty: an empty text part would be derived from the whole layout's HTML instead.
        body_text = text or design.text or " "
        rendered = templates.render(subject=subject, html=design.html, text=body_text, variables=variables)
        rendered.text += render.text_footer(shape, unsubscribe_url)
    else:
        rendered = templates.as_sent(
            templates.render(subject=subject, html=html or "", text=text, variables=variables),
            address=ws.physical_address or "",
            unsubscribe_url=unsubscribe_url,
        )
    return Composed(
        from_address=workspace.from_address(ws),
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        headers=unsubscribe_headers(unsubscribe_url),
        missing=rendered.missing,
    )
