"""What predicts that an email renders well, since no mail client runs here: its size against Gmail's
clipping, alt text on every image, absolute links, and a body no wider than 600 px."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from humanic_app.services.design.blocks import MAX_WIDTH, is_absolute

GMAIL_CLIP_BYTES = 102 * 1024  # Gmail shows "[Message clipped]" past this much HTML


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "img":
            self.images.append(values)
        elif tag == "a" and "href" in values:
            self.links.append(values["href"])


def _check(name: str, ok: bool, message: str) -> dict[str, Any]:
    return {"check": name, "ok": ok, "message": message}


def run(html: str) -> list[dict[str, Any]]:
    """The checks on an email as rendered (personalised, layout and footer included)."""
    scan = _Scan()
    scan.feed(html)
    size = len(html.encode())
    no_alt = [image.get("src", "") for image in scan.images if not image.get("alt", "").strip()]
    relative = [link for link in scan.links if not is_absolute(link)]
    wide = [image.get("src", "") for image in scan.images if _px(image.get("width", "")) > MAX_WIDTH]
    widths = [int(w) for w in re.findall(r"max-width:\s*(\d+)px", html)]
    return [
        _check(
            "size",
            size <= GMAIL_CLIP_BYTES,
            f"{size / 1024:.1f} KB of HTML"
            + ("" if size <= GMAIL_CLIP_BYTES else ": over 102 KB, Gmail clips it and hides the rest (the footer too)"),
        ),
        _check(
            "alt",
            not no_alt,
            "Every image has alt text" if not no_alt else f"Images without alt text: {', '.join(no_alt[:5])}",
        ),
        _check(
            "links",
            not relative,
            "Every link is absolute"
            if not relative
            else f"Links that lead nowhere from an inbox: {', '.join(relative[:5])}",
        ),
        _check(
            "width",
            not wide and all(w <= MAX_WIDTH for w in widths),
            f"The body is at most {MAX_WIDTH} px wide"
            if not wide and all(w <= MAX_WIDTH for w in widths)
            else f"Wider than {MAX_WIDTH} px: {', '.join(wide[:5]) or 'the body'}",
        ),
    ]


def luminance(colour: str) -> float:
    """WCAG relative luminance of '#rgb' or '#rrggbb'."""
    hexes = colour.lstrip("#")
    if len(hexes) == 3:
        hexes = "".join(c * 2 for c in hexes)
    channels = [int(hexes[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def contrast(*, text: str, links: str, background: str) -> dict[str, Any]:
    """Text and links against the content's background: WCAG AA's 4.5:1, which also keeps them readable when
    a mail client darkens the email itself."""
    low = [
        f"{what} {colour} on {background} is {ratio:.1f}:1"
        for what, colour in (("text", text), ("links and buttons", links))
        if (ratio := contrast_ratio(colour, background)) < 4.5
    ]
    return _check(
        "contrast",
        not low,
        "Text and links have at least 4.5:1 contrast" if not low else "Low contrast (under 4.5:1): " + "; ".join(low),
    )


def _px(value: str) -> int:
    match = re.match(r"\s*(\d+)", value)
    return int(match.group(1)) if match else 0
