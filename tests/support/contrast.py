"""Contrast the way WCAG measures it, for what axe-core does not check: focus rings, the edges of form controls
and SVG chart text. Colours are read from the computed style and composited by the browser itself (a 1 px
canvas paints the backgrounds under an element, root first, then the colour on top), so any CSS colour the
page uses (rgb, display-p3, oklch, translucent) comes out as the sRGB pixel a reader sees."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

# One function compiled into the page (the app's CSP refuses eval'd expressions; evaluate's functions are fine).
_CONTRAST = """
const contrastOf = (el, colour, {under = el.parentElement, pseudo = null} = {}) => {
  const canvas = document.createElement('canvas'); canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const paint = css => { ctx.fillStyle = '#000'; ctx.fillStyle = css; ctx.fillRect(0, 0, 1, 1); };
  const pixel = () => [...ctx.getImageData(0, 0, 1, 1).data].slice(0, 3);
  const layers = [];
  for (let node = under; node && node.nodeType === 1; node = node.parentElement) layers.unshift(node);
  paint('#fff');
  for (const node of layers) paint(getComputedStyle(node).backgroundColor);
  const background = pixel();
  paint(colour);
  const foreground = pixel();
  const lum = rgb => { const [r, g, b] = rgb.map(v => { v /= 255;
    return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [hi, lo] = [lum(foreground), lum(background)].sort((a, b) => b - a);
  return {ratio: (hi + 0.05) / (lo + 0.05), foreground, background};
};
const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
  + [...el.classList].slice(0, 2).map(c => '.' + c).join('')
  + (el.getAttribute('aria-label') ? `[${el.getAttribute('aria-label')}]` : '');
"""

_FOCUS_RING = (
    "el => {"
    + _CONTRAST
    + """
  // The ring a focused control shows: its own outline, its ::before's (Radix's switch), or its field's
  // (Radix draws a text field's ring on the root around the input).
  const owners = [[el, null], [el, '::before'], [el.closest('.rt-TextFieldRoot, .rt-TextAreaRoot'), null]];
  for (const [owner, pseudo] of owners) {
    if (!owner) continue;
    const s = getComputedStyle(owner, pseudo);
    if (s.outlineStyle === 'none' || parseFloat(s.outlineWidth) < 2) continue;
    const inside = parseFloat(s.outlineOffset) < 0;  // drawn over the control's own background
    const {ratio} = contrastOf(owner, s.outlineColor, {under: inside ? owner : owner.parentElement});
    return {what: describe(el), width: parseFloat(s.outlineWidth), ratio};
  }
  return {what: describe(el), width: 0, ratio: 0};
}"""
)

_EDGE = (
    "el => {"
    + _CONTRAST
    + """
  // A control's edge: Radix draws it as an inset box-shadow, on the element or its ::before.
  for (const pseudo of [null, '::before']) {
    const shadow = getComputedStyle(el, pseudo).boxShadow;
    if (!shadow || shadow === 'none') continue;
    const colour = shadow.match(/^((?:rgba?|color|oklch|oklab|lab|lch|hsla?)\\([^)]*\\)|#[0-9a-f]+)/i);
    if (colour) return {what: describe(el), ratio: contrastOf(el, colour[1]).ratio};
  }
  return {what: describe(el), ratio: 0};
}"""
)

_SVG_TEXT = (
    "el => {"
    + _CONTRAST
    + """
  const s = getComputedStyle(el);
  return {what: (el.textContent || '').trim(), ratio: contrastOf(el, s.fill, {under: el.closest('div')}).ratio};
}"""
)


def focus_ring(page: Page) -> dict:
    """The ring drawn around the focused element: {what, width (px), ratio against what lies under it}."""
    return page.evaluate("() => (" + _FOCUS_RING + ")(document.activeElement)")


def edge_contrast(control: Locator) -> dict:
    """A form control's edge (its border) against what lies around it: {what, ratio}."""
    return control.evaluate(_EDGE)


def svg_text_contrast(text: Locator) -> dict:
    """An SVG text's fill against the background of the box the chart sits in: {what, ratio}."""
    return text.evaluate(_SVG_TEXT)
