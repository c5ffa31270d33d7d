"""Settings → Brand → Shared blocks: blocks (a signature, a product card) any block email puts in by name."""

from __future__ import annotations

import dataclasses

import reflex as rx

from humanic_app.services import wording
from humanic_app.services.design import partials
from humanic_app.state.auth import AuthState, field_messages, signed_in

EXAMPLE = """- type: divider
- type: paragraph
  markdown: "Ada Lovelace, founder · [orbit.io](https://orbit.io)"
"""


@dataclasses.dataclass(frozen=True)
class SharedBlockRow:
    name: str
    blocks: str  # YAML
    used_by: str  # "Used by 2 campaigns: Welcome, Onboarding" or "Not used yet"


class SharedBlocksState(AuthState):
    shared_rows: list[SharedBlockRow] = []
    shared_errors: dict[str, str] = {}  # "name", "blocks" (the new one's) or "<name>" (a listed one's)
    shared_saved: str = ""
    shared_loaded: bool = False

    def _refresh_shared(self) -> None:
        with self._read_call() as session:
            found = partials.listed(session=session)
            self.shared_rows = [
                SharedBlockRow(name, partials.as_yaml(blocks), _used(partials.users(session=session, name=name)))
                for name, blocks in found.items()
            ]
        self.shared_loaded = True

    @rx.event
    @signed_in
    def load_shared_blocks(self):
        self.shared_errors, self.shared_saved = {}, ""
        self._refresh_shared()

    @rx.event
    @signed_in
    def save_shared_block(self, form: dict):
        """The new one (form `name` and `blocks`), or a listed one changed (`editing` names it): refusals show
        at the form's fields, a listed one's under its name ("signature.blocks")."""
        self.shared_saved = ""
        editing = str(form.get("editing", "")).strip()
        name = editing or str(form.get("name", "")).strip()
        prefix = f"{editing}." if editing else ""
        with self._service_call(
            "shared_errors", then=self._refresh_shared, words=lambda exc: _at_fields(exc, prefix)
        ) as session:
            partials.save(session=session, name=name, blocks=partials.from_yaml(str(form.get("blocks", ""))))
            self.shared_saved = f"Shared block '{name}' saved: emails not sent yet go out with it."

    @rx.event
    @signed_in
    def delete_shared_block(self, name: str):
        self.shared_saved = ""
        with self._service_call(
            "shared_errors", then=self._refresh_shared, words=lambda exc: {f"{name}.blocks": str(exc)}
        ) as session:
            partials.delete(session=session, name=name)
            self.shared_saved = f"Shared block '{name}' deleted."


def _at_fields(exc, prefix: str) -> dict[str, str]:
    """A refusal at the name or the blocks field: a block's own ("blocks.0.url") is told in words there."""
    out: dict[str, str] = {}
    for field, message in field_messages(exc).items():
        parts = field.split(".")
        if parts[0] == "blocks" and len(parts) > 1 and parts[1].isdigit():
            where = " · ".join([f"Block {int(parts[1]) + 1}", *parts[2:]])
            message = f"{where}: {message}"
        key = prefix + ("name" if parts[0] == "name" else "blocks")
        out[key] = f"{out[key]} {message}" if key in out else message
    return out


def _used(campaigns: list[str]) -> str:
    if not campaigns:
        return "Not used by any campaign yet"
    return f"Used by {wording.plural(len(campaigns), 'campaign')}: {', '.join(campaigns)}"
