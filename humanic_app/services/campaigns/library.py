"""The ready-made campaigns in ./campaigns/*.yaml: the real-world examples a marketer starts from.

Each file is a campaign document plus a `purpose` line for its card (not part of the campaign); its copy
says `{workspace}` where it names the sender's product, filled with the workspace's name (Settings) when
the template is handed out, so a new campaign reads as the marketer's own and never as a sample company's."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from humanic_app.models import Workspace
from humanic_app.settings import PROJECT_DIR

LIBRARY_DIR = PROJECT_DIR / "campaigns"
WORKSPACE_NAME = "{workspace}"
DEFAULT_WORKSPACE_NAME: str = Workspace.model_fields["name"].default


@dataclasses.dataclass(frozen=True)
class Template:
    """A ready-made campaign as its card presents it."""

    slug: str
    name: str
    purpose: str
    trigger: str
    emails: int


def load_file(path: Path) -> dict[str, Any]:
    """YAML or JSON (JSON is YAML) campaign document."""
    return yaml.safe_load(path.read_text())


def _files() -> dict[str, dict[str, Any]]:
    return {path.stem: load_file(path) for path in sorted(LIBRARY_DIR.glob("*.yaml"))}


def _named(value: Any, workspace_name: str) -> Any:
    if isinstance(value, str):
        return value.replace(WORKSPACE_NAME, workspace_name)
    if isinstance(value, dict):
        return {key: _named(item, workspace_name) for key, item in value.items()}
    if isinstance(value, list):
        return [_named(item, workspace_name) for item in value]
    return value


def templates(*, workspace_name: str = DEFAULT_WORKSPACE_NAME) -> dict[str, dict[str, Any]]:
    """{slug: document} in file-name order, the copy naming `workspace_name`."""
    return {
        slug: _named({key: value for key, value in doc.items() if key != "purpose"}, workspace_name)
        for slug, doc in _files().items()
    }


def catalogue() -> list[Template]:
    """The cards of the ready-made campaigns: what each is for, what starts it, how many emails it sends."""
    return [
        Template(
            slug=slug,
            name=doc["name"],
            purpose=doc.get("purpose", ""),
            trigger=doc["trigger"]["event"],
            emails=len(doc.get("steps", [])),
        )
        for slug, doc in _files().items()
    ]


def dump(document: dict[str, Any] | list[dict[str, Any]]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)


def load_text(text: str) -> dict[str, Any]:
    return yaml.safe_load(text)
