"""Email templates: sandboxed Jinja2. HTML autoescapes inserted values (event properties are
attacker-controllable: anyone with a PostHog project key can send events); subject and text do not.
Missing variables render empty and are reported, never raised."""

from __future__ import annotations

import contextvars
import dataclasses
import difflib
import functools
import html as html_lib
import re
from typing import Any

from jinja2 import (
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    Undefined,
    nodes,
)
from jinja2.sandbox import SandboxedEnvironment, SecurityError

_missing: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("missing_variables", default=None)


class _RecordingUndefined(Undefined):
    """Renders as empty and remembers its name, so previews can list missing variables."""

    def __str__(self) -> str:
        missing = _missing.get()
        if missing is not None and self._undefined_name:
            missing.append(self._undefined_name)
        return ""

    def __iter__(self):
        return iter(())

    def __bool__(self) -> bool:
        return False


def _environment(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=autoescape, undefined=_RecordingUndefined, keep_trailing_newline=True)


_HTML_ENV = _environment(True)
_TEXT_ENV = _environment(False)
_CHECK_ENV = SandboxedEnvironment(undefined=StrictUndefined)


@dataclasses.dataclass
class Rendered:
    subject: str
    html: str
    text: str
    missing: list[str]


def syntax_errors(**templates: str | None) -> dict[str, str]:
    """{field: 'line N: message'} for every template that does not compile."""
    errors = {}
    for field, source in templates.items():
        if not source:
            continue
        try:
            _CHECK_ENV.parse(source)
        except TemplateSyntaxError as exc:
            errors[field] = f"line {exc.lineno}: {exc.message}"
    return errors


@dataclasses.dataclass
class UnknownName:
    kind: str  # "filter" or "test"
    name: str
    line: int
    suggestion: str | None


def unknown_names(source: str, *, html: bool) -> list[UnknownName]:
    """Filters and tests the sending environment does not have. Jinja reports an unknown filter at
    compile time only outside conditional blocks (inside `{% if %}` it waits for the branch to run), so
    the whole tree is walked instead: every use is found, whichever branch it sits in."""
    env = _HTML_ENV if html else _TEXT_ENV
    found = []
    for node in env.parse(source).find_all((nodes.Filter, nodes.Test)):
        kind, known = ("filter", env.filters) if isinstance(node, nodes.Filter) else ("test", env.tests)
        if node.name not in known:
            close = difflib.get_close_matches(node.name, list(known), n=1, cutoff=0.75)
            found.append(UnknownName(kind, node.name, node.lineno, close[0] if close else None))
    return found


def reference(name: str) -> str:
    """How a template inserts a variable, with a fallback for a contact who lacks it: a greeting's "there"."""
    fallback = "there" if name == "name" else ""
    return "{{ " + name + " | default('" + fallback + "') }}"


def html_to_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style).*?</\1>", "", html)
    text = re.sub(r"(?i)<a\s[^>]*href=['\"]([^'\"]+)['\"][^>]*>(.*?)</a>", r"\2 (\1)", text)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h\d>|</li>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = html_lib.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()


@functools.lru_cache(maxsize=512)
def _compiled(source: str, autoescape: bool) -> Template:
    """Compiling costs far more than rendering, and a campaign step renders once per recipient."""
    return (_HTML_ENV if autoescape else _TEXT_ENV).from_string(source)


def render(*, subject: str, html: str, text: str | None, variables: dict[str, Any]) -> Rendered:
    missing: list[str] = []
    token = _missing.set(missing)
    try:
        rendered_subject = _compiled(subject, False).render(variables).strip()
        rendered_html = _compiled(html, True).render(variables)
        rendered_text = _compiled(text, False).render(variables) if text else html_to_text(rendered_html)
    finally:
        _missing.reset(token)
    return Rendered(subject=rendered_subject, html=rendered_html, text=rendered_text, missing=sorted(set(missing)))


def describe_error(exc: Exception) -> str:
    """A render failure in plain words, with the template line when Jinja's traceback has one."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    line = getattr(exc, "lineno", None) or line
    if isinstance(exc, SecurityError):
        what = f"the template does something the sandbox forbids ({exc})"
    elif isinstance(exc, TemplateError):
        what = exc.message or type(exc).__name__
    elif isinstance(exc, ZeroDivisionError):
        what = "division by zero"
    elif isinstance(exc, OverflowError):
        what = f"a range or number too large for the sandbox ({exc})"
    elif getattr(exc, "in_plain_words", False):  # a refusal that already says what is wrong
        what = str(exc)
    else:
        what = f"{type(exc).__name__}: {exc}"
    return what + (f" (line {line})" if line else "")


def render_error(*, subject: str, html: str, text: str | None, variables: dict[str, Any]) -> str | None:
    """Why this step cannot be rendered with these variables, or None: what the dispatcher would hit."""
    try:
        render(
            subject=subject,
            html=html,
            text=text,
            variables={"unsubscribe_url": "https://example.invalid/unsubscribe/check", **variables},
        )
    except Exception as exc:  # anything the template raises would fail the email at send time
        return describe_error(exc)
    return None


def escape(value: str) -> str:
    return html_lib.escape(value or "")


def as_sent(rendered: Rendered, *, address: str, unsubscribe_url: str) -> Rendered:
    """The email as it leaves: the step's render followed by the footer every email carries, the sender's
    postal address and the unsubscribe link (CAN-SPAM; Gmail's and Yahoo's bulk-sender rules). The
    dispatcher sends this and the campaign preview shows this, so what a marketer sees is what is sent."""
    footer_html = (
        f'<hr><p style="font-size:12px;color:#666">{escape(address)}<br>'
        f'<a href="{escape(unsubscribe_url)}">Unsubscribe</a></p>'
    )
    footer_text = f"\n\n--\n{address}\nUnsubscribe: {unsubscribe_url}"
    return dataclasses.replace(rendered, html=rendered.html + footer_html, text=rendered.text + footer_text)
