"""The ready-made campaigns in ./campaigns/*.yaml: the real-world examples a marketer starts from.

Each file is a campaign document; its copy says `{workspace}` where it names the sender's product, filled
with the workspace's name (Settings) when the template is handed out or a file imported, so a new campaign
reads as the marketer's own and never as a sample company's. PURPOSES says on each card what it is for."""

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
# One line per ready-made campaign, on its card (a test checks every file has one).
PURPOSES = {
    "drop-off-recovery": "Bring back shoppers who started checkout and did not finish within a day.",
    "feature-adoption": "Help people get value from a feature the moment they first try it.",
    "onboarding-activation": "Welcome new sign-ups and guide them to their first win over ten days.",
    "paid-conversion-pricing": "Nudge people who keep returning to pricing with a time-limited offer.",
    "paid-conversion-trial": "Convert trials two days before they end, while the value is fresh.",
    "re-engagement": "Win back people who went quiet with one idea worth coming back for.",
}


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


def in_workspace(value: Any, workspace_name: str) -> Any:
    """A document (or any part of one) with `{workspace}` in its copy replaced by the workspace's name."""
    if isinstance(value, str):
        return value.replace(WORKSPACE_NAME, workspace_name)
    if isinstance(value, dict):
        return {key: in_workspace(item, workspace_name) for key, item in value.items()}
    if isinstance(value, list):
        return [in_workspace(item, workspace_name) for item in value]
    return value


def templates(*, workspace_name: str = DEFAULT_WORKSPACE_NAME) -> dict[str, dict[str, Any]]:
    """{slug: document} in file-name order, the copy naming `workspace_name`."""
    return {slug: in_workspace(doc, workspace_name) for slug, doc in _files().items()}


def catalogue() -> list[Template]:
    """The cards of the ready-made campaigns: what each is for, what starts it, how many emails it sends."""
    return [
        Template(
            slug=slug,
            name=doc["name"],
            purpose=PURPOSES.get(slug, ""),
            trigger=doc["trigger"]["event"],
            emails=sum(1 for node in doc.get("steps", []) if node.get("type", "email") == "email"),
        )
        for slug, doc in _files().items()
    ]


def dump(document: dict[str, Any] | list[dict[str, Any]]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)


def load_text(text: str) -> dict[str, Any]:
    return yaml.safe_load(text)
