"""The ready-made campaigns in ./campaigns/*.yaml: the real-world examples a marketer starts from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from humanic_app.settings import PROJECT_DIR

LIBRARY_DIR = PROJECT_DIR / "campaigns"


def load_file(path: Path) -> dict[str, Any]:
    """YAML or JSON (JSON is YAML) campaign document."""
    return yaml.safe_load(path.read_text())


def templates() -> dict[str, dict[str, Any]]:
    """{slug: document} in file-name order."""
    return {path.stem: load_file(path) for path in sorted(LIBRARY_DIR.glob("*.yaml"))}


def dump(document: dict[str, Any] | list[dict[str, Any]]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)


def load_text(text: str) -> dict[str, Any]:
    return yaml.safe_load(text)
