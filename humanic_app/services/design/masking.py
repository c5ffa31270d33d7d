"""Jinja set aside while an email's structure is compiled. Markdown and MJML would otherwise read template
syntax as their own (`*`, `_`, quotes, `<` in `{% if a < b %}`), so each `{{ … }}`, `{% … %}` and `{# … #}`
becomes an inert word, the structure is compiled around it, and the template is put back afterwards: the
sandbox then renders it, escaping every variable wherever it landed (text, attribute, link)."""

from __future__ import annotations

import re

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_TOKEN = re.compile(r"hmjinja(\d+)x")
# What the compiler itself writes (CSS braces, escaped text) must stay literal when the result is rendered.
_STRAY = re.compile(r"\{(?=[{%#])")


class Masker:
    def __init__(self) -> None:
        self._kept: list[str] = []

    def keep(self, source: str) -> str:
        """A token standing for `source`, restored whole by `restore`."""
        self._kept.append(source)
        return f"hmjinja{len(self._kept) - 1}x"

    def mask(self, text: str) -> str:
        """`text` with each Jinja construct replaced by a token."""
        return _JINJA.sub(lambda match: self.keep(match.group(0)), text)

    def restore(self, compiled: str) -> str:
        """The compiled output as a template: its own braces made literal, then the kept sources put back."""
        literal = _STRAY.sub("{{ '{' }}", compiled)
        return _TOKEN.sub(lambda match: self._kept[int(match.group(1))], literal)


def has_jinja(text: str) -> bool:
    return bool(_JINJA.search(text))
