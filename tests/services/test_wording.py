"""Counts and refusals read in the UI's words."""

import pytest

from humanic_app.services import wording


@pytest.mark.parametrize(("count", "said"), [(0, "0 emails"), (1, "1 email"), (6, "6 emails")])
def test_plural(count, said):
    assert wording.plural(count, "email") == said


@pytest.mark.parametrize(
    ("loc", "named"),
    [
        ("steps.0.html", "Step 1 · HTML"),
        ("steps.3.subject", "Step 4 · Subject"),
        ("steps", "Emails"),
        ("trigger.where.1.op", "Condition 2 · operator"),
        ("trigger.event", "Trigger event"),
        ("name", "Name"),
        ("steps.0.blocks.2.url", "Step 1 · Block 3 · URL"),
        ("steps.1.blocks.0.columns.1.0.label", "Step 2 · Block 1 · Column 2 · Block 1 · Label"),
        ("steps.1.blocks.4", "Step 2 · Block 5"),
    ],
)
def test_campaign_fields_are_named_and_numbered_as_the_builder_shows_them(loc, named):
    assert wording.campaign_field(loc) == named


def test_pydantic_phrasing_becomes_the_uis():
    assert wording.message("String should have at least 1 character") == "Required."
    assert wording.message("String should match pattern '^#(?:[0-9a-fA-F]{3}){1,2}$'") == "Use a colour like #1a5fd0."
    assert wording.message("String should have at most 200 characters") == "Keep it to 200 characters or fewer."
    assert wording.message("line 4: unexpected '}'") == "Line 4: unexpected '}'"
