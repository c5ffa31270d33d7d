"""The builder's form of a journey is the document: every ready-made campaign goes into the form and back to the
same canonical document (a linear one keeps its id-less steps; a journey's nodes all carry ids)."""

import dataclasses

import pytest

from humanic_app.services.campaigns import library
from humanic_app.services.campaigns.schema import document_as_dict, validate_document
from humanic_app.services.errors import ValidationFailed
from humanic_app.state import journey_form as form


def _through_the_form(document: dict) -> dict:
    rows = [form.node_row(step) for step in document["steps"]]
    rows = form.with_ids(rows) if form.is_journey(rows) else rows
    return document_as_dict(validate_document({**document, "steps": [form.node_dict(row) for row in rows]}))


@pytest.mark.parametrize("slug", sorted(library.templates()))
def test_ready_made_campaigns_round_trip(slug):
    canonical = document_as_dict(validate_document(library.templates()[slug]))
    back = _through_the_form(canonical)
    assert [{k: v for k, v in s.items() if k not in ("id", "delay")} for s in back["steps"]] == [
        {k: v for k, v in s.items() if k not in ("id", "delay")} for s in canonical["steps"]
    ]
    assert [str(s.get("delay", "")) for s in back["steps"]] == [str(s.get("delay", "")) for s in canonical["steps"]]


def test_labels_name_nodes_as_validation_does():
    rows = [
        form.node_row({"subject": "Hi", "html": "<p>x</p>"}),
        form.node_row({"type": "wait_for", "event": "checkout_completed", "timeout": "24h"}),
        form.new_node("exit", "done"),
    ]
    assert form.labels(rows) == ['Step 1 (email "Hi")', "Step 2 (wait for checkout_completed)", "Step 3 (exit)"]


def test_a_wait_with_a_window_on_weekdays():
    row = form.node_row({"type": "wait", "until": {"between": ["09:00", "17:00"], "days": ["mon", "tue"]}})
    assert (row.until, row.until_start, row.until_end, row.days) == ("between", "09:00", "17:00", "mon, tue")
    assert form.node_dict(row) == {"type": "wait", "until": {"between": ["09:00", "17:00"], "days": ["mon", "tue"]}}


def test_a_window_that_ends_when_it_starts_is_refused_on_its_to_field():
    row = form.node_row({"type": "wait", "until": {"between": ["09:00", "09:00"]}})
    document = {"name": "J", "trigger": {"event": "e"}, "steps": [form.node_dict(row), {"subject": "a", "html": "b"}]}
    with pytest.raises(ValidationFailed) as caught:
        validate_document(document)
    assert [form.form_field(loc) for loc in caught.value.field_errors] == ["steps.0.until_end"]


def test_a_removed_node_is_no_longer_a_target():
    rows = form.unlink([form.node_row({"type": "branch", "paths": [{"when": [{"did": "x"}], "then": "gone"}]})], "gone")
    assert rows[0].paths[0].then == form.BELOW


def test_a_did_condition_keeps_its_property_filters_through_the_builder():
    """The builder edits a did-condition's event, not its filters; saving from it must not drop them."""
    document = library.templates()["onboarding-activation"]
    steps = [dict(step) for step in document["steps"]]
    branch = next(step for step in steps if step.get("type") == "branch")
    branch["paths"] = [
        {
            **branch["paths"][0],
            "when": [{"did": "dashboard_created", "where": [{"property": "shared", "op": "eq", "value": True}]}],
        }
    ]
    canonical = document_as_dict(validate_document({**document, "steps": steps}))
    back = _through_the_form(canonical)
    kept = next(step for step in back["steps"] if step.get("type") == "branch")
    assert kept["paths"][0]["when"][0]["where"] == [{"property": "shared", "op": "eq", "value": True}]


def test_an_email_of_blocks_keeps_its_blocks_through_the_builder():
    blocks = [{"type": "heading", "text": "Hi"}, {"type": "button", "label": "Go", "url": "https://acme.io"}]
    document = {"name": "Blocks", "trigger": {"event": "signed_up"}, "steps": [{"subject": "Hi", "blocks": blocks}]}
    canonical = document_as_dict(validate_document(document))
    back = _through_the_form(canonical)["steps"][0]
    assert back["blocks"] == canonical["steps"][0]["blocks"] and "html" not in back


def test_every_block_kind_round_trips_through_the_form_fields():
    blocks = [
        {"type": "heading", "text": "Hi {{ name }}", "level": 2, "align": "center"},
        {"type": "paragraph", "markdown": "**Bold** and [a link](https://acme.io)"},
        {"type": "button", "label": "Go", "url": "https://acme.io", "colour": "#1a73e8"},
        {"type": "image", "url": "https://acme.io/a.png", "alt": "A chart", "width": 300, "link": "https://acme.io"},
        {"type": "divider"},
        {"type": "spacer", "height": 40},
        {"type": "columns", "columns": [[{"type": "paragraph", "markdown": "L"}], [{"type": "divider"}]]},
        {"type": "html", "html": "<p>raw</p>"},
    ]
    document = {"name": "Blocks", "trigger": {"event": "signed_up"}, "steps": [{"subject": "Hi", "blocks": blocks}]}
    canonical = document_as_dict(validate_document(document))
    row = form.node_row(canonical["steps"][0])
    assert row.mode == "blocks" and [b.kind for b in row.blocks] == [b["type"] for b in blocks]
    assert row.blocks[3].width == "300" and row.blocks[0].level == "2"
    assert _through_the_form(canonical)["steps"][0]["blocks"] == canonical["steps"][0]["blocks"]


def test_a_block_field_typed_wrong_is_refused_at_that_field():
    row = form.node_row({"subject": "Hi", "blocks": [{"type": "heading", "text": "Hi"}]})
    image = dataclasses.replace(form.new_block("image"), url="/relative.png")
    spacer = dataclasses.replace(form.new_block("spacer"), height="tall")
    step = form.node_dict(dataclasses.replace(row, blocks=[*row.blocks, image, spacer]))
    with pytest.raises(ValidationFailed) as refused:
        validate_document({"name": "B", "trigger": {"event": "e"}, "steps": [step]})
    assert set(refused.value.field_errors) == {
        "steps.0.blocks.1.url",
        "steps.0.blocks.1.alt",
        "steps.0.blocks.2.height",
    }


def test_switching_an_html_email_to_blocks_keeps_its_html_as_a_block_and_back():
    row = form.node_row({"subject": "Hi", "html": "<p>Hand-written</p>"})
    assert row.mode == "html"
    blocks = form.with_mode(row, "blocks")
    assert form.node_dict(blocks)["blocks"] == [{"type": "html", "html": "<p>Hand-written</p>"}]
    back = form.node_dict(form.with_mode(blocks, "html"))
    assert back["html"] == "<p>Hand-written</p>" and "blocks" not in back


def test_an_empty_email_switched_to_blocks_gets_a_starting_point_that_validates():
    row = form.with_mode(form.node_row({"subject": "Hi"}), "blocks")
    assert [b.kind for b in row.blocks] == ["heading", "paragraph", "button"]
    validate_document({"name": "B", "trigger": {"event": "e"}, "steps": [form.node_dict(row)]})


def test_a_new_email_starts_as_blocks_that_need_only_a_subject():
    added = form.new_node("email", "")
    blank = form.node_row(form.blank_email())
    assert added.mode == blank.mode == "blocks" and added.blocks == blank.blocks == form.starting_blocks()
    step = {**form.node_dict(added), "subject": "Hi"}
    validate_document({"name": "B", "trigger": {"event": "e"}, "steps": [step]})


def _columns_row() -> form.BlockRow:
    block = {"type": "columns", "columns": [[{"type": "paragraph", "markdown": "L", "align": "center"}], []]}
    return form.block_row(block)


def test_a_two_column_block_is_edited_in_place_through_its_address():
    row = _columns_row()
    assert [[b.markdown for b in col] for col in row.columns] == [["L"], []]
    edited = form.edit_blocks(
        [row], "0.columns.0.0", lambda held, k: [dataclasses.replace(held[k], markdown="Left **text**")]
    )
    added = form.edit_blocks(edited, "0.columns.1.0", lambda held, k: [*held, form.new_block("button")])
    assert form.block_dict(added[0]) == {
        "type": "columns",
        "columns": [
            [{"type": "paragraph", "markdown": "Left **text**", "align": "center"}],
            [{"type": "button", "label": "", "url": ""}],
        ],
    }
    assert form.block_at(added, "0.columns.1.0") == form.new_block("button")
    assert form.block_at(added, "0.columns.1.1") is None


@pytest.mark.parametrize("at", ["1", "0.columns.2.0", "0.columns.0.5", "0.rows.0.0", "x", "0.columns.0"])
def test_a_block_address_that_is_not_there_changes_nothing(at):
    blocks = [_columns_row()]
    assert form.edit_blocks(blocks, at, lambda held, k: []) == blocks


def test_a_new_two_column_block_holds_a_paragraph_in_each_column_and_validates():
    step = {"subject": "Hi", "blocks": [form.block_dict(form.new_block("columns"))]}
    document = {"name": "Cols", "trigger": {"event": "e"}, "steps": [step]}
    assert validate_document(document).steps[0].blocks[0].columns[1][0].markdown == "Right"


def test_an_in_cohort_condition_goes_through_the_builder_unchanged():
    """The builder shows an in_cohort condition as the cohort kind; saving from it keeps the cohort."""
    node = {"type": "branch", "paths": [{"when": [{"in_cohort": "Power users"}], "then": "done"}]}
    row = form.node_row(node)
    assert (row.paths[0].conditions[0].kind, row.paths[0].conditions[0].cohort) == ("cohort", "Power users")
    assert form.node_dict(row)["paths"][0]["when"] == [{"in_cohort": "Power users"}]
