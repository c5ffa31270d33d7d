"""A marketer on a phone (390 px) exports a contact's data and erases the contact from its dialog on the
Contacts page: the confirmation says what goes and what stays, Keep it changes nothing, the download is the
contact's JSON, and after erasing the contact is gone and its address is suppressed only as a hash. Each look
audited by axe-core and written to the gallery."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import Page, expect

from humanic_app import routes
from humanic_app.services.samples import posthog_event
from tests.e2e import test_every_page as walk
from tests.e2e.test_every_page import check, open_page, signed_in
from tests.support.look import settled
from tests.support.webhooks import post_like_posthog

RUN = uuid.uuid4().hex[:6]
EMAIL = f"grace.{RUN}@erase.example"

contexts = walk.contexts


def _find(page: Page, count: int) -> None:
    """Searches for this module's contact until the list shows `count` rows (processing runs just after the
    webhook answered)."""
    open_page(page, routes.CONTACTS)
    page.fill("#contact-search", RUN)
    search = page.get_by_role("button", name="Search")
    for _ in range(40):
        search.click()
        try:
            expect(page.locator(".contact-row")).to_have_count(count, timeout=500)
            return
        except AssertionError:
            continue
    expect(page.locator(".contact-row")).to_have_count(count)


def test_export_then_erase_a_contact_on_a_phone(contexts, browser, app_url, owner):
    page = signed_in(contexts, browser, app_url, owner, "light", "phone")
    source = page.request.post(f"{app_url}/api/v1/sources", data={"name": f"Erasure {RUN}"}).json()
    assert page.request.post(f"{app_url}/api/v1/sources/{source['id']}/activate").ok
    hook = source["webhook_url"].replace("http://testserver", app_url)
    event = posthog_event(event="erasure_seen", distinct_id=f"grace-{RUN}", email=EMAIL, name="Grace Hopper")
    assert post_like_posthog(hook, event) == 200
    _find(page, 1)

    page.locator(".contact-row").get_by_role("button", name=EMAIL).click()
    view = page.get_by_role("dialog")
    expect(view.locator("#contact-timeline")).to_contain_text("erasure_seen")

    with page.expect_download() as download:
        view.get_by_role("button", name="Export (JSON)").click()
    assert download.value.suggested_filename.startswith("humanic-contact-")
    exported = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert exported["contact"]["email"] == EMAIL
    assert [e["event_name"] for e in exported["events"]] == ["erasure_seen"]

    view.get_by_role("button", name="Erase contact…").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text(f"Erase {EMAIL}?")
    expect(confirm).to_contain_text("It cannot be undone")
    expect(confirm).to_contain_text("never email it again")
    settled(page)
    check(page, "contacts-erase-confirm-light-phone", full_page=False)
    confirm.get_by_role("button", name="Keep it").click()
    expect(confirm).to_have_count(0)
    expect(view.locator("#contact-email")).to_have_text(EMAIL)  # nothing happened

    view.get_by_role("button", name="Erase contact…").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Erase contact").click()
    expect(page.locator("#contact-erased")).to_contain_text("erased: 1 event")
    expect(page.locator("#contact-erased")).to_contain_text("salted hash")
    expect(page.get_by_role("dialog")).to_have_count(0)
    settled(page)
    check(page, "contacts-erased-notice-light-phone", full_page=False)
    _find(page, 0)
    expect(page.locator("#contact-erased")).to_have_count(0)  # the notice belongs to the visit it was made in
    check(page, "contacts-erased-light-phone")
    assert page.request.get(f"{app_url}/api/v1/contacts", params={"q": RUN}).json()["items"] == []
    suppressed = page.request.get(f"{app_url}/api/v1/suppressions").json()
    rows = suppressed["items"] if isinstance(suppressed, dict) else suppressed
    assert any(r["reason"] == "erased" for r in rows) and not any(EMAIL in r["email"] for r in rows)
