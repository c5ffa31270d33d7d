"""Shared blocks (partials): stored on the workspace by name, put into a block email where it names them when
it is rendered (so a change reaches emails already scheduled), refused when they would nest or are unknown,
and kept while a campaign uses them."""

import pytest

from humanic_app.models import CampaignStatus
from humanic_app.services import composing, workspace
from humanic_app.services.campaigns import store
from humanic_app.services.campaigns.preview import render_preview
from humanic_app.services.design import partials
from humanic_app.services.errors import Conflict, NotFound, ValidationFailed

SIGNATURE = [
    {"type": "divider"},
    {"type": "paragraph", "markdown": "Ada, founder of **Orbit** · [orbit.io](https://orbit.io)"},
]
DOCUMENT = {
    "name": "Signed",
    "trigger": {"event": "user_signed_up"},
    "steps": [
        {
            "subject": "Hi",
            "blocks": [{"type": "heading", "text": "Hello {{ name }}"}, {"type": "partial", "name": "signature"}],
        }
    ],
}


def _compose(session, blocks):
    ws = workspace.get_workspace(session=session)
    ws.physical_address = "1 Main St"
    return composing.compose(
        subject="Hi",
        html=None,
        blocks=blocks,
        text=None,
        variables={"name": "Bo"},
        ws=ws,
        unsubscribe_url="https://u/x",
    )


def test_a_partial_is_put_in_where_the_email_names_it_and_a_change_reaches_the_next_render(session):
    partials.save(session=session, name="signature", blocks=SIGNATURE)
    first = _compose(session, DOCUMENT["steps"][0]["blocks"])
    assert "founder of <strong>Orbit</strong>" in first.html and "Hello Bo" in first.html
    assert first.html.index("Hello Bo") < first.html.index("founder of")
    assert "Ada, founder of Orbit" in first.text
    partials.save(session=session, name="signature", blocks=[{"type": "paragraph", "markdown": "The Orbit team"}])
    second = _compose(session, DOCUMENT["steps"][0]["blocks"])  # the compiled cache is keyed by the partials too
    assert "The Orbit team" in second.html and "founder" not in second.html


def test_an_unknown_partial_fails_its_render_in_plain_words_in_the_preview(session):
    ws = workspace.get_workspace(session=session)
    shown = render_preview(ws=ws, document=DOCUMENT, step=0, variables={})
    assert shown["error"] == (
        "Step 1 cannot be rendered: there is no shared block named 'signature' (Settings → Brand → Shared blocks)."
    )


@pytest.mark.parametrize(
    ("name", "blocks", "field"),
    [
        ("Signature", SIGNATURE, "name"),
        ("", SIGNATURE, "name"),
        ("signature", [], "blocks"),
        ("signature", [{"type": "partial", "name": "other"}], "blocks.0"),
        ("signature", [{"type": "button", "label": "Go", "url": "/relative"}], "blocks.0.url"),
        ("signature", [{"type": "video"}], "blocks.0"),
    ],
)
def test_refusals_name_their_field(session, name, blocks, field):
    with pytest.raises(ValidationFailed) as refused:
        partials.save(session=session, name=name, blocks=blocks)
    assert field in refused.value.field_errors, refused.value.field_errors


def test_a_partial_in_use_is_kept_until_no_campaign_uses_it(session):
    partials.save(session=session, name="signature", blocks=SIGNATURE)
    campaign = store.create_campaign(session=session, document=DOCUMENT)
    session.flush()
    assert partials.users(session=session, name="signature") == ["Signed"]
    with pytest.raises(Conflict, match="'signature' is used by 1 campaign: Signed"):
        partials.delete(session=session, name="signature")
    store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.archived)
    session.flush()
    partials.delete(session=session, name="signature")
    assert partials.listed(session=session) == {}
    with pytest.raises(NotFound):
        partials.delete(session=session, name="signature")


def test_columns_take_the_kinds_the_builder_offers_in_them_and_no_shared_block():
    from pydantic import TypeAdapter, ValidationError

    from humanic_app.services.design.blocks import COLUMN_KINDS, ColumnBlock

    samples = {
        "heading": {"type": "heading", "text": "H"},
        "paragraph": {"type": "paragraph", "markdown": "P"},
        "button": {"type": "button", "label": "B", "url": "https://a.io"},
        "image": {"type": "image", "url": "https://a.io/i.png", "alt": "I"},
        "divider": {"type": "divider"},
        "spacer": {"type": "spacer"},
        "html": {"type": "html", "html": "<b>x</b>"},
    }
    adapter = TypeAdapter(ColumnBlock)
    assert set(COLUMN_KINDS) == set(samples)
    for kind in COLUMN_KINDS:
        adapter.validate_python(samples[kind])
    with pytest.raises(ValidationError):
        adapter.validate_python({"type": "partial", "name": "signature"})
