"""A paragraph's Markdown (CommonMark: bold, italic, links, lists). HTML written in it is shown as text, so a
paragraph can never break the email's structure."""

from __future__ import annotations

from markdown_it import MarkdownIt

from humanic_app.services.design.masking import Masker

_MD = MarkdownIt("commonmark", {"html": False, "breaks": True, "xhtmlOut": True})


def to_html(masked: str) -> str:
    return _MD.render(masked)


def links(markdown: str) -> list[str]:
    """The link targets of a paragraph, Jinja as written."""
    masker = Masker()
    found = []
    for token in _MD.parse(masker.mask(markdown)):
        for child in [token, *(token.children or [])]:
            if child.type == "link_open":
                found.append(masker.restore(str(child.attrGet("href") or "")))
    return list(dict.fromkeys(found))
