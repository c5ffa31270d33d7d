"""The screenshot gallery's index (docs/screens/README.md, linked from the README's "See it") names every
picture in docs/screens, and every picture it names is there: a picture no row links is one nobody finds, and
a row whose picture is gone is a broken link."""

from __future__ import annotations

import re
from pathlib import Path

SCREENS = Path(__file__).resolve().parent.parent / "docs" / "screens"
INDEX = SCREENS / "README.md"
_LINK = re.compile(r"\]\(([^)\s]+\.png)\)")


def _linked() -> set[str]:
    return set(_LINK.findall(INDEX.read_text()))


def test_every_picture_has_a_row_in_the_index():
    unlisted = sorted({p.name for p in SCREENS.glob("*.png")} - _linked())
    assert unlisted == [], f"docs/screens pictures with no row in {INDEX.name}: {unlisted}"


def test_every_row_names_a_picture_that_is_there():
    missing = sorted(name for name in _linked() if not (SCREENS / name).is_file())
    assert missing == [], f"{INDEX.name} links pictures that docs/screens does not have: {missing}"


def test_the_readme_links_the_index():
    assert "(docs/screens/README.md)" in (SCREENS.parent.parent / "README.md").read_text()
