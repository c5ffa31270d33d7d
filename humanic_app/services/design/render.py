"""Blocks and the brand layout → email-client-safe HTML (MJML: tables, inline styles, a 600 px body that
stacks on a phone) and a plain-text part. The result is a template: compiled once per step content and
brand (a campaign version's step is the same content for every recipient), then only personalised per
recipient by the sandbox (services/composing.py)."""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import html as html_lib
import json
import re
import threading
from typing import Any

import mjml
from pydantic import TypeAdapter

from humanic_app.services import templates
from humanic_app.services.design import checks, markdown
from humanic_app.services.design.blocks import (
    MAX_WIDTH,
    Block,
    Button,
    Columns,
    Divider,
    Heading,
    Html,
    Image,
    Paragraph,
    Partial,
    Spacer,
)
from humanic_app.services.design.brand import Brand
from humanic_app.services.design.masking import Masker

_BLOCKS = TypeAdapter(list[Block])
_MUTED = "#57606a"  # footer text: 4.5:1 on the light backgrounds the brand defaults to
_DARK_BACKGROUND, _DARK_CONTENT, _DARK_TEXT, _DARK_LINK = "#111317", "#1b1d22", "#e6e8eb", "#8ab4f8"
_DARK_MUTED = "#a3abb5"  # the footer on the dark background, 4.5:1 and more
_HEADING_SIZES = {1: 28, 2: 22, 3: 18}


@dataclasses.dataclass(frozen=True)
class Layout:
    """What the layout shows around every email's content, besides the brand."""

    brand: Brand
    address: str  # the physical mailing address (Settings), printed in every footer
    name: str  # the workspace's name: the logo's alt text
    partials: dict[str, Any] = dataclasses.field(default_factory=dict)  # shared blocks by name, as stored


class MissingPartial(ValueError):
    """A partial block names a shared block the workspace does not have (any more)."""

    in_plain_words = True


@dataclasses.dataclass(frozen=True)
class Compiled:
    html: str  # a template of the whole email, layout and footer included
    text: str  # a template of the plain-text content (composing adds the footer)


class CompileError(Exception):
    """MJML refused the structure: a bug here, since every text reaches it escaped."""


def compiled(blocks: list[Any], layout: Layout) -> Compiled:
    """The step's email, compiled once per (content, brand, address, name): keyed by a digest of their
    canonical JSON, so a large raw-HTML block is not kept twice as a key."""
    canonical = json.dumps(
        [blocks, layout.brand.model_dump(), layout.address, layout.name, layout.partials],
        sort_keys=True,
        separators=(",", ":"),
    )
    key = hashlib.sha256(canonical.encode()).digest()
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    result = _compile(blocks, layout)
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


_CACHE: collections.OrderedDict[bytes, Compiled] = collections.OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 128  # steps (of every campaign version) being sent at once; the least recently sent go first


def _compile(raw_blocks: list[Any], layout: Layout) -> Compiled:
    blocks = expand(_BLOCKS.validate_python(raw_blocks), layout.partials)
    masker = Masker()
    source = _document(blocks, layout, masker)
    try:
        compiled_html = mjml.mjml2html(source, disable_comments=True, fonts={})
    except ValueError as exc:
        raise CompileError(f"the email's structure did not compile: {exc}") from exc
    text = "\n\n".join(part for part in (_text(block, masker) for block in blocks) if part)
    return Compiled(html=masker.restore(compiled_html), text=masker.restore(text))


def expand(blocks: list[Any], partials: dict[str, Any]) -> list[Any]:
    """The blocks with each partial replaced by the shared blocks of its name (which hold no partial)."""
    out: list[Any] = []
    for block in blocks:
        if not isinstance(block, Partial):
            out.append(block)
        elif block.name in partials:
            out.extend(b for b in _BLOCKS.validate_python(partials[block.name]) if not isinstance(b, Partial))
        else:
            raise MissingPartial(f"there is no shared block named '{block.name}' (Settings → Brand → Shared blocks)")
    return out


def _esc(text: str) -> str:
    return html_lib.escape(text, quote=True)


def _document(blocks: list[Any], layout: Layout, masker: Masker) -> str:
    brand = layout.brand
    return (
        "<mjml><mj-head>"
        f'<mj-attributes><mj-all font-family="{_esc(brand.font_stack)}" />'
        f'<mj-text color="{brand.text_colour}" font-size="16px" line-height="1.5" padding="8px 24px" />'
        f'<mj-button background-color="{brand.primary_colour}" color="{_on(brand.primary_colour)}" '
        'font-size="16px" font-weight="600" border-radius="6px" inner-padding="12px 24px" padding="12px 24px" />'
        '<mj-image padding="8px 24px" />'
        '<mj-divider border-color="#d0d7de" border-width="1px" padding="16px 24px" />'
        "</mj-attributes>"
        f"<mj-style>{_dark_css()}</mj-style>"
        '<mj-raw><meta name="color-scheme" content="light dark" />'
        '<meta name="supported-color-schemes" content="light dark" /></mj-raw>'
        "</mj-head>"
        f'<mj-body width="{MAX_WIDTH}px" background-color="{brand.background_colour}" css-class="hm-body">'
        + _header(layout)
        + _content(blocks, brand, masker)
        + _footer(layout, masker)
        + "</mj-body></mjml>"
    )


def _dark_css() -> str:
    """Mail clients that honour prefers-color-scheme get dark surfaces and light text; the others keep the
    light design, whose colours read well when a client inverts them itself."""
    return (
        f"{_DARK_MEDIA} {{"
        f" body, .hm-body, .hm-body > div {{ background-color: {_DARK_BACKGROUND} !important; }}"
        f" .hm-content, .hm-content table, .hm-content td {{ background-color: {_DARK_CONTENT} !important; }}"
        " .hm-text div, .hm-text p, .hm-text li, .hm-text h1, .hm-text h2, .hm-text h3"
        f" {{ color: {_DARK_TEXT} !important; }}"
        f" .hm-text a {{ color: {_DARK_LINK} !important; }}"
        f" .hm-footer div, .hm-footer a {{ color: {_DARK_MUTED} !important; }}"
        " }"
    )


_DARK_MEDIA = "@media (prefers-color-scheme: dark)"


def in_scheme(html: str, *, dark: bool) -> str:
    """The email as a mail client in that colour scheme shows it, whatever the viewer's own setting: its dark
    rules applied always (dark) or never (light). For previews only: what is sent keeps the media query."""
    return html.replace(_DARK_MEDIA, "@media all" if dark else "@media not all")


def _on(colour: str) -> str:
    """Text on a background colour: white on dark colours, near-black on light ones."""
    return "#ffffff" if checks.contrast_ratio("#ffffff", colour) >= 4.5 else "#111111"


def _header(layout: Layout) -> str:
    if not layout.brand.logo_url:
        return ""
    return (
        '<mj-section padding="24px 0 8px"><mj-column>'
        f'<mj-image src="{_esc(layout.brand.logo_url)}" alt="{_esc(layout.name or "Logo")}" '
        f'width="{layout.brand.logo_width}px" align="left" />'
        "</mj-column></mj-section>"
    )


def _section(inner: str, brand: Brand) -> str:
    return (
        f'<mj-section background-color="{brand.content_colour}" css-class="hm-content" padding="16px 0">'
        f"{inner}</mj-section>"
    )


def _content(blocks: list[Any], brand: Brand, masker: Masker) -> str:
    """Runs of blocks share one full-width column; a columns block is a section of its own."""
    out: list[str] = []
    run: list[str] = []
    for block in blocks:
        if isinstance(block, Columns):
            if run:
                out.append(_section(f"<mj-column>{''.join(run)}</mj-column>", brand))
                run = []
            sides = "".join(
                f"<mj-column>{''.join(_block(b, brand, masker) for b in side)}</mj-column>" for side in block.columns
            )
            out.append(_section(sides, brand))
        else:
            run.append(_block(block, brand, masker))
    if run:
        out.append(_section(f"<mj-column>{''.join(run)}</mj-column>", brand))
    return "".join(out)


def _text_html(masked: str, brand: Brand) -> str:
    """Markdown's HTML with the inline styles mail clients need (they drop <style> or its classes)."""
    out = markdown.to_html(masked).strip()
    out = re.sub(r"<p>", '<p style="margin:0 0 12px;">', out)
    out = re.sub(r"<(ul|ol)>", r'<\1 style="margin:0 0 12px;padding-left:24px;">', out)
    return re.sub(r"<a href=", f'<a style="color:{brand.primary_colour};text-decoration:underline;" href=', out)


def _block(block: Any, brand: Brand, masker: Masker) -> str:
    if isinstance(block, Heading):
        size = _HEADING_SIZES[block.level]
        return (
            f'<mj-text align="{block.align}" css-class="hm-text">'
            f'<h{block.level} style="margin:0;font-size:{size}px;line-height:1.25;font-weight:700;">'
            f"{_esc(masker.mask(block.text))}</h{block.level}></mj-text>"
        )
    if isinstance(block, Paragraph):
        return (
            f'<mj-text align="{block.align}" css-class="hm-text">'
            f"{_text_html(masker.mask(block.markdown), brand)}</mj-text>"
        )
    if isinstance(block, Button):
        colour = block.colour or brand.primary_colour
        return (
            f'<mj-button href="{_esc(masker.mask(block.url))}" background-color="{colour}" color="{_on(colour)}">'
            f"{_esc(masker.mask(block.label))}</mj-button>"
        )
    if isinstance(block, Image):
        link = f' href="{_esc(masker.mask(block.link))}"' if block.link else ""
        return (
            f'<mj-image src="{_esc(masker.mask(block.url))}" alt="{_esc(masker.mask(block.alt))}" '
            f'width="{block.width}px"{link} />'
        )
    if isinstance(block, Divider):
        return "<mj-divider />"
    if isinstance(block, Spacer):
        return f'<mj-spacer height="{block.height}px" />'
    if isinstance(block, Html):
        # Set aside whole: MJML never parses it, the sandbox renders it as it renders a step's `html`.
        return f'<mj-text padding="0 24px" css-class="hm-text">{masker.keep(block.html)}</mj-text>'
    raise TypeError(f"no rendering for {type(block).__name__}")


def _footer(layout: Layout, masker: Masker) -> str:
    lines = [_esc(line) for line in layout.brand.footer_text.splitlines() if line.strip()]
    if layout.address:
        lines.append(_esc(layout.address))
    unsubscribe = masker.keep("{{ unsubscribe_url }}")
    lines.append(f'<a href="{unsubscribe}" style="color:{_MUTED};text-decoration:underline;">Unsubscribe</a>')
    return (
        '<mj-section padding="16px 0 24px"><mj-column>'
        f'<mj-text align="center" font-size="12px" line-height="1.6" color="{_MUTED}" css-class="hm-footer">'
        f"{'<br />'.join(lines)}</mj-text>"
        "</mj-column></mj-section>"
    )


def _text(block: Any, masker: Masker) -> str:
    """A block as plain text: links kept as 'Label (https://…)'."""
    if isinstance(block, Heading):
        return masker.mask(block.text)
    if isinstance(block, Paragraph):
        rendered = markdown.to_html(masker.mask(block.markdown))
        return re.sub(r"\n+(?=- )", "\n", templates.html_to_text(re.sub(r"<li>", "<li>- ", rendered)))
    if isinstance(block, Button):
        return f"{masker.mask(block.label)} ({masker.mask(block.url)})"
    if isinstance(block, Image):
        return f"{masker.mask(block.alt)} ({masker.mask(block.link)})" if block.link else ""
    if isinstance(block, Divider):
        return "----"
    if isinstance(block, Columns):
        return "\n\n".join(part for side in block.columns for part in (_text(b, masker) for b in side) if part)
    if isinstance(block, Html):
        return templates.html_to_text(masker.mask(block.html))
    return ""


def text_footer(layout: Layout, unsubscribe_url: str) -> str:
    lines = [line for line in layout.brand.footer_text.splitlines() if line.strip()]
    return "\n\n--\n" + "\n".join(
        [*lines, *([layout.address] if layout.address else []), f"Unsubscribe: {unsubscribe_url}"]
    )
