"""The gallery of ready-made email designs in ./designs/*.yaml: a good-looking starting point for each kind of
email the ready-made campaigns send (welcome, onboarding tip, feature announcement, cart reminder, upgrade
nudge, we-miss-you). A design is a subject and blocks; choosing one in the builder puts them in an email
step, where they are the marketer's to change. Like the ready-made campaigns, the copy says `{workspace}`
where it names the sender's product, filled with the workspace's name when handed out."""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

from humanic_app.services.campaigns import library
from humanic_app.services.errors import NotFound
from humanic_app.settings import PROJECT_DIR

DESIGNS_DIR = PROJECT_DIR / "designs"


@dataclasses.dataclass(frozen=True)
class Design:
    slug: str
    name: str
    purpose: str
    campaign: str  # the ready-made campaign (its slug) this design suits
    subject: str
    blocks: list[dict[str, Any]]


def designs(*, workspace_name: str = library.DEFAULT_WORKSPACE_NAME) -> list[Design]:
    """Every design, in file-name order, its copy naming `workspace_name`."""
    found = []
    for path in sorted(DESIGNS_DIR.glob("*.yaml")):
        doc = library.in_workspace(yaml.safe_load(path.read_text()), workspace_name)
        found.append(
            Design(
                slug=path.stem,
                name=doc["name"],
                purpose=doc["purpose"],
                campaign=doc.get("for", ""),
                subject=doc["subject"],
                blocks=doc["blocks"],
            )
        )
    return found


def design(*, slug: str, workspace_name: str = library.DEFAULT_WORKSPACE_NAME) -> Design:
    for found in designs(workspace_name=workspace_name):
        if found.slug == slug:
            return found
    raise NotFound(f"No design named '{slug}'.")


def as_document(found: Design) -> dict[str, Any]:
    """A one-email campaign document holding the design: what previews render it from."""
    return {
        "name": found.name,
        "trigger": {"event": "preview"},
        "steps": [{"subject": found.subject, "blocks": found.blocks}],
    }
