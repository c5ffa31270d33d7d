"""Shared blocks ("partials": a signature, a product card), stored on the workspace by name and put into any
block email that names them (`{type: partial, name: signature}`) when it is rendered, at send time: a change
reaches every email not sent yet, as the brand does. A shared block holds blocks but no partial, so
expanding never loops. One in use by a campaign that is not archived cannot be deleted."""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session, col, select

from humanic_app.models import Campaign, CampaignStatus
from humanic_app.services import wording, workspace
from humanic_app.services.design.blocks import PARTIAL_NAME, Block, Partial
from humanic_app.services.errors import Conflict, NotFound, ValidationFailed

_BLOCKS = TypeAdapter(list[Block])
MAX_PARTIALS = 100
NAME_RULE = "Name it with lowercase letters, digits and dashes, like 'signature' (up to 40)."


def listed(*, session: Session) -> dict[str, list[dict[str, Any]]]:
    """{name: blocks}, by name."""
    stored = workspace.get_workspace(session=session).partials or {}
    return {name: stored[name] for name in sorted(stored)}


def _checked_blocks(blocks: Any) -> list[dict[str, Any]]:
    if not isinstance(blocks, list) or not blocks:
        raise ValidationFailed({"blocks": "A shared block holds at least one block."})
    try:
        parsed = _BLOCKS.validate_python(blocks)
    except ValidationError as exc:
        raise ValidationFailed(
            {
                ".".join(["blocks", *(str(p) for p in e["loc"] if not str(p).startswith("block-"))]): wording.message(
                    e["msg"].removeprefix("Value error, ")
                )
                for e in exc.errors()
            }
        ) from None
    for index, block in enumerate(parsed):
        if isinstance(block, Partial):
            raise ValidationFailed({f"blocks.{index}": "A shared block cannot hold another shared block."})
    return blocks  # as written, like a step's blocks: defaults stay implicit


def save(*, session: Session, name: str, blocks: Any) -> list[dict[str, Any]]:
    """Creates or replaces the shared block `name`; the caller commits."""
    if not re.match(PARTIAL_NAME, name or ""):
        raise ValidationFailed({"name": NAME_RULE})
    checked = _checked_blocks(blocks)
    ws = workspace.get_workspace(session=session)
    stored = dict(ws.partials or {})
    if name not in stored and len(stored) >= MAX_PARTIALS:
        raise ValidationFailed({"name": f"A workspace keeps at most {MAX_PARTIALS} shared blocks."})
    stored[name] = checked
    ws.partials = stored  # a new dict: the JSON column notices the change
    session.add(ws)
    return checked


def users(*, session: Session, name: str) -> list[str]:
    """The names of the campaigns (not archived) whose emails put in the shared block `name`."""
    campaigns = session.exec(select(Campaign).where(col(Campaign.status) != CampaignStatus.archived)).all()
    return sorted(c.name for c in campaigns if name in _named(c.definition))


def _named(definition: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for step in definition.get("steps", []) if isinstance(definition, dict) else []:
        for block in step.get("blocks") or [] if isinstance(step, dict) else []:
            if isinstance(block, dict) and block.get("type") == "partial":
                found.add(str(block.get("name")))
    return found


def delete(*, session: Session, name: str) -> None:
    ws = workspace.get_workspace(session=session)
    stored = dict(ws.partials or {})
    if name not in stored:
        raise NotFound(f"No shared block named '{name}'.")
    if using := users(session=session, name=name):
        raise Conflict(
            f"'{name}' is used by {wording.plural(len(using), 'campaign')}: {', '.join(using)}. "
            "Remove it from their emails first."
        )
    del stored[name]
    ws.partials = stored
    session.add(ws)


def as_yaml(blocks: list[dict[str, Any]]) -> str:
    """A shared block's blocks as the Settings page edits them: the YAML a campaign file writes them in."""
    return yaml.safe_dump(blocks, sort_keys=False, allow_unicode=True, width=100)


def from_yaml(text: str) -> Any:
    """The blocks a YAML text holds, for `save` to check; a text that is not YAML is refused at `blocks`."""
    try:
        return yaml.safe_load(text or "")
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ValidationFailed(
            {"blocks": f"This is not YAML{line}: write a list of blocks, one '- type: …' each."}
        ) from None
