"""Before activation: what a campaign needs before it may send, each refusal with its fix. The one home of
these checks: `store.set_status` runs them on every way to active (Activate in the builder or the list,
`POST /campaigns/{id}/activate`, Resume after a pause), and the campaign page shows them before anyone
clicks. A campaign imported from YAML starts as a draft, so it meets them when it is activated.

Refused (blockers):
- a default From address, on a domain verified in Resend (with the local outbox nothing leaves the
  machine, so no domain is needed);
- a physical mailing address (printed in every footer: CAN-SPAM, Gmail's and Yahoo's bulk-sender rules);
- every email step renders, and the email as sent (the dispatcher's own builder, `composing.compose`, not
  the template) carries a working unsubscribe link — a link on the links' base URL whose `/unsubscribe/`
  token verifies, in the HTML (a real `<a href>`, not swallowed by an unclosed comment, `<style>` or
  `<script>` in the step's HTML) and in the text — and the RFC 8058 `List-Unsubscribe` and
  `List-Unsubscribe-Post` headers. Through Resend that link must also be one a recipient can open: https
  (RFC 8058) on a public host.
Warned (never blocks): no DMARC record for the From domain, with the record to add (`dmarc.py`); it is
looked up only when sending through Resend — with the local outbox no DNS question leaves the machine either.
"""

from __future__ import annotations

import dataclasses
import html as html_lib
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from humanic_app import routes
from humanic_app.models import Campaign, Event, Workspace
from humanic_app.services import composing, dmarc, domains, templates, unsubscribe, workspace
from humanic_app.services.campaigns.preview import variables_for_event
from humanic_app.services.campaigns.schema import node_label, validate_document
from humanic_app.services.errors import ValidationFailed
from humanic_app.services.sending import credentials

# The unsubscribe link checked is signed for this message id, which no message has (ids start at 1).
PROBE_MESSAGE_ID = 0


@dataclasses.dataclass(frozen=True)
class Blocker:
    field: str  # the API's name for what is wrong: from_email, from_domain, physical_address, public_url, steps.N
    problem: str  # what is wrong and how to fix it, in the marketer's words
    href: str  # the page where it is fixed


def resend_configured(*, session: Session) -> bool:
    """Whether emails leave through Resend (a key in effect, from the environment or Settings → Sending)."""
    return credentials.in_effect(session=session).configured


def blockers(*, session: Session, campaign: Campaign, sending_through_resend: bool | None = None) -> list[Blocker]:
    """Everything that refuses this campaign's activation, in the order a marketer fixes them."""
    through_resend = resend_configured(session=session) if sending_through_resend is None else sending_through_resend
    ws = workspace.get_workspace(session=session)
    found = _sender_blockers(session, ws, through_resend)
    links_base = workspace.links_base_url(workspace=ws)
    if through_resend and (problem := _unreachable(links_base)):
        found.append(Blocker("public_url", problem, routes.SETTINGS))
    return found + _step_blockers(session, ws, campaign, links_base)


def require_ready(*, session: Session, campaign: Campaign) -> None:
    """Raises ValidationFailed naming each blocker by its field (the API answers 422 with them)."""
    if found := blockers(session=session, campaign=campaign):
        raise ValidationFailed({b.field: b.problem for b in found})


def _sender_blockers(session: Session, ws: Workspace, through_resend: bool) -> list[Blocker]:
    found = []
    if not ws.from_email:
        no_from = "No default From address: set it in Settings → Default From address."
        found.append(Blocker("from_email", no_from, routes.SETTINGS))
    elif unverified := domains.sending_domain_problem(
        session=session, from_email=ws.from_email, resend_configured=through_resend
    ):
        found.append(Blocker("from_domain", unverified, routes.DOMAINS))
    if not ws.physical_address.strip():
        found.append(
            Blocker(
                "physical_address",
                "No physical mailing address: every email's footer must show one. Add your postal address in "
                "Settings → Physical mailing address.",
                routes.SETTINGS,
            )
        )
    return found


def _unreachable(links_base: str) -> str | None:
    parts = urlsplit(links_base)
    if parts.scheme == "https" and not workspace.is_private_url(links_base):
        return None
    return (
        f"Unsubscribe links would start with {links_base}, which recipients cannot open (one-click unsubscribe "
        "needs a public https address): set Settings → Public URL to the https address this app is reached at."
    )


def _step_blockers(session: Session, ws: Workspace, campaign: Campaign, links_base: str) -> list[Blocker]:
    """Each email step rendered on the latest event of the trigger (or the sample event) exactly as the
    dispatcher builds it, then its unsubscribe link and headers checked."""
    event = session.exec(
        select(Event).where(Event.event_name == campaign.trigger_event).order_by(col(Event.id).desc()).limit(1)
    ).first()
    variables = variables_for_event(session=session, event=event)
    on = f"event #{event.id}" if event else "the sample event"
    url = unsubscribe.url_for(session=session, public_url=links_base, message_id=PROBE_MESSAGE_ID)
    doc = validate_document(campaign.definition)
    found = []
    for index, step in doc.emails():
        try:
            email = composing.compose(
                subject=step.subject,
                html=step.html,
                blocks=step.block_data(),
                text=step.text,
                variables=variables,
                ws=ws,
                unsubscribe_url=url,
            )
        except Exception as exc:  # what the template raises is what every email of this step would hit
            problem = f"{node_label(doc, index)} cannot be rendered on {on}: {templates.describe_error(exc)}. "
            found.append(Blocker(f"steps.{index}", problem + "Fix its template first.", routes.CAMPAIGNS))
            continue
        if missing := _unsubscribe_missing(session, email, url, links_base):
            found.append(
                Blocker(f"steps.{index}", f"{node_label(doc, index)}: the email as sent {missing}", routes.CAMPAIGNS)
            )
    return found


# Elements whose content a browser reads as text, never as markup (the parser itself knows script and style).
_TEXT_ONLY = {"textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"}


class _Links(HTMLParser):
    """The hrefs of the `<a>` elements a mail client would show (not those inside comments, scripts or
    elements that hold only text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self._inside_text: str = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._inside_text:
            return
        if tag in _TEXT_ONLY:
            self._inside_text = tag
        elif tag == "a":
            self.hrefs += [value or "" for name, value in attrs if name == "href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == self._inside_text:
            self._inside_text = ""


def _unsubscribe_missing(session: Session, email: composing.Composed, url: str, links_base: str) -> str:
    """What the composed email lacks for a working one-click unsubscribe, with the fix; "" when nothing."""
    parser = _Links()
    # never closed: what an unfinished comment or <style> holds stays unparsed, as in a mail client
    parser.feed(email.html)
    token = url.removeprefix(links_base.rstrip("/") + unsubscribe.PATH)
    if token == url or not unsubscribe.token_is_genuine(session=session, token=token):
        return "carries no unsubscribe link this app can honour: check Settings → Public URL."
    if url not in parser.hrefs and html_lib.unescape(url) not in parser.hrefs:
        return (
            "hides the unsubscribe link the footer adds: its HTML leaves a comment, <style> or <script> open, "
            "which swallows the footer. Close it in this step's HTML."
        )
    if url not in email.text:
        return "has no unsubscribe link in its text part: keep the footer the sender adds."
    if email.headers != composing.unsubscribe_headers(url):
        return "lacks the List-Unsubscribe headers mailbox providers require."
    return ""


def dmarc_check(
    *, from_email: str, sending_through_resend: bool, checker: dmarc.DmarcChecker | None = None
) -> dmarc.DmarcCheck | None:
    """The DMARC warning's facts for the From domain; None without a From address, or with the local
    outbox (nothing is sent, so no DNS question is asked). It may wait for DNS (a few seconds at most), so
    it takes no session: call it outside any write transaction, and off the event loop."""
    if not sending_through_resend or "@" not in from_email:
        return None
    return (checker or dmarc.default_checker()).check(domain=from_email.rsplit("@", 1)[1], report_to=from_email)


def dmarc_warning(check: dmarc.DmarcCheck | None) -> str:
    """The notice shown for a check, in the marketer's words ("" when all is well)."""
    if check is None or check.status == dmarc.DmarcStatus.found:
        return ""
    if check.status == dmarc.DmarcStatus.unknown:
        return (
            f"The DMARC record of {check.domain} could not be checked ({check.reason}); activation is not "
            f"held up. If {check.domain} has none, add this TXT record at your DNS provider:"
        )
    return (
        f"{check.domain} has no DMARC record. Gmail and Yahoo expect one from bulk senders; sending goes "
        "ahead, but add this TXT record at your DNS provider:"
    )


def warnings_as_list(check: dmarc.DmarcCheck | None) -> list[dict[str, str]]:
    """The non-blocking warnings as the API answers them (the DMARC one, with the record to add)."""
    if not (problem := dmarc_warning(check)) or check is None:
        return []
    return [
        {
            "field": "dmarc",
            "status": check.status.value,
            "problem": problem,
            "record_name": check.record_name,
            "record_type": "TXT",
            "record_value": check.record_value,
            "record": check.record,
        }
    ]


def readiness_as_dict(*, found: list[Blocker], check: dmarc.DmarcCheck | None) -> dict[str, Any]:
    """What activating a campaign would meet, as the API answers it: blockers (refused) and warnings."""
    return {
        "ready": not found,
        "blockers": [dataclasses.asdict(b) for b in found],
        "warnings": warnings_as_list(check),
    }
