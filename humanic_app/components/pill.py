"""One pill for every status and tag in the app (Radix's badge), so they all read and size alike."""

from __future__ import annotations

from collections.abc import Sequence

import reflex as rx

# An integration source's status, as the Integrations page names it.
SOURCE_COLORS = [
    ("Not connected", "gray"),
    ("Waiting for test event", "amber"),
    ("Test event received", "blue"),
    ("Active", "green"),
    ("Paused", "orange"),
]


def pill(*children, color=None, size: str = "1", **props) -> rx.Component:
    """A label in `color` (a Radix colour, or a Var of one) or, without it, the theme's accent. Radix keeps a
    badge on one line and unshrunk, so the text beside it is what wraps or is cut. high_contrast always:
    Radix's soft blue and green badge text is about 4.3:1 on its tint, under WCAG's 4.5:1."""
    if color is not None:
        props["color_scheme"] = color
    return rx.badge(*children, size=size, high_contrast=True, **props)


def status_pill(status, colors: Sequence[tuple[str, str]], **props) -> rx.Component:
    """A status coloured by its value (`colors`: value and colour pairs; any other value is gray)."""
    return pill(status, color=rx.match(status, *colors, "gray"), **props)
