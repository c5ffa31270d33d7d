"""How a page looks to a phone, a screen reader and a reviewer: axe-core's audit, sideways scrolling, and
the screenshot gallery (written under .test-runs/screens; `make screens` copies it to docs/screens)."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.support.server import RUNS_DIR

GALLERY = RUNS_DIR / "screens"
WIDTHS = {"desktop": 1280, "phone": 390}
# WCAG 2.0/2.1/2.2 A and AA, the level the product promises.
_AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
}
_axe = Axe()


def serious_violations(page: Page, *, within: str | None = None) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (or inside `within`), one line
    each naming the rule and up to three elements, so a failing test says what to fix."""
    found = _axe.run(page, context=within, options=_AXE_OPTIONS).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
        + (f" {v['nodes'][0].get('failureSummary', '')!r}" if v["nodes"] else "")
        for v in found
        if v.get("impact") in ("serious", "critical")
    ]


def sideways_scroll(page: Page) -> int:
    """How many pixels the page itself scrolls sideways (0 when it fits its window)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def wider_than_window(page: Page, limit: int = 5) -> list[str]:
    """The elements that stick out past the window's right edge, to name in a failure."""
    return page.evaluate(
        """limit => { const w = document.documentElement.clientWidth; const out = [];
        for (const el of document.body.querySelectorAll('*')) {
          const r = el.getBoundingClientRect();
          if (r.right > w + 1 && r.width > 0 && getComputedStyle(el).position !== 'fixed') {
            const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
            out.push(`${name}.${[...el.classList].slice(0, 2).join('.')} right=${Math.round(r.right)}`);
            if (out.length >= limit) break;
          }
        } return out; }""",
        limit,
    )


def cut_off_text(page: Page, limit: int = 5) -> list[str]:
    """Elements whose own text is cut (wider than their box, which hides the rest or ends it with an
    ellipsis) and that carry no title to show it whole. Visually hidden text (a 1 px box) is not shown
    anyway; a field's value scrolls inside it, so inputs are left out."""
    return page.evaluate(
        """limit => { const out = [];
        for (const el of document.body.querySelectorAll('*')) {
          if (el.closest('svg, input, textarea, select, [aria-hidden="true"]') || el.clientWidth <= 2) continue;
          const cs = getComputedStyle(el);
          const clips = ['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis';
          if (!clips || el.scrollWidth <= el.clientWidth + 1 || el.hasAttribute('title')) continue;
          if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
          out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].slice(0, 2).join('.')}`
            + ` "${el.textContent.trim().slice(0, 40)}" ${el.scrollWidth}>${el.clientWidth}px`);
          if (out.length >= limit) break;
        } return out; }""",
        limit,
    )


def overlapping(page: Page, limit: int = 5) -> list[str]:
    """Pairs of sibling boxes in the page's flow (not overlays: absolute, fixed or sticky ones are meant to
    lie over others) that cover each other by more than a pixel each way: text over text, a button over a
    label. Inline elements are left out: one that wraps has a box spanning its lines, which its neighbours
    on those lines always share."""
    return page.evaluate(
        """limit => { const out = [];
        const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
          + (el.classList.length ? '.' + [...el.classList].slice(0, 2).join('.') : '');
        const inFlow = el => { const cs = getComputedStyle(el);
          return !['absolute', 'fixed', 'sticky'].includes(cs.position) && cs.visibility !== 'hidden'
            && !['contents', 'inline'].includes(cs.display) && !el.closest('svg'); };
        for (const parent of document.body.querySelectorAll('*')) {
          const kids = [...parent.children].filter(inFlow)
            .map(el => [el, el.getBoundingClientRect()]).filter(([, r]) => r.width > 2 && r.height > 2);
          for (let i = 0; i < kids.length && i < 60; i++) for (let j = i + 1; j < kids.length && j < 60; j++) {
            const [a, ra] = kids[i], [b, rb] = kids[j];
            const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
            const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
            if (x > 1 && y > 1) { out.push(`${name(a)} and ${name(b)} overlap by ${Math.round(x)}x${Math.round(y)}px`);
              if (out.length >= limit) return out; }
          }
        } return out; }""",
        limit,
    )


def stretched_forms(page: Page, limit: int = 5) -> list[str]:
    """Forms taller than what they hold by more than a few pixels: a form given a flex basis for a row and
    placed in a column takes that basis as its height, a blank band under its fields."""
    return page.evaluate(
        """limit => { const out = [];
        for (const form of document.querySelectorAll('form')) {
          const kids = [...form.children].map(el => el.getBoundingClientRect()).filter(r => r.height > 0);
          if (!kids.length) continue;
          const held = Math.max(...kids.map(r => r.bottom)) - Math.min(...kids.map(r => r.top));
          const height = form.getBoundingClientRect().height;
          if (height > held + 16) { out.push(`form${form.id ? '#' + form.id : ''}[${form.getAttribute('aria-label')
            || ''}] ${Math.round(height)}px tall for ${Math.round(held)}px of fields`);
            if (out.length >= limit) break; }
        } return out; }""",
        limit,
    )


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """One gallery picture named by what it shows (e.g. 'campaigns-dark-phone'): the whole page, or only the
    window when a dialog or drawer covers it."""
    GALLERY.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(GALLERY / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"), full_page=full_page)


def settled(page: Page) -> None:
    """Waits until no finite animation runs (a dialog fading and zooming in), so the audit and the picture
    see the dialog as it stays; endless ones (a spinner) are not waited for."""
    page.wait_for_function(  # a function, not an expression: the app's CSP forbids the eval an expression needs
        "() => document.getAnimations().every(a => a.playState !== 'running'"
        " || a.effect.getComputedTiming().iterations === Infinity)"
    )


def element_shot(page: Page, selector: str, name: str) -> None:
    """A gallery picture of one element. The phone's sticky top bar scrolls away with the page meanwhile: the
    picture scrolls the element into view, and a bar kept on top would cover the element's first lines."""
    GALLERY.mkdir(parents=True, exist_ok=True)
    bars = "document.querySelectorAll('.top-bar').forEach(bar => bar.style.position = '{}')"
    page.evaluate(f"() => {bars.format('static')}")
    try:
        page.locator(selector).screenshot(path=str(GALLERY / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"))
    finally:
        page.evaluate(f"() => {bars.format('')}")
