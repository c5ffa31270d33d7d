"""The mapping editor never drops what was typed: a line that is not `name = path` is refused with its number."""

import pytest

from humanic_app.services.errors import ValidationFailed
from humanic_app.state import integrations


def test_a_malformed_variables_line_is_refused_at_the_variables_box_not_dropped():
    form = {"variables": "company = person.properties.company\n\nbad line without equals"}
    with pytest.raises(ValidationFailed) as refused:
        integrations._mapping_from(form)
    assert set(refused.value.field_errors) == {"variables"}
    assert "Line 3 (“bad line without equals”) is not name = path." in refused.value.field_errors["variables"]


def test_well_formed_lines_and_blank_ones_make_the_variables():
    form = {"variables": "company = person.properties.company\n\n plan=event.properties.plan "}
    assert integrations._mapping_from(form) == {
        "variables": {"company": "person.properties.company", "plan": "event.properties.plan"}
    }


def test_each_variables_refusal_names_its_variable_under_the_variables_box():
    errors = integrations._mapping_errors(
        ValidationFailed({"variables.9x": "Variable names use letters.", "email": "Use a dot-path."})
    )
    assert errors == {"variables": "9x: Variable names use letters.", "email": "Use a dot-path."}


def test_the_preview_does_not_predict_a_new_contact_for_an_event_still_being_processed():
    import types

    pending = types.SimpleNamespace(outcome=types.SimpleNamespace(value="pending"))
    assert integrations._match_text(None, pending, mapped=None) == "being processed…"
