"""The design gallery of the campaign builder: the ready-made designs (services/campaigns/designs.py), each
rendered as it would be sent in this workspace's brand, and the one chosen put in an email step."""

from __future__ import annotations

import dataclasses

import reflex as rx

from humanic_app.services import workspace
from humanic_app.services.campaigns import designs, preview
from humanic_app.state import journey_form as form
from humanic_app.state.auth import signed_in
from humanic_app.state.campaigns import CampaignsState

# What a design's preview says in place of an event's values: a first name, as most events carry one.
SAMPLE_VARIABLES = {"name": "Ada", "first_name": "Ada", "email": "ada@example.com"}


@dataclasses.dataclass(frozen=True)
class DesignCard:
    slug: str
    name: str
    purpose: str
    subject: str  # as rendered for the sample
    html: str  # the whole email as it would be sent, for the card's frame


class DesignGalleryState(CampaignsState):
    design_step: int = -1  # the email step the open gallery fills; -1: closed
    design_cards: list[DesignCard] = []

    @rx.event
    @signed_in
    def open_designs(self, index: int):
        with self._read_call() as session:
            ws = workspace.get_workspace(session=session)
            cards = []
            for found in designs.designs(workspace_name=ws.name):
                shown = preview.render_preview(
                    ws=ws, document=designs.as_document(found), step=0, variables=SAMPLE_VARIABLES
                )
                cards.append(DesignCard(found.slug, found.name, found.purpose, shown["subject"], shown["html"]))
        self.design_cards, self.design_step = cards, index

    @rx.event
    @signed_in
    def close_designs(self, open_: bool = False):
        if not open_:
            self.design_step = -1

    @rx.event
    @signed_in
    def use_design(self, slug: str):
        """The design's subject and blocks in the step (composed with blocks from now on)."""
        index = self.design_step
        if not 0 <= index < len(self.nodes) or self.nodes[index].kind != "email":
            self.design_step = -1
            return
        with self._read_call() as session:
            chosen = designs.design(slug=slug, workspace_name=workspace.get_workspace(session=session).name)
        rows = list(self.nodes)
        rows[index] = dataclasses.replace(
            form.with_mode(rows[index], "blocks"),
            subject=chosen.subject,
            blocks=[form.block_row(block) for block in chosen.blocks],
            text="",  # generated from the new blocks; an override written for the old ones would not fit
        )
        self.design_step = -1
        self._set_nodes(rows)
        self._follow_edit()
