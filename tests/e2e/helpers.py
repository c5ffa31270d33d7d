"""Small steps shared by the browser journeys."""

from playwright.sync_api import Page, expect


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/signin")
    expect(page.get_by_role("heading", name="Sign in to Humanic")).to_be_visible()
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signed-in-as")).to_have_text(email)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Humanic")).to_be_visible()
